// The ssh executor against a real OpenSSH server on 127.0.0.1, started by this test with keys made per run and
// reached through an ssh_config alias (-F): promotion end to end, a connection dropped mid-run (host-failed, then
// the retry on another host of the same arch), a wrong host key, a refused login, and a clean stop on abort.
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostConfig } from '../../src/config/config.js';
import { Ledger, readLedger } from '../../src/ledger/ledger.js';
import { LEDGER_SCHEMA, type TargetResult } from '../../src/ledger/records.js';
import { runNative } from '../../src/remote/native.js';
import { probeHost } from '../../src/remote/probe.js';
import { createExecutor } from '../../src/remote/native.js';
import { promote, type PromoteEvent } from '../../src/remote/promote.js';
import { BUILTIN_KERNELS_DIR, findKernel } from '../../src/spec/suite.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { hasCommand, missing } from '../helpers/require.js';
// @ts-expect-error plain JS helper shared with scripts/bench-native.mjs
import { SSHD, startSshd } from '../fixtures/native/sshd.mjs';

type Sshd = { configFile: string; killConnections(): void; stop(): Promise<void> };
const FAST = { trials: 1, pairs: 9, processes: 1 };
const kernel = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm');

/** A screen run folder as `kbench screen` leaves it: WASM results and the sources as screened. */
function screenRun(entries: { name: string; path: string; wasmSpeedup: number; pass?: boolean }[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'kbench-run-'));
  const ledger = new Ledger(dir);
  ledger.append({ type: 'run-start', schema: LEDGER_SCHEMA, kind: 'screen', id: 'test', at: new Date().toISOString() });
  for (const e of entries) {
    ledger.writeFile(`sources/rms_norm/${e.name}.c`, readFileSync(e.path));
    const speedup = { estimate: e.wasmSpeedup, lo: e.wasmSpeedup * 0.98, hi: e.wasmSpeedup * 1.02, level: 0.95 };
    const result: TargetResult = {
      kernel: 'rms_norm',
      candidate: e.name,
      target: 'wasm',
      arch: 'wasm32',
      toolchain: 'test',
      sourceSha256: '0',
      check: e.pass === false ? { status: 'wrong', buffer: 'y', index: 0, got: 0, expected: 1, nmse: 1, reason: 'test', shape: 'n=1 rows=1', distribution: 'uniform' } : { status: 'pass', calls: 1 },
      speed: e.pass === false ? [] : [{ shape: 'decode 1x4096', ratios: [], baselineNs: [], candidateNs: [], speedup, verdict: 'faster', noiseFloor: 0.02, callsPerSample: 1, candidateMedianNs: 1, baselineMedianNs: 1, gbps: 1, gflops: 1 }],
      elapsedMs: 1,
    };
    ledger.append({ type: 'result', at: new Date().toISOString(), result });
  }
  return dir;
}

/** Command lines of the processes whose working directory is (or was, before removal) under `dir`, or of every process. */
function processesUnder(dir = ''): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        return readlinkSync(`/proc/${p}/cwd`).startsWith(dir) ? [readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ')] : [];
      } catch {
        return [];
      }
    });
}

