// Results of a timed comparison of one candidate against the baseline on one bench shape.
import type { SpeedOfLight } from './speed-of-light.js';

export type SpeedVerdict = 'faster' | 'slower' | 'no-change';

export interface Interval {
  /** point estimate */
  estimate: number;
  lo: number;
  hi: number;
  /** confidence level, e.g. 0.95 */
  level: number;
}

export interface SpeedResult {
  shape: string;
  /** baseline time / candidate time per pair (> 1 means the candidate is faster) */
  ratios: number[];
  /** raw per-call times of each pair, ns */
  baselineNs: number[];
  candidateNs: number[];
  /** median of paired ratios with a bootstrap CI */
  speedup: Interval;
  /**
   * Pairs per independent group, in order, when they came from several (native: driver processes; WASM: freshly
   * compiled instance pairs): the CI resampled groups, then pairs within them.
   */
  groupSizes?: number[];
  verdict: SpeedVerdict;
  noiseFloor: number;
  callsPerSample: number;
  candidateMedianNs: number;
  baselineMedianNs: number;
  /** from the spec's cost expressions at the candidate's median time */
  gbps: number;
  gflops: number;
  /** threads of each timed call, when more than one */
  nth?: number;
  /** the build's streaming and FMA speed of light at this shape, measured where the samples were taken */
  speedOfLight?: SpeedOfLight;
  /** set when the result is implausible (well past the speed of light) */
  suspect?: string;
  /** emulated timings (qemu) are never used for a verdict */
  emulated?: boolean;
  /**
   * Against the real ggml op (kbench run --upstream), from the same interleaved rounds: upstream time / this
   * variant's time per round (> 1: faster than upstream), median with a bootstrap CI and a verdict.
   */
  vsUpstream?: VsUpstream;
  upstreamNs?: number[];
  upstreamMedianNs?: number;
  /** ops per upstream graph call in these rounds: the asked copies, or fewer so its batch is no longer than the others' */
  upstreamCopies?: number;
}

export interface VsUpstream extends Interval {
  verdict: SpeedVerdict;
}
