// Raw paired samples → a SpeedResult: median of paired ratios with a bootstrap CI, a verdict against the noise
// floor, throughput from the spec's cost expressions, and a flag when it beats the measured speed of light.
import type { KernelSpec } from '../spec/schema.js';
import { evalExpr } from '../spec/expr.js';
import { speedOfLightSuspect, type SpeedOfLight } from './speed-of-light.js';
import { bootstrapMedianCI, median, pairedRatios, speedVerdict } from './stats.js';
import type { SpeedResult } from './types.js';

export interface PairedSamples {
  shape: string;
  env: Record<string, number>;
  callsPerSample: number;
  baselineNs: number[];
  candidateNs: number[];
  /** measured where the samples were taken, by the same build */
  speedOfLight?: SpeedOfLight;
  /** threads of each timed call */
  nth?: number;
  /** pairs per independent group (process, instance pair), in order, when there are several (resampled hierarchically) */
  groupSizes?: number[];
}

export function summarizeSamples(spec: KernelSpec, s: PairedSamples, opts: { noiseFloor: number; seed: number; emulated?: boolean }): SpeedResult {
  const ratios = pairedRatios(s.baselineNs, s.candidateNs);
  const speedup = bootstrapMedianCI(ratios, { seed: opts.seed, groupSizes: s.groupSizes });
  const candidateMedianNs = median(s.candidateNs);
  const gbps = evalExpr(spec.cost.bytes, s.env) / candidateMedianNs;
  const gflops = evalExpr(spec.cost.flops, s.env) / candidateMedianNs;
  const suspect = s.speedOfLight && !opts.emulated ? speedOfLightSuspect(spec, s.env, candidateMedianNs, s.speedOfLight, s.nth) : undefined;
  return {
    shape: s.shape,
    ratios,
    baselineNs: s.baselineNs,
    candidateNs: s.candidateNs,
    speedup,
    ...(s.groupSizes && s.groupSizes.length > 1 ? { groupSizes: s.groupSizes } : {}),
    verdict: opts.emulated ? 'no-change' : speedVerdict(speedup, opts.noiseFloor),
    noiseFloor: opts.noiseFloor,
    callsPerSample: s.callsPerSample,
    candidateMedianNs,
    baselineMedianNs: median(s.baselineNs),
    gbps,
    gflops,
    ...(s.nth && s.nth > 1 ? { nth: s.nth } : {}),
    ...(s.speedOfLight ? { speedOfLight: s.speedOfLight } : {}),
    ...(suspect ? { suspect } : {}),
    ...(opts.emulated ? { emulated: true } : {}),
  };
}
