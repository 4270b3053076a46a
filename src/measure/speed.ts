// Raw paired samples → a SpeedResult: median of paired ratios with a bootstrap CI, a verdict against the noise
// floor, throughput from the spec's cost expressions, and a speed-of-light sanity flag.
import type { KernelSpec } from '../spec/schema.js';
import { evalExpr } from '../spec/expr.js';
import { bootstrapMedianCI, median, pairedRatios, speedVerdict } from './stats.js';
import type { SpeedResult } from './types.js';

// One core of this class moves ~200 GB/s through L1/L2 and peaks near 130 GFLOP/s with AVX2 FMA (RESEARCH.md);
// anything well beyond that did not do the work it claims.
export const SUSPECT_GBPS = 400;
export const SUSPECT_GFLOPS = 250;

export interface PairedSamples {
  shape: string;
  env: Record<string, number>;
  callsPerSample: number;
  baselineNs: number[];
  candidateNs: number[];
}

export function summarizeSamples(spec: KernelSpec, s: PairedSamples, opts: { noiseFloor: number; seed: number; emulated?: boolean }): SpeedResult {
  const ratios = pairedRatios(s.baselineNs, s.candidateNs);
  const speedup = bootstrapMedianCI(ratios, { seed: opts.seed });
  const candidateMedianNs = median(s.candidateNs);
  const gbps = evalExpr(spec.cost.bytes, s.env) / candidateMedianNs;
  const gflops = evalExpr(spec.cost.flops, s.env) / candidateMedianNs;
  const suspect =
    gbps > SUSPECT_GBPS ? `${gbps.toFixed(0)} GB/s is beyond what one core can move` : gflops > SUSPECT_GFLOPS ? `${gflops.toFixed(0)} GFLOP/s is beyond one core's peak` : undefined;
  return {
    shape: s.shape,
    ratios,
    baselineNs: s.baselineNs,
    candidateNs: s.candidateNs,
    speedup,
    verdict: opts.emulated ? 'no-change' : speedVerdict(speedup, opts.noiseFloor),
    noiseFloor: opts.noiseFloor,
    callsPerSample: s.callsPerSample,
    candidateMedianNs,
    baselineMedianNs: median(s.baselineNs),
    gbps,
    gflops,
    ...(suspect ? { suspect } : {}),
    ...(opts.emulated ? { emulated: true } : {}),
  };
}
