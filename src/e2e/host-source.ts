// The llama.cpp source an end-to-end build uses, as a tree on the host that builds it. On this machine: the pinned
// npm source or a checkout, resolved as `kbench run --upstream` does. On an ssh host: a checkout already there
// (--upstream DIR or "ggml" of kbench.config.json, a path on that host), or the pinned source shipped once per
// commit into the host's cache (without its git history, docs and vocabulary models, which the build never reads).
import { readdirSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { fetchUpstream, resolveUpstream, type UpstreamSource } from '../upstream/source.js';
import { hostPath, q, runOn, shipOnce, type E2eHost } from './host.js';

const NOT_SHIPPED = new Set(['.git', 'models', 'docs']);

export async function upstreamOnHost(h: E2eHost, spec: string | true | undefined, log: (line: string) => void = () => {}): Promise<UpstreamSource> {
  if (h.local) return resolveUpstream(spec, { log });
  if (typeof spec === 'string' && spec !== '') return checkoutOnHost(h, spec);
  const pinned = await fetchUpstream({ log });
  const dest = hostPath(h.root, 'src', pinned.commit);
  log(`ship llama.cpp ${pinned.commit.slice(0, 12)} to ${h.config.name} (once per commit)`);
  await shipOnce(h, pinned.dir, readdirSync(pinned.dir).filter((e) => !NOT_SHIPPED.has(e)), dest, 'ggml/include/ggml.h');
  return { ...pinned, dir: dest };
}

/** A llama.cpp checkout on the host: its absolute path and commit (with -dirty when its tracked files changed). */
async function checkoutOnHost(h: E2eHost, path: string): Promise<UpstreamSource> {
  const script = [
    `p=${q(path)}`,
    'case "$p" in "~/"*) p="$HOME/${p#"~/"}" ;; esac',
    'test -f "$p/ggml/include/ggml.h" || exit 3',
    'cd "$p" && pwd -P',
    'c=$(git rev-parse HEAD 2>/dev/null) || c=unknown',
    'if [ "$c" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then c="$c-dirty"; fi',
    'echo "$c"',
  ].join('\n');
  const r = await runOn(h, script, { timeoutMs: 120_000 });
  if (r.exitCode === 3) throw new UsageError(`--upstream ${path}: not a llama.cpp checkout on host '${h.config.name}' (no ggml/include/ggml.h)`);
  if (r.exitCode !== 0) throw new UsageError(`--upstream ${path}: cannot be read on host '${h.config.name}': ${r.stderr.trim()}`);
  const [dir, commit] = r.stdout.trim().split('\n');
  return { origin: `host:${dir}`, tag: '', commit, dir };
}
