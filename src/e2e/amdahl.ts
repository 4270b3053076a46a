// Amdahl's law beside the measurement: an op that takes share s of a token's time, made k times faster, makes the
// token 1 / (1 - s + s/k) times faster. s is measured by timing the reference against a build where the op does no
// work (the "free" graft): per round s = 1 - t_free / t_ref. Both inputs carry CIs, and so does the prediction; a
// measured end-to-end ratio far from it is a finding (the op's cost moved elsewhere, or the graft changed more).
import { bootstrapMedianCI, bootstrapStatisticCI, median } from '../measure/stats.js';
import type { Interval } from '../measure/types.js';
import type { E2eTestResult, OpShare, PredictionCheck } from '../ledger/records.js';

export type { OpShare, PredictionCheck };

/** Predicted end-to-end speed ratio (> 1: faster) for an op with time share `share` made `opSpeedup` times faster. */
export function amdahlRatio(share: number, opSpeedup: number): number {
  if (!(share <= 1 && Number.isFinite(share))) throw new RangeError(`op share must be a finite number ≤ 1, got ${share}`);
  if (!(opSpeedup > 0 && Number.isFinite(opSpeedup))) throw new RangeError(`op speedup must be a positive finite number, got ${opSpeedup}`);
  return 1 / (1 - share + share / opSpeedup);
}

/** Per round, the share of the reference's time the op took: 1 - free / reference (noise can make it negative). */
export function opShareRounds(referenceNs: readonly number[], freeNs: readonly number[]): number[] {
  if (referenceNs.length !== freeNs.length) throw new RangeError(`paired rounds differ in length: ${referenceNs.length} reference vs ${freeNs.length} free`);
  return referenceNs.map((ref, i) => {
    if (!(ref > 0 && freeNs[i] > 0 && Number.isFinite(ref) && Number.isFinite(freeNs[i]))) throw new RangeError(`round ${i} needs positive finite times, got ${ref} and ${freeNs[i]}`);
    return 1 - freeNs[i] / ref;
  });
}


/** The op's share of each test's time, from an e2e timing of the reference against the free build. */
export function opShares(freeTiming: readonly Pick<E2eTestResult, 'label' | 'referenceNs' | 'graftNs'>[], seed = 1): OpShare[] {
  return freeTiming.map((t, i) => ({ label: t.label, share: bootstrapMedianCI(opShareRounds(t.referenceNs, t.graftNs), { seed: seed + i }) }));
}

export interface ShareRounds {
  referenceNs: readonly number[];
  freeNs: readonly number[];
}

/**
 * The prediction with a CI from the rounds themselves: the share rounds and the op-level ratios (baseline time ÷
 * candidate time per pair, as kbench run records them) are resampled independently and the prediction recomputed
 * from their medians each time.
 */
export function predictE2eRatio(share: ShareRounds, opRatios: readonly number[], { seed = 1, level = 0.95 } = {}): Interval {
  const shares = opShareRounds(share.referenceNs, share.freeNs);
  return bootstrapStatisticCI([shares, opRatios], ([s, k]) => amdahlRatio(median(s), median(k)), { seed, level });
}

/**
 * The prediction when only the inputs' intervals are known (e.g. from a ledger): the ratio is monotone in share and
 * in speedup, so its extremes over the rectangle of the two CIs are at corners. The rectangle holds both true
 * values with probability at least the product of the levels when the inputs are independent, so that is the level.
 */
export function predictE2eRatioFromIntervals(share: Interval, opSpeedup: Interval): Interval {
  const corners = [share.lo, share.hi].flatMap((s) => [opSpeedup.lo, opSpeedup.hi].map((k) => amdahlRatio(s, k)));
  return { estimate: amdahlRatio(share.estimate, opSpeedup.estimate), lo: Math.min(...corners), hi: Math.max(...corners), level: share.level * opSpeedup.level };
}


const percent = (r: number) => `${r >= 1 ? '+' : '−'}${(Math.abs(r - 1) * 100).toFixed(1)}%`;

/** Measured against predicted end-to-end ratio. Disagreeing intervals are the finding, so the summary says which way. */
export function checkPrediction(measured: Interval, predicted: Interval, noiseFloor = 0.02): PredictionCheck {
  const agrees = measured.lo <= predicted.hi && predicted.lo <= measured.hi;
  const gap = measured.estimate / predicted.estimate;
  const both = `measured ${percent(measured.estimate)} [${percent(measured.lo)}, ${percent(measured.hi)}], predicted ${percent(predicted.estimate)} [${percent(predicted.lo)}, ${percent(predicted.hi)}]`;
  if (agrees) {
    const small = predicted.hi <= 1 + noiseFloor;
    return { gap, agrees, summary: `${both}: they agree${small ? `; the op's share caps the gain below the ±${(noiseFloor * 100).toFixed(0)}% noise floor` : ''}` };
  }
  const way = measured.estimate > predicted.estimate
    ? 'more than the op share explains: the graft changed more than the op (code layout, fusion, memory traffic), or the share is underestimated'
    : 'less than predicted: the op-level speedup does not survive in the real graph (other shapes, cache state, threads), or the graft adds overhead';
  return { gap, agrees, summary: `${both}: the end-to-end gain is ${way}` };
}
