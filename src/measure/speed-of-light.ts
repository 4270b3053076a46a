// The speed of light of the build that ran a kernel, measured where it ran (by the probe kernels/include/
// kb_speed_of_light.c: in the sandbox by sandbox/speed-of-light-probe.ts, natively by the driver): the time to stream
// the shape's buffers once and the FMA peak. A timing several times faster than merely reading the kernel's buffers
// once, or than doing its counted flops at that peak, did not do the work: it is flagged suspect instead of celebrated.
import { evalExpr, type Env } from '../spec/expr.js';
import type { KernelSpec } from '../spec/schema.js';

/**
 * How many times faster than the speed of light a timing must be to be suspect. A kernel may beat the streaming
 * probe legitimately (loads and stores issue in parallel, about 1.5× a pure read in L1; some inputs need not be
 * read at all, e.g. K rows under a fully masked tile), but not by this much.
 */
export const SPEED_OF_LIGHT_MARGIN = 3;

export interface SpeedOfLight {
  /** bytes of one call's input and output buffers, the size the read probe streamed */
  footprintBytes: number;
  /** fastest time to read footprintBytes once, ns */
  readNs: number;
  /** fastest vector FMA rate, GFLOP/s (one thread) */
  peakGflops: number;
}

/**
 * Why a timing is implausible against the measured speed of light, or undefined. With `nth` threads each may
 * stream and compute at the single-thread rate, so the floors divide by nth.
 */
export function speedOfLightSuspect(spec: KernelSpec, env: Env, medianNs: number, sol: SpeedOfLight, nth = 1): string | undefined {
  const flops = evalExpr(spec.cost.flops, env);
  const floor = floorsNs(flops, sol, nth);
  if (medianNs * SPEED_OF_LIGHT_MARGIN < floor.readNs)
    return `${fmtNs(medianNs)} per call is over ${SPEED_OF_LIGHT_MARGIN}× faster than reading its ${fmtBytes(sol.footprintBytes)} of buffers once (${fmtNs(floor.readNs)} measured on this build)`;
  if (medianNs * SPEED_OF_LIGHT_MARGIN < floor.flopsNs)
    return `${(flops / medianNs).toFixed(1)} GFLOP/s is over ${SPEED_OF_LIGHT_MARGIN}× the measured peak of ${(sol.peakGflops * nth).toFixed(1)} GFLOP/s`;
  return undefined;
}

/**
 * How close a timing came to the speed of light: the larger of (time to stream the buffers once / time taken) and
 * (GFLOP/s achieved / peak), both for the threads used. 1 is at the roofline; well above 1 is suspect. Undefined
 * when not measured, and for emulated timings.
 */
export function lightShare(s: { candidateMedianNs: number; gflops: number; speedOfLight?: SpeedOfLight; nth?: number; emulated?: boolean }): number | undefined {
  if (!s.speedOfLight || s.emulated) return undefined;
  const floor = floorsNs(s.gflops * s.candidateMedianNs, s.speedOfLight, s.nth ?? 1);
  return Math.max(floor.readNs, floor.flopsNs) / s.candidateMedianNs;
}

/** The least time one call can take with nth threads, each streaming and computing at the single-thread rate. */
function floorsNs(flops: number, sol: SpeedOfLight, nth: number): { readNs: number; flopsNs: number } {
  return { readNs: sol.readNs / nth, flopsNs: flops / (sol.peakGflops * nth) };
}

function fmtNs(ns: number): string {
  return ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(1)} ns`;
}

function fmtBytes(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`;
}