describe.skipIf(missing('OpenSSH server and client (sshd, ssh)', existsSync(SSHD) && hasCommand('ssh') && hasCommand('ssh-keygen')))('ssh executor against a real sshd', () => {
  let server: Sshd;
  let remoteDir: string;
  const host = (alias: string, name = 'x86a') => HostConfig.parse({ name, executor: 'ssh', ssh: alias, arch: 'x86_64', sshConfig: server.configFile, remoteDir, connectTimeoutS: 5 });
  const local = HostConfig.parse({ name: 'local', executor: 'local', arch: 'x86_64' });

  beforeAll(async () => {
    server = await startSshd();
    remoteDir = mkdtempSync(join(tmpdir(), 'kbench-remote-'));
  });
  afterAll(async () => {
    await server?.stop();
    if (remoteDir) rmSync(remoteDir, { recursive: true, force: true });
  });

  it('explains a wrong host key and a refused login instead of failing vaguely', async () => {
    const badKey = await probeHost(host('kbtest-badkey'));
    expect(badKey).toMatchObject({ reachable: false });
    expect(badKey.error).toMatch(/host key verification failed for 'kbtest-badkey'.*known_hosts/);
    const refused = await probeHost(host('kbtest-nologin'));
    expect(refused.error).toMatch(/login refused by 'kbtest-nologin'.*Permission denied/);
    const [result] = await runNative(kernel, [{ name: 'aa', path: kernel.baselinePath }], host('kbtest-badkey'), FAST);
    expect(result.hostFailure).toMatch(/host key verification failed/);
    expect(result.check.status).toBe('trap');
  });

  it('checks the host over the alias: compiler, avx2/fma, cores', async () => {
    const probe = await probeHost(host('kbtest'), { full: true });
    expect(probe).toMatchObject({ reachable: true, machine: 'x86_64', missingFeatures: [] });
    expect(probe.compiler).toMatch(/gcc|clang|cc/);
    expect(probe.cores).toBeGreaterThan(0);
  });

  it('promotes the survivors of a screen over ssh and appends each result to the run ledger', async () => {
    const vec4 = kernel.candidates.find((c) => c.name === 'vec4') ?? kernel.candidates[0];
    const runDir = screenRun([
      { name: 'baseline', path: kernel.baselinePath, wasmSpeedup: 1 },
      { name: vec4.name, path: vec4.path, wasmSpeedup: 1.4 },
      { name: 'slowpoke', path: kernel.baselinePath, wasmSpeedup: 0.5 },
      { name: 'broken', path: join(FIXTURES, 'native', 'rms_norm', 'stale_output.c'), wasmSpeedup: 1, pass: false },
    ]);
    const summary = await promote(runDir, [host('kbtest')], { kernelsDir: BUILTIN_KERNELS_DIR, native: FAST });
    expect(summary.results.map((r) => [r.candidate, r.target, r.check.status])).toEqual([[vec4.name, 'x86a', 'pass']]);
    expect(summary.results[0].speed).toHaveLength(kernel.spec.shapes.bench.length);
    expect(summary.rejected.map((r) => r.candidate).sort()).toEqual(['broken', 'slowpoke']);
    const native = readLedger(join(runDir, 'ledger.jsonl')).filter((e) => e.type === 'result' && (e as { result: TargetResult }).result.target === 'x86a');
    expect(native).toHaveLength(1);
    expect(readdirSync(remoteDir)).toEqual([]); // the per-run folder is gone
    rmSync(runDir, { recursive: true, force: true });
  });

  it('marks a host that drops mid-run host-failed and retries once on another host of the same arch', async () => {
    const runDir = screenRun([{ name: 'aa', path: kernel.baselinePath, wasmSpeedup: 1 }]);
    const events: PromoteEvent[] = [];
    const summary = await promote(runDir, [host('kbtest'), local], {
      kernelsDir: BUILTIN_KERNELS_DIR,
      native: FAST,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'stage' && e.host === 'x86a' && e.stage === 'run') server.killConnections();
      },
    });
    expect(summary.results.map((r) => r.target)).toEqual(['x86a', 'local']);
    expect(summary.results[0].hostFailure).toMatch(/connection to 'kbtest' lost/);
    expect(summary.results[1]).toMatchObject({ check: { status: 'pass' } });
    expect(summary.results[1].hostFailure).toBeUndefined();
    expect(events.some((e) => e.type === 'retry' && e.from === 'x86a')).toBe(true);
    const targets = readLedger(join(runDir, 'ledger.jsonl')).flatMap((e) => (e.type === 'result' ? [(e as { result: TargetResult }).result.target] : []));
    expect(targets).toEqual(['wasm', 'x86a', 'local']);
    rmSync(runDir, { recursive: true, force: true });
  });

  // kbench relies on sshd hanging up a session's processes when its connection goes (e2e's cmake builds, llama-bench)
  it('leaves nothing of a cancelled command running on the host', async () => {
    const executor = createExecutor(host('kbtest'));
    const token = `${process.pid}.${Date.now() % 1000}`;
    const running = () => processesUnder().some((cmd) => cmd.includes(`sleep 3${token}`));
    const controller = new AbortController();
    const poll = setInterval(() => running() && (clearInterval(poll), controller.abort()), 10);
    // a child that ignores the closed channel, as a build writing to a file does
    await expect(executor.exec(`sh -c 'sleep 3${token}' > /dev/null`, { timeoutMs: 60_000, signal: controller.signal })).rejects.toThrow(/cancelled/);
    clearInterval(poll);
    await new Promise((r) => setTimeout(r, 1000));
    expect(running()).toBe(false);
    await executor.close();
  });

  it('stops cleanly on abort: nothing left running or lying around on the host', async () => {
    const runDir = screenRun([{ name: 'aa', path: kernel.baselinePath, wasmSpeedup: 1 }]);
    const controller = new AbortController();
    let seenRunning = false;
    const summary = await promote(runDir, [host('kbtest')], {
      kernelsDir: BUILTIN_KERNELS_DIR,
      native: { ...FAST, trials: 2 },
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type !== 'stage' || e.stage !== 'run') return;
        // cancel once the driver itself runs on the host, so there is something to stop
        const poll = setInterval(() => {
          if (!processesUnder(remoteDir).some((cmd) => cmd.includes('.bin plan'))) return;
          seenRunning = true;
          clearInterval(poll);
          controller.abort();
        }, 10);
      },
    });
    expect(seenRunning).toBe(true);
    expect(summary.interrupted).toBe(true);
    expect(summary.results).toEqual([]);
    expect(processesUnder(remoteDir)).toEqual([]);
    expect(readdirSync(remoteDir)).toEqual([]);
    const end = readLedger(join(runDir, 'ledger.jsonl')).at(-1);
    expect(end).toMatchObject({ type: 'promote-end', status: 'interrupted' });
    rmSync(runDir, { recursive: true, force: true });
  });
});
