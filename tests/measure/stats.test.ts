import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/rng.js';
import {
  bootstrapMedianCI,
  bootstrapRatioOfMediansCI,
  bootstrapStatisticCI,
  cv,
  mannWhitneyU,
  mean,
  median,
  pairedRatios,
  quantile,
  ranks,
  sortAscending,
  spearman,
  speedVerdict,
  stddev,
} from '../../src/measure/stats.js';

// Interleaved timings with multiplicative lognormal noise: baseline runs `trueRatio` times longer than the candidate.
function syntheticPairs(rng: Rng, pairs: number, trueRatio: number, sigma = 0.05): { baselineNs: number[]; candidateNs: number[] } {
  const baselineNs: number[] = [];
  const candidateNs: number[] = [];
  for (let i = 0; i < pairs; i++) {
    baselineNs.push(1000 * trueRatio * Math.exp(sigma * rng.normal()));
    candidateNs.push(1000 * Math.exp(sigma * rng.normal()));
  }
  return { baselineNs, candidateNs };
}

describe('summary statistics', () => {
  it('takes the median of odd and even counts without reordering the input', () => {
    const xs = [4, 1, 3, 2];
    expect(median([5, 1, 3])).toBe(3);
    expect(median(xs)).toBe(2.5);
    expect(xs).toEqual([4, 1, 3, 2]);
    expect(median([])).toBeNaN();
  });

  it('interpolates quantiles linearly between order statistics (values from numpy.quantile)', () => {
    const sorted = sortAscending([10, 3, 1, 4, 2]);
    expect(quantile(sorted, 0)).toBe(1);
    expect(quantile(sorted, 0.25)).toBe(2);
    expect(quantile(sorted, 0.5)).toBe(3);
    expect(quantile(sorted, 0.9)).toBeCloseTo(7.6, 12);
    expect(quantile(sorted, 1)).toBe(10);
    expect(() => quantile(sorted, 1.5)).toThrow(RangeError);
  });

  it('computes mean, sample standard deviation and coefficient of variation', () => {
    const xs = [2, 4, 4, 4, 5, 5, 7, 9]; // population sd 2, sample sd sqrt(32/7)
    expect(mean(xs)).toBe(5);
    expect(stddev(xs)).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(cv(xs)).toBeCloseTo(Math.sqrt(32 / 7) / 5, 12);
    expect(stddev([3])).toBeNaN();
  });
});

describe('paired ratios', () => {
  it('divides baseline by candidate so that more than one means the candidate is faster', () => {
    expect(pairedRatios([200, 90], [100, 100])).toEqual([2, 0.9]);
  });

  it('rejects unpaired or non-positive times with the offending index', () => {
    expect(() => pairedRatios([1, 2], [1])).toThrow(/differ in length/);
    expect(() => pairedRatios([1, 2], [1, 0])).toThrow(/candidateNs\[1\]/);
    expect(() => pairedRatios([NaN], [1])).toThrow(/baselineNs\[0\]/);
  });
});

describe('bootstrap CI of the median', () => {
  it('is deterministic given the seed and brackets the sample median', () => {
    const xs = [1.02, 0.97, 1.1, 1.05, 0.99, 1.03, 1.01, 1.2, 0.95, 1.04];
    const a = bootstrapMedianCI(xs, { seed: 7 });
    expect(bootstrapMedianCI(xs, { seed: 7 })).toEqual(a);
    expect(bootstrapMedianCI(xs, { seed: 8 })).not.toEqual(a);
    expect(a.estimate).toBe(median(xs));
    expect(a.level).toBe(0.95);
    expect(a.lo).toBeLessThanOrEqual(a.estimate);
    expect(a.hi).toBeGreaterThanOrEqual(a.estimate);
    const narrow = bootstrapMedianCI(xs, { seed: 7, level: 0.5 });
    expect(narrow.hi - narrow.lo).toBeLessThan(a.hi - a.lo);
  });

  it('covers a known speedup of 1.10 in at least 90 of 100 seeded repetitions, with a usefully narrow interval', () => {
    const rng = createRng(2026);
    let covered = 0;
    let widthSum = 0;
    for (let rep = 0; rep < 100; rep++) {
      const { baselineNs, candidateNs } = syntheticPairs(rng, 30, 1.1);
      const ci = bootstrapMedianCI(pairedRatios(baselineNs, candidateNs), { seed: rep, resamples: 1000 });
      if (ci.lo <= 1.1 && 1.1 <= ci.hi) covered++;
      widthSum += ci.hi - ci.lo;
    }
    expect(covered).toBeGreaterThanOrEqual(90);
    // An interval that covers by being huge is useless: with 5% noise per time and 30 pairs it is about ±3%.
    expect(widthSum / 100).toBeLessThan(0.08);
  });

  it('rejects empty samples and impossible levels', () => {
    expect(() => bootstrapMedianCI([], { seed: 1 })).toThrow(RangeError);
    expect(() => bootstrapMedianCI([1], { seed: 1, level: 1 })).toThrow(RangeError);
    expect(() => bootstrapMedianCI([1, Infinity], { seed: 1 })).toThrow(RangeError);
  });
});

