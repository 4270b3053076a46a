// Where the upstream ggml comes from: a pinned release of the npm package node-llama-cpp, which ships the llama.cpp
// source it was built from as a git bundle (llama/gitRelease.bundle). `npm pack` fetches it with npm alone (no
// install scripts run); the bundle is cloned into a source tree in the cache. A user's own checkout can stand in.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { UsageError } from '../errors.js';

const run = promisify(execFile);

/** The pinned npm package whose bundled llama.cpp source is "upstream". */
export const UPSTREAM_PACKAGE = 'node-llama-cpp';
export const UPSTREAM_VERSION = '3.22.1';

export interface UpstreamSource {
  /** 'npm:node-llama-cpp@3.22.1' or the checkout's absolute path */
  origin: string;
  /** llama.cpp release tag as the package records it ('' for a checkout) */
  tag: string;
  /** git commit of the source tree */
  commit: string;
  /** root of the llama.cpp tree (holds ggml/) */
  dir: string;
}

/** The kbench cache: $KBENCH_CACHE, else $XDG_CACHE_HOME/kbench, else ~/.cache/kbench. */
export function cacheDir(): string {
  if (process.env.KBENCH_CACHE) return resolve(process.env.KBENCH_CACHE);
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kbench');
}

function packageDir(version: string): string {
  return join(cacheDir(), 'upstream', `${UPSTREAM_PACKAGE}-${version}`);
}

function manifestPath(version: string): string {
  return join(packageDir(version), 'upstream.json');
}

/** The fetched pinned source, or null when `kbench upstream fetch` has not run. */
export function fetchedUpstream(version = UPSTREAM_VERSION): UpstreamSource | null {
  const path = manifestPath(version);
  if (!existsSync(path)) return null;
  const m = JSON.parse(readFileSync(path, 'utf8')) as UpstreamSource;
  return existsSync(join(m.dir, 'ggml', 'include', 'ggml.h')) ? m : null;
}

export interface FetchOptions {
  version?: string;
  /** progress lines (the CLI prints them; nothing else here prints) */
  log?: (line: string) => void;
}

/**
 * npm pack node-llama-cpp@<version> into the cache, extract its llama/ folder and clone the git bundle into a
 * source tree. Idempotent: a completed fetch is returned as is.
 */
export async function fetchUpstream(opts: FetchOptions = {}): Promise<UpstreamSource> {
  const version = opts.version ?? UPSTREAM_VERSION;
  const log = opts.log ?? (() => {});
  const done = fetchedUpstream(version);
  if (done) return done;
  const dir = packageDir(version);
  const work = join(dir, 'work');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  log(`npm pack ${UPSTREAM_PACKAGE}@${version}`);
  await run('npm', ['pack', `${UPSTREAM_PACKAGE}@${version}`, '--silent', '--pack-destination', work], { cwd: work, maxBuffer: 1 << 24 });
  const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error(`npm pack ${UPSTREAM_PACKAGE}@${version} left no tarball in ${work}`);
  log(`extract ${tgz}`);
  await run('tar', ['xzf', tgz, 'package/llama/gitRelease.bundle', 'package/llama/llama.cpp.info.json'], { cwd: work });
  const info = JSON.parse(readFileSync(join(work, 'package/llama/llama.cpp.info.json'), 'utf8')) as { tag?: string };
  const src = join(dir, 'src');
  rmSync(src, { recursive: true, force: true });
  log('git clone the bundled llama.cpp source');
  await run('git', ['clone', '--quiet', join(work, 'package/llama/gitRelease.bundle'), join(work, 'src')], { maxBuffer: 1 << 24 });
  const { stdout } = await run('git', ['-C', join(work, 'src'), 'rev-parse', 'HEAD']);
  renameSync(join(work, 'src'), src);
  rmSync(work, { recursive: true, force: true });
  const source: UpstreamSource = { origin: `npm:${UPSTREAM_PACKAGE}@${version}`, tag: info.tag ?? '', commit: stdout.trim(), dir: src };
  writeFileSync(manifestPath(version), JSON.stringify(source, null, 2) + '\n');
  return source;
}

