import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/rng.js';
import { amdahlRatio, checkPrediction, opShareRounds, opShares, predictE2eRatio, predictE2eRatioFromIntervals } from '../../src/e2e/amdahl.js';

const ci = (estimate: number, lo: number, hi: number, level = 0.95) => ({ estimate, lo, hi, level });

describe("Amdahl's law", () => {
  it('gives 1/(1 - s + s/k) and its limits', () => {
    expect(amdahlRatio(0.1, 2)).toBeCloseTo(1 / 0.95, 12);
    expect(amdahlRatio(0.5, 1e12)).toBeCloseTo(2, 9); // a free op halves a half
    expect(amdahlRatio(0, 12)).toBe(1); // an op that takes no time cannot help
    expect(amdahlRatio(0.01, 12)).toBeCloseTo(1.0093, 4); // the story: 12× on 1% of the time is under 1%
    expect(amdahlRatio(0.2, 0.5)).toBeCloseTo(1 / 1.2, 12); // a slower op slows the whole
    expect(() => amdahlRatio(1.5, 2)).toThrow(RangeError);
    expect(() => amdahlRatio(0.1, 0)).toThrow(RangeError);
  });

  it('measures the op share per round from the reference and the free build', () => {
    expect(opShareRounds([100, 200], [90, 150])).toEqual([expect.closeTo(0.1, 12), 0.25]);
    expect(() => opShareRounds([100], [90, 80])).toThrow(/differ in length/);
    const [share] = opShares([{ label: 'tg32 @ d0', referenceNs: [100, 100, 100, 100, 100], graftNs: [80, 80, 80, 80, 80] }]);
    expect(share.label).toBe('tg32 @ d0');
    expect(share.share).toMatchObject({ estimate: expect.closeTo(0.2, 12), lo: expect.closeTo(0.2, 12), hi: expect.closeTo(0.2, 12) });
  });

  it('propagates the CIs of the share rounds and the op ratios into the prediction', () => {
    const rng = createRng(4);
    const referenceNs = Array.from({ length: 15 }, () => 1e6 * Math.exp(0.02 * rng.normal()));
    const freeNs = referenceNs.map((r) => r * 0.9 * Math.exp(0.02 * rng.normal())); // share ≈ 0.1
    const opRatios = Array.from({ length: 21 }, () => 3 * Math.exp(0.05 * rng.normal())); // op 3× faster
    const predicted = predictE2eRatio({ referenceNs, freeNs }, opRatios, { seed: 1 });
    expect(predicted.estimate).toBeCloseTo(amdahlRatio(0.1, 3), 1);
    expect(predicted.lo).toBeLessThan(predicted.estimate);
    expect(predicted.hi).toBeGreaterThan(predicted.estimate);
    expect(predicted.lo).toBeGreaterThan(1.0);
    expect(predicted.hi).toBeLessThan(1 / 0.9); // never more than making the op free
    expect(predictE2eRatio({ referenceNs, freeNs }, opRatios, { seed: 1 })).toEqual(predicted);
  });

  it('bounds the prediction by the corners of the input intervals when only intervals are known', () => {
    const p = predictE2eRatioFromIntervals(ci(0.1, 0.05, 0.15), ci(3, 2, 4));
    expect(p.estimate).toBeCloseTo(amdahlRatio(0.1, 3), 12);
    expect(p.lo).toBeCloseTo(amdahlRatio(0.05, 2), 12);
    expect(p.hi).toBeCloseTo(amdahlRatio(0.15, 4), 12);
    expect(p.level).toBeCloseTo(0.9025, 12);
    // a slower candidate: the largest share is the worst case
    const slow = predictE2eRatioFromIntervals(ci(0.1, 0.05, 0.15), ci(0.5, 0.4, 0.6));
    expect(slow.lo).toBeCloseTo(amdahlRatio(0.15, 0.4), 12);
    expect(slow.hi).toBeCloseTo(amdahlRatio(0.05, 0.6), 12);
  });

  it('calls agreeing intervals agreement and says which way a gap goes', () => {
    const agree = checkPrediction(ci(1.004, 0.99, 1.02), ci(1.008, 1.006, 1.01));
    expect(agree.agrees).toBe(true);
    expect(agree.summary).toMatch(/they agree; the op's share caps the gain below the ±2% noise floor$/);
    const more = checkPrediction(ci(1.1, 1.08, 1.12), ci(1.01, 1.005, 1.015));
    expect(more.agrees).toBe(false);
    expect(more.gap).toBeCloseTo(1.1 / 1.01, 12);
    expect(more.summary).toMatch(/more than the op share explains/);
    expect(checkPrediction(ci(0.99, 0.98, 1.0), ci(1.05, 1.04, 1.06)).summary).toMatch(/less than predicted/);
  });
});
