// Statistics for speed verdicts: small pure functions, each tested on hand-picked samples.
import { createRng } from '../rng.js';
import type { Interval, SpeedVerdict } from './types.js';

declare const sortedBrand: unique symbol;
/** Samples known to be in ascending order; only `sortAscending` makes one, so quantiles never see unsorted data. */
export type SortedSamples = readonly number[] & { readonly [sortedBrand]: true };

export function sortAscending(xs: readonly number[]): SortedSamples {
  return [...xs].sort((x, y) => x - y) as unknown as SortedSamples;
}

// Linear interpolation between order statistics: Hyndman & Fan (1996) definition 7, the R and NumPy default.
function interpolate(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const below = Math.floor(h);
  const above = Math.min(below + 1, n - 1);
  return sorted[below] + (h - below) * (sorted[above] - sorted[below]);
}

/** q in [0, 1]; NaN for no samples. */
export function quantile(sortedXs: SortedSamples, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile q must be in [0, 1], got ${q}`);
  return interpolate(sortedXs, q);
}

/** NaN for no samples; the mean of the two middle values for an even count. */
export function median(xs: readonly number[]): number {
  return interpolate(sortAscending(xs), 0.5);
}

/** NaN for no samples. */
export function mean(xs: readonly number[]): number {
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

// Sample standard deviation with Bessel's correction, as google/benchmark src/statistics.cc StatisticsStdDev.
/** NaN for fewer than two samples (undefined there, not zero). */
export function stddev(xs: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const m = mean(xs);
  let squares = 0;
  for (const x of xs) squares += (x - m) * (x - m);
  return Math.sqrt(squares / (n - 1));
}

/** Coefficient of variation, stddev / mean (google/benchmark StatisticsCV). */
export function cv(xs: readonly number[]): number {
  return stddev(xs) / mean(xs);
}

/** baseline / candidate for each interleaved pair: > 1 means the candidate is faster. */
export function pairedRatios(baselineNs: readonly number[], candidateNs: readonly number[]): number[] {
  if (baselineNs.length !== candidateNs.length) {
    throw new RangeError(`paired samples differ in length: ${baselineNs.length} baseline vs ${candidateNs.length} candidate`);
  }
  return baselineNs.map((baseline, i) => {
    const candidate = candidateNs[i];
    if (!(baseline > 0 && Number.isFinite(baseline))) throw new RangeError(`baselineNs[${i}] must be a positive finite time, got ${baseline}`);
    if (!(candidate > 0 && Number.isFinite(candidate))) throw new RangeError(`candidateNs[${i}] must be a positive finite time, got ${candidate}`);
    return baseline / candidate;
  });
}

export interface BootstrapOptions {
  /** resampling is deterministic given the seed; record it with the result */
  seed: number;
  /** confidence level; default 0.95 */
  level?: number;
  /** number of bootstrap resamples; default 2000 */
  resamples?: number;
  /**
   * Sizes of consecutive groups of xs that share a source of variation the pairs within one group cannot show (one
   * driver process each). With two or more groups the resampling is hierarchical: groups first, then samples within
   * each drawn group (the two-stage bootstrap, Davison & Hinkley 1997 §3.8), so the CI covers what a re-run in new
   * processes would see rather than one process's luck.
   */
  groupSizes?: readonly number[];
}

// Percentile bootstrap (Efron & Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 13), as criterion.rs does.
/** CI of the median of xs; the estimate is the sample median. */
export function bootstrapMedianCI(xs: readonly number[], { seed, level = 0.95, resamples = 2000, groupSizes }: BootstrapOptions): Interval {
  const n = xs.length;
  checkBootstrap('bootstrapMedianCI', xs, level, resamples);
  const groups = groupSizes && groupSizes.length >= 2 ? groupStarts(groupSizes, n) : [{ start: 0, size: n }];
  const pick = uniformPicker(seed);
  const medians = new Float64Array(resamples);
  const resample: number[] = [];
  for (let r = 0; r < resamples; r++) {
    resample.length = 0;
    for (let g = 0; g < groups.length; g++) {
      const { start, size } = groups.length > 1 ? groups[pick(groups.length)] : groups[0];
      for (let i = 0; i < size; i++) resample.push(xs[start + pick(size)]);
    }
    medians[r] = interpolate(Float64Array.from(resample).sort(), 0.5);
  }
  const estimate = median(xs);
  if (groups.length > 1) expandAbout(medians, estimate, Math.sqrt(groups.length / (groups.length - 1)));
  return percentileInterval(medians, estimate, level);
}

/**
 * Resampling G groups spreads their effects by only (G - 1) / G of their variance (the plug-in variance's bias, which
 * makes the bootstrap standard error of a mean sqrt((n - 1) / n) times the textbook one), and with the 3 to 5 groups
 * a measurement has, CIs then miss re-runs (bench:sessions): the replicates are moved away from the estimate by
 * sqrt(G / (G - 1)), in log space, as the statistics are ratios of times (positive), so an inverted ratio gets the
 * inverted interval.
 */
function expandAbout(replicates: Float64Array, estimate: number, factor: number): void {
  if (!(estimate > 0) || !replicates.every((x) => x > 0)) throw new RangeError('a grouped bootstrap needs positive samples (ratios of times)');
  for (let r = 0; r < replicates.length; r++) replicates[r] = estimate * Math.pow(replicates[r] / estimate, factor);
}

/**
 * CI of median(a) / median(b) for two independent samples (different sessions, maybe different machines: nothing
 * pairs them), each side resampled on its own; the same percentile rule and generator as bootstrapMedianCI.
 */
export function bootstrapRatioOfMediansCI(a: readonly number[], b: readonly number[], { seed, level = 0.95, resamples = 2000 }: Omit<BootstrapOptions, 'groupSizes'>): Interval {
  checkBootstrap('bootstrapRatioOfMediansCI', a, level, resamples);
  checkBootstrap('bootstrapRatioOfMediansCI', b, level, resamples);
  const pick = uniformPicker(seed);
  const draw = (xs: readonly number[]) => interpolate(Float64Array.from(xs, () => xs[pick(xs.length)]).sort(), 0.5);
  const ratios = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) ratios[r] = draw(a) / draw(b);
  return percentileInterval(ratios, median(a) / median(b), level);
}

/**
 * CI of any statistic of several independent samples (e.g. a prediction combining two measured quantities): each
 * sample is resampled on its own, the statistic computed on every resample; the same percentile rule and generator
 * as bootstrapMedianCI. The estimate is the statistic of the samples themselves.
 */
export function bootstrapStatisticCI(
  samples: readonly (readonly number[])[],
  statistic: (resampled: readonly number[][]) => number,
  { seed, level = 0.95, resamples = 2000 }: Omit<BootstrapOptions, 'groupSizes'>,
): Interval {
  for (const xs of samples) checkBootstrap('bootstrapStatisticCI', xs, level, resamples);
  const pick = uniformPicker(seed);
  const stats = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) stats[r] = statistic(samples.map((xs) => Array.from(xs, () => xs[pick(xs.length)])));
  return percentileInterval(stats, statistic(samples.map((xs) => [...xs])), level);
}

function checkBootstrap(what: string, xs: readonly number[], level: number, resamples: number): void {
  if (xs.length === 0) throw new RangeError(`${what} needs at least one sample`);
  if (!xs.every(Number.isFinite)) throw new RangeError(`${what} samples must be finite numbers`);
  if (!(level > 0 && level < 1)) throw new RangeError(`bootstrap level must be in (0, 1), got ${level}`);
  if (!(Number.isInteger(resamples) && resamples >= 1)) throw new RangeError(`bootstrap resamples must be a positive integer, got ${resamples}`);
}

/** A uniform index in [0, k) from a seeded generator. */
function uniformPicker(seed: number): (k: number) => number {
  const rng = createRng(seed);
  // nextU32 * k < 2^53, so the product is exact and the index uniform up to k / 2^32 bias.
  return (k) => Math.floor((rng.nextU32() * k) / 4294967296);
}

/** The percentile interval of bootstrap statistics (sorted in place), around the sample's own estimate. */
function percentileInterval(stats: Float64Array, estimate: number, level: number): Interval {
  stats.sort();
  const tail = (1 - level) / 2;
  return { estimate, lo: interpolate(stats, tail), hi: interpolate(stats, 1 - tail), level };
}

function groupStarts(sizes: readonly number[], n: number): { start: number; size: number }[] {
  if (!sizes.every((k) => Number.isInteger(k) && k >= 1)) throw new RangeError(`bootstrap group sizes must be positive integers, got ${sizes.join(', ')}`);
  if (sizes.reduce((a, b) => a + b, 0) !== n) throw new RangeError(`bootstrap group sizes add up to ${sizes.reduce((a, b) => a + b, 0)}, not the ${n} samples`);
  let start = 0;
  return sizes.map((size) => ({ start: (start += size) - size, size }));
}

/**
 * A change is real only when the whole CI of the speedup lies outside the noise band [1/(1+f), 1+f]. The band is
 * symmetric in log space, so swapping baseline and candidate (inverting the CI) swaps 'faster' and 'slower' exactly.
 * A CI that touches the band, or is NaN, is 'no-change'.
 */
export function speedVerdict(ci: Interval, noiseFloor = 0.02): SpeedVerdict {
  if (!(noiseFloor >= 0 && Number.isFinite(noiseFloor))) throw new RangeError(`noiseFloor must be a finite number >= 0, got ${noiseFloor}`);
  if (ci.lo > 1 + noiseFloor) return 'faster';
  if (ci.hi < 1 / (1 + noiseFloor)) return 'slower';
  return 'no-change';
}

// Average (1-based) ranks plus the tie term sum(t^3 - t) over groups of t tied values, which Mann–Whitney needs.
function rankWithTies(xs: readonly number[]): { ranks: number[]; tieTerm: number } {
  if (xs.some(Number.isNaN)) throw new RangeError('cannot rank NaN');
  const order = xs.map((_, i) => i).sort((i, j) => xs[i] - xs[j]);
  const result = new Array<number>(xs.length);
  let tieTerm = 0;
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && xs[order[end]] === xs[order[start]]) end++;
    const averageRank = (start + 1 + end) / 2; // mean of ranks start+1 .. end
    for (let k = start; k < end; k++) result[order[k]] = averageRank;
    const t = end - start;
    tieTerm += t * t * t - t;
    start = end;
  }
  return { ranks: result, tieTerm };
}

/** 1-based ranks; tied values share the average of their ranks. Throws on NaN. */
export function ranks(xs: readonly number[]): number[] {
  return rankWithTies(xs).ranks;
}

// Upper tail of the standard normal via erfc; Numerical Recipes (Press et al., 3rd ed., §6.2) Chebyshev fit, rel. error < 1.2e-7.
function normalSf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc =
    t *
    Math.exp(
      -x * x - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

export interface MannWhitneyResult {
  /** U of the first sample: pairs (a_i, b_j) with a_i > b_j, ties counting one half */
  u: number;
  /** two-sided p-value */
  p: number;
}

/**
 * Mann–Whitney U test as scipy.stats.mannwhitneyu(method='asymptotic'), which google/benchmark's compare.py calls:
 * normal approximation with tie correction and continuity correction. No exact small-sample distribution, so for
 * tiny untied samples p is a little off scipy's default (exact) answer.
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new RangeError(`mannWhitneyU needs two non-empty samples, got ${n1} and ${n2}`);
  const { ranks: pooled, tieTerm } = rankWithTies([...a, ...b]);
  let rankSum = 0;
  for (let i = 0; i < n1; i++) rankSum += pooled[i];
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  // Variance of U under ties: Mann–Whitney U test, Wikipedia, "Normal approximation and tie correction".
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  if (sigma === 0) return { u, p: 1 }; // every value tied: no evidence of a difference
  const z = (Math.abs(u - (n1 * n2) / 2) - 0.5) / sigma;
  return { u, p: Math.min(1, 2 * normalSf(z)) };
}

function pearson(xs: readonly number[], ys: readonly number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) * (xs[i] - mx);
    syy += (ys[i] - my) * (ys[i] - my);
  }
  if (sxx === 0 || syy === 0) return NaN;
  return sxy / Math.sqrt(sxx * syy);
}

/** Spearman's rho: Pearson correlation of average ranks. NaN for n < 3, a NaN value, or a constant input. */
export function spearman(xs: readonly number[], ys: readonly number[]): number {
  if (xs.length !== ys.length) throw new RangeError(`spearman needs paired samples, got ${xs.length} and ${ys.length}`);
  if (xs.length < 3 || xs.some(Number.isNaN) || ys.some(Number.isNaN)) return NaN;
  return pearson(ranks(xs), ranks(ys));
}