/** A user's llama.cpp (or ggml) checkout: the folder that holds ggml/include/ggml.h (or include/ggml.h). */
export async function checkoutUpstream(path: string): Promise<UpstreamSource> {
  const dir = resolve(path.replace(/^~(?=\/|$)/, homedir()));
  if (!existsSync(join(dir, 'ggml', 'include', 'ggml.h'))) throw new UsageError(`${path}: not a llama.cpp checkout (no ggml/include/ggml.h)`);
  let commit = 'unknown';
  try {
    commit = (await run('git', ['-C', dir, 'rev-parse', 'HEAD'])).stdout.trim();
    const dirty = (await run('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=no'])).stdout.trim();
    if (dirty) commit += '-dirty';
  } catch {
    /* not a git tree: cached under 'unknown' */
  }
  return { origin: dir, tag: '', commit, dir };
}

/** The pinned source when `spec` is undefined or true, else the checkout at `spec`. */
export async function resolveUpstream(spec?: string | boolean, opts: FetchOptions = {}): Promise<UpstreamSource> {
  if (typeof spec === 'string' && spec !== '') return checkoutUpstream(spec);
  return fetchUpstream(opts);
}

/** The prebuilt ggml CPU backend node-llama-cpp ships for this platform, from the same release as the source. */
export interface PrebuiltGgml {
  /** '@node-llama-cpp/linux-x64@3.22.1' */
  origin: string;
  /** folder holding libggml-base.so and the libggml-cpu-<level>.so variants */
  dir: string;
  /** the CPU variant kbench links: haswell = AVX2+FMA+F16C, the instruction sets of kbench's x86 builds */
  cpuLib: string;
  baseLib: string;
  variant: string;
}

/** The npm package with prebuilt binaries for this platform, or null where node-llama-cpp ships none kbench uses. */
export function prebuiltPackage(platform = process.platform, machine = process.arch): { name: string; variant: string } | null {
  if (platform === 'linux' && machine === 'x64') return { name: '@node-llama-cpp/linux-x64', variant: 'haswell' };
  return null;
}

/**
 * npm pack the platform's @node-llama-cpp binaries of the pinned version and extract the ggml libraries: a ggml
 * CPU backend with npm alone (no cmake). Idempotent.
 */
export async function fetchPrebuilt(opts: FetchOptions = {}): Promise<PrebuiltGgml> {
  const version = opts.version ?? UPSTREAM_VERSION;
  const log = opts.log ?? (() => {});
  const pkg = prebuiltPackage();
  if (!pkg) throw new UsageError(`node-llama-cpp ships no prebuilt ggml CPU backend kbench can use on ${process.platform}-${process.arch}; build one from source (kbench upstream build)`);
  const root = join(cacheDir(), 'upstream', `prebuilt-${pkg.name.replace(/[@/]/g, '_')}-${version}`);
  const bins = join(root, 'package', 'bins', `${process.platform}-${process.arch}`);
  const result: PrebuiltGgml = {
    origin: `${pkg.name}@${version}`,
    dir: bins,
    cpuLib: join(bins, `libggml-cpu-${pkg.variant}.so`),
    baseLib: join(bins, 'libggml-base.so'),
    variant: pkg.variant,
  };
  if (existsSync(result.cpuLib) && existsSync(result.baseLib)) return result;
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  log(`npm pack ${pkg.name}@${version}`);
  await run('npm', ['pack', `${pkg.name}@${version}`, '--silent', '--pack-destination', root], { cwd: root, maxBuffer: 1 << 24 });
  const tgz = readdirSync(root).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error(`npm pack ${pkg.name}@${version} left no tarball in ${root}`);
  await run('tar', ['xzf', tgz], { cwd: root });
  rmSync(join(root, tgz), { force: true });
  if (!existsSync(result.cpuLib)) throw new Error(`${pkg.name}@${version} has no ${result.cpuLib}`);
  return result;
}
