// The one builder of results for tests: a TargetResult with a pass and one timed shape per speedup, everything
// else overridable. Times are 1 ns per call unless a test says otherwise.
import { join } from 'node:path';
import { Ledger } from '../../src/ledger/ledger.js';
import type { Arch, TargetResult } from '../../src/ledger/records.js';
import type { SpeedResult, SpeedVerdict } from '../../src/measure/types.js';

/** > 1.05 faster, < 0.95 slower: the verdict a ±5% CI around the estimate gives. */
export function verdictOf(speedup: number): SpeedVerdict {
  return speedup > 1.05 ? 'faster' : speedup < 0.95 ? 'slower' : 'no-change';
}

/** One timed shape `s<i>` with a ±3% CI around `speedup`. */
export function speedResult(speedup: number, i = 0, extra: Partial<SpeedResult> = {}): SpeedResult {
  return {
    shape: `s${i}`,
    ratios: [speedup],
    baselineNs: [1],
    candidateNs: [1 / speedup],
    speedup: { estimate: speedup, lo: speedup * 0.97, hi: speedup * 1.03, level: 0.95 },
    verdict: verdictOf(speedup),
    noiseFloor: 0.02,
    callsPerSample: 1,
    candidateMedianNs: 1,
    baselineMedianNs: 1,
    gbps: 1,
    gflops: 1,
    ...extra,
  };
}

export interface ResultSpec extends Partial<TargetResult> {
  /** one timed shape per entry (ignored when `speed` is given) */
  speedups?: number[];
}

/** A passing result of candidate `c` of kernel `k` on `target` (wasm32 for 'wasm', else x86_64). */
export function targetResult({ speedups = [], ...extra }: ResultSpec = {}): TargetResult {
  const target = extra.target ?? 'wasm';
  const arch: Arch = target === 'wasm' ? 'wasm32' : 'x86_64';
  return {
    kernel: 'k',
    candidate: 'c',
    target,
    arch,
    toolchain: 'cc',
    sourceSha256: '0'.repeat(64),
    check: { status: 'pass', calls: 1 },
    speed: speedups.map((x, i) => speedResult(x, i)),
    elapsedMs: 1,
    ...extra,
  };
}

/**
 * A run under `work`/.kbench/runs with candidates s1.6…s10 of kernel k screened in WASM (`toolchain`: whose screen
 * model label it carries) and timed on host x86a, made
 * for the memory floor: decode reads its buffers in 10 ns, prefill in 1000; natively no call beats twice that
 * (prefill's fast candidates all end at 2000 ns), in WASM everything runs twice as slow as native compute and never
 * floors. calibrate fits k = 2, c = 1.5 from it.
 */
/** `wasmBaselineScale(s)`: each candidate's own WASM baseline time as a multiple of the shape's (noise between pairings) */
export function writeMemoryFloorRun(work: string, toolchain = 'cc', wasmBaselineScale = (_s: number) => 1): void {
  const ledger = new Ledger(join(work, '.kbench', 'runs', '20261127-000000-aaaa'));
  const shapes = [
    { shape: 'decode', readNs: 10, baselineNs: 300 },
    { shape: 'prefill', readNs: 1000, baselineNs: 9000 },
  ];
  for (const s of [1.6, 2.5, 4, 6, 8, 10]) {
    const timed = (target: string) =>
      shapes.map(({ shape, readNs, baselineNs }, i) => {
        const [b, c] = target === 'wasm' ? [2 * baselineNs * wasmBaselineScale(s), (2 * baselineNs) / s] : [baselineNs, Math.max(baselineNs / s, 2 * readNs)];
        return speedResult(b / c, i, { shape, baselineMedianNs: b, candidateMedianNs: c, speedOfLight: { footprintBytes: 1, readNs, peakGflops: 1 } });
      });
    for (const target of ['wasm', 'x86a']) ledger.append({ type: 'result', at: '', result: targetResult({ target, toolchain, candidate: `s${s}`, sourceSha256: `s${s}`, speed: timed(target) }) });
  }
}