describe('speed verdict', () => {
  it('calls A/A comparisons (both sides from one distribution) no-change', () => {
    const rng = createRng(11);
    for (let rep = 0; rep < 20; rep++) {
      const { baselineNs, candidateNs } = syntheticPairs(rng, 30, 1.0);
      const ci = bootstrapMedianCI(pairedRatios(baselineNs, candidateNs), { seed: rep, resamples: 1000 });
      expect(speedVerdict(ci)).toBe('no-change');
    }
  });

  it('calls a clear 1.3x effect faster, and the same data read the other way slower', () => {
    const { baselineNs, candidateNs } = syntheticPairs(createRng(5), 30, 1.3);
    const forward = bootstrapMedianCI(pairedRatios(baselineNs, candidateNs), { seed: 1 });
    const backward = bootstrapMedianCI(pairedRatios(candidateNs, baselineNs), { seed: 1 });
    expect(speedVerdict(forward)).toBe('faster');
    expect(speedVerdict(backward)).toBe('slower');
  });

  it('needs the whole CI outside the noise band [1/(1+f), 1+f]', () => {
    const ci = (lo: number, hi: number) => ({ estimate: (lo + hi) / 2, lo, hi, level: 0.95 });
    expect(speedVerdict(ci(1.021, 1.2))).toBe('faster');
    expect(speedVerdict(ci(1.019, 1.2))).toBe('no-change');
    expect(speedVerdict(ci(0.8, 1 / 1.021))).toBe('slower');
    expect(speedVerdict(ci(0.8, 1 / 1.019))).toBe('no-change');
    expect(speedVerdict(ci(1.06, 1.2), 0.05)).toBe('faster');
    expect(speedVerdict(ci(1.04, 1.2), 0.05)).toBe('no-change');
    expect(speedVerdict(ci(NaN, NaN))).toBe('no-change');
    expect(() => speedVerdict(ci(1, 1), -0.1)).toThrow(RangeError);
  });
});

describe('ranks', () => {
  it('gives tied values the average of their 1-based ranks', () => {
    expect(ranks([10, 20, 20, 5, 20])).toEqual([2, 4, 4, 1, 4]);
    expect(() => ranks([1, NaN])).toThrow(RangeError);
  });
});

describe('Mann–Whitney U', () => {
  it('matches the diabetes-age example of Shier (2004) as worked in the scipy.stats.mannwhitneyu docs', () => {
    const males = [19, 22, 16, 29, 24];
    const females = [20, 11, 17, 12];
    const { u, p } = mannWhitneyU(males, females);
    expect(u).toBe(17); // U_M = 17 in Shier; U_F = 3
    expect(p).toBeCloseTo(0.11134688653314041, 6); // normal approximation with continuity correction
  });

  it('applies the tie correction (ranks and variance worked by hand, p checked with scipy asymptotic)', () => {
    // Pooled ranks: a gets 1, 4, 4, 8, 8, 12 → R1 = 37, U = 37 − 21 = 16; tie groups of 3, 3, 2 → Σ(t³−t) = 54;
    // σ = sqrt(6·7/12 · (14 − 54/156)) ≈ 6.913, z = (|16 − 21| − 0.5)/σ ≈ 0.651.
    const a = [1.2, 3.4, 3.4, 5.0, 5.0, 7.1];
    const b = [2.0, 3.4, 4.1, 5.0, 6.3, 6.3, 8.8];
    const { u, p } = mannWhitneyU(a, b);
    expect(u).toBe(16);
    expect(p).toBeCloseTo(0.5150755147479535, 6);
    const swapped = mannWhitneyU(b, a);
    expect(swapped.u).toBe(6 * 7 - 16);
    expect(swapped.p).toBeCloseTo(p, 12);
  });

  it('finds separated samples significant and identical ones not', () => {
    expect(mannWhitneyU([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]).p).toBeLessThan(0.001);
    expect(mannWhitneyU([3, 3, 3], [3, 3]).p).toBe(1);
    expect(() => mannWhitneyU([], [1])).toThrow(RangeError);
  });
});

