// Two hosts of one arch: by default they share the survivors (each runs on one of them, and sharedArchHosts says
// which hosts share); with everyHost each survivor runs on each host.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostConfig } from '../../src/config/config.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { LEDGER_SCHEMA, type TargetResult } from '../../src/ledger/records.js';
import { promote, sharedArchHosts } from '../../src/remote/promote.js';
import { BUILTIN_KERNELS_DIR, findKernel } from '../../src/spec/suite.js';
import { hasCommand, missing } from '../helpers/require.js';

const kernel = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm');
const FAST = { trials: 1, pairs: 9, processes: 1, skipTiming: true };
const hosts = [HostConfig.parse({ name: 'local', executor: 'local', arch: 'x86_64' }), HostConfig.parse({ name: 'twin', executor: 'local', arch: 'x86_64' })];

/** A screen run with two survivors, as `kbench screen` leaves it. */
function screenRun(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kbench-run-'));
  const ledger = new Ledger(dir);
  ledger.append({ type: 'run-start', schema: LEDGER_SCHEMA, kind: 'screen', id: 'test', at: new Date().toISOString() });
  for (const name of ['a', 'b']) {
    ledger.writeFile(`sources/rms_norm/${name}.c`, readFileSync(kernel.baselinePath));
    const speedup = { estimate: 1.2, lo: 1.1, hi: 1.3, level: 0.95 };
    const result = {
      kernel: 'rms_norm', candidate: name, target: 'wasm', arch: 'wasm32', toolchain: 'test', sourceSha256: '0', check: { status: 'pass', calls: 1 }, elapsedMs: 1,
      speed: [{ shape: 'decode 1x4096', ratios: [], baselineNs: [], candidateNs: [], speedup, verdict: 'faster', noiseFloor: 0.02, callsPerSample: 1, candidateMedianNs: 1, baselineMedianNs: 1, gbps: 1, gflops: 1 }],
    } as unknown as TargetResult;
    ledger.append({ type: 'result', at: new Date().toISOString(), result });
  }
  return dir;
}

describe('promote to two hosts of one arch', () => {
  it('names the hosts that share an arch', () => {
    expect([...sharedArchHosts(hosts)]).toEqual([['x86_64', ['local', 'twin']]]);
    expect([...sharedArchHosts([hosts[0], HostConfig.parse({ name: 'q', executor: 'qemu-aarch64', arch: 'aarch64' })])]).toEqual([]);
  });

  it.skipIf(missing('a C compiler (cc)', hasCommand('cc')))('runs each survivor once by default, and on every host with everyHost', async () => {
    const shared = await promote(screenRun(), hosts, { kernelsDir: BUILTIN_KERNELS_DIR, native: FAST });
    expect(shared.results.map((r) => r.candidate).sort()).toEqual(['a', 'b']);
    const every = await promote(screenRun(), hosts, { kernelsDir: BUILTIN_KERNELS_DIR, native: FAST, everyHost: true });
    expect(every.results.map((r) => `${r.candidate}@${r.target}`).sort()).toEqual(['a@local', 'a@twin', 'b@local', 'b@twin']);
    expect(every.results.every((r) => r.check.status === 'pass')).toBe(true);
  }, 180_000);
});
