// A runner that judges candidates by a marker in their source, for tests about the loop and its limits
// (the real stages are exercised in agent-loop.test.ts).
import type { CandidateSource, ExperimentRunner } from '../../src/agent/runner.js';
import type { TargetResult } from '../../src/ledger/records.js';
import type { Kernel } from '../../src/spec/suite.js';
import type { HostConfig } from '../../src/config/config.js';

function result(kernel: Kernel, c: CandidateSource, target: string, speedup: number | null): TargetResult {
  const speed =
    speedup === null
      ? []
      : kernel.spec.shapes.bench.map((s, i) => ({
          shape: s.name ?? `shape ${i}`,
          ratios: [speedup],
          baselineNs: [1000],
          candidateNs: [1000 / speedup],
          speedup: { estimate: speedup, lo: speedup * 0.95, hi: speedup * 1.05, level: 0.95 },
          verdict: speedup > 1.05 ? ('faster' as const) : speedup < 0.95 ? ('slower' as const) : ('no-change' as const),
          noiseFloor: 0.02,
          callsPerSample: 1,
          candidateMedianNs: 1000 / speedup,
          baselineMedianNs: 1000,
          gbps: 1,
          gflops: 1,
        }));
  return {
    kernel: kernel.name,
    candidate: c.name,
    target,
    arch: target === 'wasm' ? 'wasm32' : 'x86_64',
    toolchain: 'fake',
    sourceSha256: '0'.repeat(64),
    check: speedup === null ? { status: 'compile-error', diagnostic: 'fake.c:1:1: error: marked broken' } : { status: 'pass', calls: 1 },
    speed,
    elapsedMs: 1800_000,
  };
}

/** `FAST` in the source → 1.5× everywhere; `BROKEN` → compile error; anything else → 1.0×. */
export function fakeRunner(log: string[] = []): ExperimentRunner {
  const judge = (c: CandidateSource) => (c.source.includes('BROKEN') ? null : c.source.includes('FAST') ? 1.5 : 1.0);
  return {
    screen: async (kernel, c) => (log.push(`screen ${c.name}`), result(kernel, c, 'wasm', judge(c))),
    confirm: async (kernel, c, hosts: HostConfig[]) => (log.push(`confirm ${c.name}`), hosts.map((h) => result(kernel, c, h.name, judge(c)))),
    close: async () => undefined,
  };
}
