// `kbench e2e --on <ssh host>` against a real sshd on 127.0.0.1: the pinned source and the generated model are
// shipped, llama.cpp is built on the host, the graft checked and timed there. The host is this machine, and its
// remoteDir is a fixed folder of the kbench cache (test-hosts/ssh-e2e), so only the first run here pays the host's
// cmake build (minutes); the cache keys are the ones a real host gets, and CI starts cold, so there the whole host
// build path runs. A wrong candidate is caught by the logits on the host; a checkout on the host whose function
// moved exits 2 naming host, file and function; an unreachable host is one clear error.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRandomLlamaGguf } from '../../src/e2e/random-model.js';
import type { E2eResult } from '../../src/ledger/records.js';
import { readLedger } from '../../src/ledger/ledger.js';
import { cacheDir, fetchedUpstream, fetchUpstream } from '../../src/upstream/source.js';
import { SSHD, startSshd } from '../fixtures/native/sshd.mjs';
import { CLI, tempDir } from '../helpers/fixtures.js';
import { hasCommand, missing, REQUIRE_ALL } from '../helpers/require.js';

const run = promisify(execFile);
const kbench = (cwd: string, ...args: string[]) => run('node', [CLI, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
const FIXTURES = fileURLToPath(new URL('../fixtures/e2e/', import.meta.url));

const fetchAllowed = Boolean(process.env.CI) || REQUIRE_ALL || fetchedUpstream() !== null;
const why =
  missing('cmake with a C and C++ compiler', hasCommand('cmake') && hasCommand('c++') && hasCommand('cc')) ||
  missing('OpenSSH server and client (sshd, ssh)', existsSync(SSHD) && hasCommand('ssh') && hasCommand('ssh-keygen')) ||
  (fetchAllowed ? '' : 'the pinned upstream is not fetched (run `kbench upstream fetch`, or CI=1 to let the tests fetch it)');

// the first run builds llama.cpp on the host (many minutes on 2 busy cores); later ones find it in the host's cache
describe.skipIf(why)('kbench e2e --on <ssh host>', { timeout: 3_600_000 }, () => {
  const work = tempDir();
  const remoteDir = join(cacheDir(), 'test-hosts', 'ssh-e2e');
  let server: { configFile: string; stop: () => Promise<void> };
  let model = '';
  const small = ['--depth', '0', '--pp', '32', '--tg', '8', '--rounds', '3', '--threads', '1', '--no-share'];

  beforeAll(async () => {
    server = await startSshd();
    mkdirSync(remoteDir, { recursive: true });
    // an alias whose port nothing listens on: a host that is down
    const sshConfig = join(work, 'ssh_config');
    writeFileSync(sshConfig, `${readFileSync(server.configFile, 'utf8')}Host kbtest-down\n  HostName 127.0.0.1\n  Port 9\n  BatchMode yes\n`);
    const host = { executor: 'ssh', arch: 'x86_64', sshConfig, remoteDir, connectTimeoutS: 5 };
    writeFileSync(join(work, 'kbench.config.json'), JSON.stringify({ hosts: [{ name: 'x86a', ssh: 'kbtest', ...host }, { name: 'down', ssh: 'kbtest-down', ...host }] }));
    // a path on the host, which is this machine
    model = writeRandomLlamaGguf(join(work, 'small-llama.gguf'), { layers: 2, embd: 256, heads: 4, ff: 768, ctx: 1024 }).path;
    await fetchUpstream();
  }, 600_000);
  afterAll(async () => server?.stop());

  it('an honest rms_norm candidate: built, checked and timed on the host, with the generated model shipped there', async () => {
    const { stdout } = await kbench(work, '--json', 'e2e', 'rms_norm', '-c', 'unroll_fused', '--on', 'x86a', ...small);
    const out = JSON.parse(stdout) as { dir: string; result: E2eResult };
    const r = out.result;
    expect(r.host).toBe('x86a');
    expect(r.logits.status, r.logits.reason).toBe('agree');
    expect(r.logits.graftCalls).toBeGreaterThan(0);
    expect(r.logits.maxRelDiff).toBeGreaterThan(0);
    expect(r.upstream.origin).toBe('npm:node-llama-cpp@3.22.1');
    // kbench's model, shipped into the host's cache
    expect(r.model.generated).toBe(true);
    expect(r.model.path.startsWith(join(remoteDir, 'kbench-cache', 'e2e', 'models'))).toBe(true);
    expect(r.timing?.status, r.timing?.reason).toBe('timed');
    expect(r.timing!.tests.map((t) => t.label)).toEqual(['pp32 @ d0', 'tg8 @ d0']);
    for (const t of r.timing!.tests) {
      expect(t.referenceNs).toHaveLength(3);
      expect(t.graftNs).toHaveLength(3);
      expect(t.ratio.lo).toBeLessThanOrEqual(t.ratio.estimate);
      expect(t.ratio.hi).toBeGreaterThanOrEqual(t.ratio.estimate);
      expect(['faster', 'slower', 'no-change']).toContain(t.verdict);
      expect(t.summary).toMatch(/CI/);
    }
    // the builds live in the host's remoteDir; its per-run folders are gone
    const cache = join(remoteDir, 'kbench-cache', 'e2e');
    expect(readdirSync(cache).some((d) => existsSync(join(cache, d, 'kbench-e2e.json')))).toBe(true);
    expect(readdirSync(join(cache, 'grafts')).some((d) => existsSync(join(cache, 'grafts', d, 'llama-bench')))).toBe(true);
    expect(readdirSync(remoteDir).filter((d) => d !== 'kbench-cache')).toEqual([]);
    const start = readLedger(join(out.dir, 'ledger.jsonl'))[0];
    expect(start.type === 'run-start' && start.machine).toMatchObject({ host: 'x86a' });
    expect(readFileSync(join(out.dir, 'report.md'), 'utf8')).toContain('## End to end');
  });

  it('a wrong candidate is caught by the logits check on the host (--model: a path there), nothing timed', async () => {
    const { stdout } = await kbench(work, '--json', 'e2e', 'rms_norm', '-c', join(FIXTURES, 'rms_norm_scaled.c'), '--on', 'x86a', '--model', model, ...small);
    const r = (JSON.parse(stdout) as { result: E2eResult }).result;
    expect(r).toMatchObject({ host: 'x86a', candidate: 'rms_norm_scaled', model: { path: model, generated: false }, logits: { status: 'differ' } });
    expect(r.logits.reason).toMatch(/top-1 token differs|max relative logit difference .* exceeded/);
    expect(r.timing).toBeUndefined();
  });

  it('a checkout on the host whose function moved exits 2 naming the host, the file and the function, before any build', async () => {
    const source = fetchedUpstream()!;
    const checkout = join(work, 'llama.cpp');
    const ops = join(checkout, 'ggml', 'src', 'ggml-cpu', 'ops.cpp');
    mkdirSync(join(checkout, 'ggml', 'include'), { recursive: true });
    mkdirSync(join(checkout, 'ggml', 'src', 'ggml-cpu'), { recursive: true });
    copyFileSync(join(source.dir, 'ggml', 'include', 'ggml.h'), join(checkout, 'ggml', 'include', 'ggml.h'));
    writeFileSync(ops, readFileSync(join(source.dir, 'ggml', 'src', 'ggml-cpu', 'ops.cpp'), 'utf8').replace('// TODO: optimize\n', ''));
    await expect(kbench(work, 'e2e', 'rms_norm', '-c', 'unroll_fused', '--on', 'x86a', '--upstream', checkout, '--model', model, ...small)).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(new RegExp(`${ops} on host 'x86a': ggml_compute_forward_rms_norm_f32 differs .*expected sha256 [0-9a-f]{64}, found [0-9a-f]{64}`)),
    });
    await expect(kbench(work, 'e2e', 'rms_norm', '-c', 'unroll_fused', '--on', 'x86a', '--upstream', join(work, 'nowhere'), '--model', model, ...small)).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`not a llama.cpp checkout on host 'x86a'`),
    });
  });

  it('an unreachable host is one clear error naming it (exit 3), not a crash', async () => {
    const failed = await kbench(work, 'e2e', 'rms_norm', '-c', 'unroll_fused', '--on', 'down', '--model', model, ...small).catch((e) => e);
    expect(failed.code).toBe(3);
    expect(failed.stderr).toMatch(/^kbench: e2e on host 'down' failed: connection refused by 'kbtest-down'/);
    expect(failed.stderr).not.toMatch(/\n\s+at /);
  });
});