describe('Spearman rank correlation', () => {
  it('is 1 for a monotone relation and -1 for a reversed one', () => {
    expect(spearman([1, 2, 3, 4, 5], [1, 4, 9, 16, 1000])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4, 5], [50, 40, 30, 20, 10])).toBeCloseTo(-1, 12);
  });

  it('uses average ranks for ties (29/38 worked by hand, as scipy.stats.spearmanr)', () => {
    expect(spearman([1, 2, 2, 3, 4], [2, 1, 3, 3, 5])).toBeCloseTo(29 / 38, 12);
  });

  it('is NaN when undefined: fewer than three pairs, a constant side or a NaN value', () => {
    expect(spearman([1, 2], [2, 1])).toBeNaN();
    expect(spearman([1, 2, 3], [7, 7, 7])).toBeNaN();
    expect(spearman([1, NaN, 3], [1, 2, 3])).toBeNaN();
    expect(() => spearman([1, 2, 3], [1, 2])).toThrow(RangeError);
  });
});

describe('seeded RNG', () => {
  it('repeats its stream for a seed and keeps it stable across versions (kernel inputs depend on it)', () => {
    const a = createRng(42);
    const b = createRng(42);
    const first = [a.nextU32(), a.nextU32(), a.nextU32(), a.nextU32()];
    expect([b.nextU32(), b.nextU32(), b.nextU32(), b.nextU32()]).toEqual(first);
    // xoshiro128** checked against a C build of the reference algorithm from the same seeded state.
    expect(first).toEqual([953569416, 2111951319, 2857837013, 915176413]);
  });

  it('gives different streams for different seeds, including seeds that differ only above 2^32', () => {
    const firsts = [0, 1, -1, 2 ** 32, 2 ** 40].map((seed) => createRng(seed).nextU32());
    expect(new Set(firsts).size).toBe(firsts.length);
    expect(() => createRng(1.5)).toThrow(RangeError);
  });

  it('draws uniforms in [0, 1) and standard normals with mean 0 and sd 1 over 10^5 draws', () => {
    const rng = createRng(3);
    const uniforms = Array.from({ length: 100_000 }, () => rng.next());
    expect(Math.min(...uniforms)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...uniforms)).toBeLessThan(1);
    expect(mean(uniforms)).toBeCloseTo(0.5, 2);
    const normals = Array.from({ length: 100_000 }, () => rng.normal());
    expect(Math.abs(mean(normals))).toBeLessThan(0.015); // standard error 0.003
    expect(Math.abs(stddev(normals) - 1)).toBeLessThan(0.015);
    expect(normals.filter((z) => Math.abs(z) > 1.96).length / normals.length).toBeCloseTo(0.05, 2);
  });
});

