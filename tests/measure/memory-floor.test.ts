// The memory floor the screen applies to predict native speedups: the constants it fits and what it changes.
import { describe, expect, it } from 'vitest';
import { fitMemoryFloor, predictNativeSpeedup, type FloorObservation } from '../../src/measure/memory-floor.js';

/** ten compute-bound points (native 10× the read, WASM 2.5× slower) and five at the floor (native 2× the read, WASM 1.2× slower) */
function observations(): FloorObservation[] {
  const computeBound = Array.from({ length: 10 }, (_, i) => ({ nativeReadNs: 100 + i, nativeCandidateNs: 1000 + 10 * i, wasmCandidateNs: 2500 + 25 * i }));
  const atFloor = Array.from({ length: 5 }, (_, i) => ({ nativeReadNs: 1000, nativeCandidateNs: 2000 + i, wasmCandidateNs: 1.2 * (2000 + i) }));
  return [...computeBound, ...atFloor];
}

describe('fitMemoryFloor', () => {
  it('takes k from the fastest streaming points and c from those at the floor, not from the compute-bound ones', () => {
    const model = fitMemoryFloor(observations())!;
    expect(model.streamFactor).toBeCloseTo(2, 2);
    expect(model.floorRatio).toBeCloseTo(1.2, 6);
    expect(model.observations).toBe(15);
  });

  it('fits nothing from too few points, or when none lies near the floor', () => {
    expect(fitMemoryFloor(observations().slice(0, 7))).toBeUndefined();
    const spread = Array.from({ length: 12 }, (_, i) => ({ nativeReadNs: 100, nativeCandidateNs: 200 * 2 ** i, wasmCandidateNs: 400 * 2 ** i }));
    expect(fitMemoryFloor(spread)).toBeUndefined();
  });

  it('ignores points without a read time', () => {
    expect(fitMemoryFloor([...observations(), { nativeReadNs: 0, nativeCandidateNs: 1, wasmCandidateNs: 1 }])!.observations).toBe(15);
  });
});

describe('predictNativeSpeedup', () => {
  const model = { floorRatio: 1.5, streamFactor: 2, observations: 20 };
  it('is the ratio of the median times where the floor binds neither', () => {
    expect(predictNativeSpeedup({ candidateNs: 100, baselineNs: 310 }, 10, model)).toBeCloseTo(3.1, 10);
  });

  it('raises a candidate below the floor to it, so candidates past the floor tie and a slower one ranks below', () => {
    // floor in WASM units: 1.5 · 2 · 100 = 300 ns
    const fast = predictNativeSpeedup({ candidateNs: 250, baselineNs: 1200 }, 100, model);
    const faster = predictNativeSpeedup({ candidateNs: 200, baselineNs: 1200 }, 100, model);
    const slower = predictNativeSpeedup({ candidateNs: 310, baselineNs: 1200 }, 100, model);
    expect(fast).toBeCloseTo(4, 10);
    expect(faster).toBe(fast);
    expect(slower).toBeLessThan(fast);
  });

  it('raises the baseline too: below the floor both are the floor, a speedup of 1', () => {
    expect(predictNativeSpeedup({ candidateNs: 100, baselineNs: 200 }, 100, model)).toBe(1);
  });
});