describe('hierarchical bootstrap over processes', () => {
  // Four processes of 7 pairs each, tight within a process; one process saw a different baseline (its time swung
  // between driver processes, as seen under load). Pooled, the two agreeing processes outvote it and the CI is
  // narrow; yet a re-run could well draw such a process twice.
  const processes = [
    [2.0, 2.01, 1.99, 2.0, 2.02, 1.98, 2.0],
    [2.0, 2.01, 1.99, 2.0, 2.01, 1.99, 2.0],
    [2.0, 2.0, 1.99, 2.0, 2.02, 1.99, 2.01],
    [1.6, 1.61, 1.59, 1.6, 1.62, 1.58, 1.6],
  ];
  const pooled = processes.flat();

  it('widens the CI to cover what a re-run in new processes would see', () => {
    const flat = bootstrapMedianCI(pooled, { seed: 7 });
    const nested = bootstrapMedianCI(pooled, { seed: 7, groupSizes: [7, 7, 7, 7] });
    expect(nested.estimate).toBe(flat.estimate);
    expect(flat.lo).toBeGreaterThan(1.9);
    expect(nested.lo).toBeLessThan(1.7);
  });

  it('changes little when the processes agree', () => {
    const agreeing = [processes[0], processes[0].map((x) => x + 0.001), processes[0].map((x) => x - 0.001)].flat();
    const flat = bootstrapMedianCI(agreeing, { seed: 3 });
    const nested = bootstrapMedianCI(agreeing, { seed: 3, groupSizes: [7, 7, 7] });
    expect(nested.hi - nested.lo).toBeLessThan(3 * (flat.hi - flat.lo) + 0.01);
  });

  it('corrects the spread of few groups, so a two-level population is covered as often as G groups allow', () => {
    // 3 groups of 11: a between-group effect (SD 2%) well above the within-group noise (0.2%), as between processes.
    // Resampling 3 groups shows 2/3 of their variance: 74.5% of these CIs covered the centre before the correction.
    const rng = createRng(11);
    let covered = 0;
    const runs = 400;
    for (let run = 0; run < runs; run++) {
      const xs: number[] = [];
      for (let g = 0; g < 3; g++) {
        const effect = 0.02 * rng.normal();
        for (let i = 0; i < 11; i++) xs.push(Math.exp(effect + 0.002 * rng.normal()));
      }
      const ci = bootstrapMedianCI(xs, { seed: run, groupSizes: [11, 11, 11], resamples: 500 });
      if (ci.lo <= 1 && 1 <= ci.hi) covered++;
    }
    expect(covered / runs).toBeGreaterThanOrEqual(0.775);
  });

  it('gives the inverted ratios the inverted interval', () => {
    const ratios = processes.flat().slice(0, 21);
    const ci = bootstrapMedianCI(ratios, { seed: 5, groupSizes: [7, 7, 7] });
    const inverse = bootstrapMedianCI(ratios.map((x) => 1 / x), { seed: 5, groupSizes: [7, 7, 7] });
    expect(inverse.lo).toBeCloseTo(1 / ci.hi, 12);
    expect(inverse.hi).toBeCloseTo(1 / ci.lo, 12);
    expect(() => bootstrapMedianCI([1, -1, 2, 3], { seed: 1, groupSizes: [2, 2] })).toThrow(/positive samples/);
  });

  it('refuses group sizes that do not add up to the samples', () => {
    expect(() => bootstrapMedianCI(pooled, { seed: 1, groupSizes: [7, 7] })).toThrow(/add up to 14, not the 28 samples/);
  });
});

describe('bootstrapRatioOfMediansCI', () => {
  const a = [100, 102, 98, 101, 99, 103, 97, 100, 104, 96];
  it('estimates median(a) / median(b) and brackets it', () => {
    const b = a.map((x) => x / 2);
    const ci = bootstrapRatioOfMediansCI(a, b, { seed: 1 });
    expect(ci.estimate).toBeCloseTo(2, 12);
    expect(ci.lo).toBeLessThanOrEqual(2);
    expect(ci.hi).toBeGreaterThanOrEqual(2);
    expect(ci.level).toBe(0.95);
  });

  it('gives an A/A comparison a CI around 1, the same for the same seed', () => {
    const ci = bootstrapRatioOfMediansCI(a, a, { seed: 7 });
    expect(ci.lo).toBeLessThan(1);
    expect(ci.hi).toBeGreaterThan(1);
    expect(bootstrapRatioOfMediansCI(a, a, { seed: 7 })).toEqual(ci);
  });

  it('refuses an empty side', () => {
    expect(() => bootstrapRatioOfMediansCI([], a, { seed: 1 })).toThrow(RangeError);
  });
});

describe('bootstrapStatisticCI', () => {
  it('matches bootstrapMedianCI for the median of one sample (same generator, same draws)', () => {
    const xs = syntheticPairs(createRng(3), 15, 1.3).baselineNs;
    const generic = bootstrapStatisticCI([xs], ([s]) => median(s), { seed: 11 });
    expect(generic).toEqual(bootstrapMedianCI(xs, { seed: 11 }));
  });

  it('resamples each sample on its own for a statistic of two', () => {
    const rng = createRng(8);
    const a = Array.from({ length: 30 }, () => 2 + 0.1 * rng.normal());
    const b = Array.from({ length: 30 }, () => 1 + 0.1 * rng.normal());
    const ci = bootstrapStatisticCI([a, b], ([x, y]) => median(x) - median(y), { seed: 2 });
    expect(ci.estimate).toBeCloseTo(median(a) - median(b), 12);
    expect(ci.lo).toBeLessThan(ci.estimate);
    expect(ci.hi).toBeGreaterThan(ci.estimate);
    expect(ci.lo).toBeGreaterThan(0.8);
    expect(ci.hi).toBeLessThan(1.2);
    expect(() => bootstrapStatisticCI([a, []], () => 0, { seed: 1 })).toThrow(/at least one sample/);
  });
});
