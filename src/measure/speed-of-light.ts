// The speed of light of the build that ran a kernel, measured where it ran: kernels/include/kb_speed_of_light.c,
// compiled by the same compiler with the same flags, streams a buffer the size of the shape's footprint and runs
// independent FMA chains. A timing several times faster than merely reading the kernel's buffers once, or than
// doing its counted flops at that peak, did not do the work: it is flagged suspect instead of celebrated.
// (The probe's source path is in screen/session.ts: this module is loaded by every sandbox worker, which must not
// load the spec validator.)
import { bufferLayouts } from '../check/inputs.js';
import { evalExpr, type Env } from '../spec/expr.js';
import type { KernelSpec } from '../spec/schema.js';
import type { KernelInstance } from '../sandbox/instance.js';
import { PROTOCOL } from '../check/rules.js';

/**
 * The probe as a kernel, so the generated glue, the sandbox and the compiler cache serve it as they do any kernel.
 * Written out in full (a test checks that it is a valid spec) rather than parsed here.
 */
export const SPEED_OF_LIGHT_SPEC: KernelSpec = {
  name: 'speed_of_light',
  description: 'the speed-of-light probe',
  function: 'kb_speed_of_light',
  params: [
    { name: 'x', kind: 'buffer', dtype: 'f32', length: 'n', role: 'in' },
    { name: 'out', kind: 'buffer', dtype: 'f32', length: '2', role: 'out' },
    { name: 'n', kind: 'scalar', type: 'i32', value: 'n' },
    { name: 'iters', kind: 'scalar', type: 'i32', value: 'iters' },
  ],
  shapes: { check: [{ n: 64, iters: 1 }], bench: [{ n: 64, iters: 1 }] },
  vary: {},
  inputs: { x: { kind: 'constant', value: 0 } },
  distributions: {},
  tolerance: { nmse: 0, atol: 0, rtol: 0 },
  cost: { bytes: '4*n', flops: '32*iters' },
  trials: 1,
};

/** FMA rounds of one flops-probe call: long enough to dwarf the call, short enough to time in batches. */
export const FMA_ITERS = 4096;

/**
 * How many times faster than the speed of light a timing must be to be suspect. A kernel may beat the streaming
 * probe legitimately (loads and stores issue in parallel, about 1.5× a pure read in L1; some inputs need not be
 * read at all, e.g. K rows under a fully masked tile), but not by this much.
 */
export const SPEED_OF_LIGHT_MARGIN = PROTOCOL.speedOfLight.suspectFactor;

export interface SpeedOfLight {
  /** bytes of one call's input and output buffers, the size the read probe streamed */
  footprintBytes: number;
  /** fastest time to read footprintBytes once, ns */
  readNs: number;
  /** fastest vector FMA rate, GFLOP/s (one thread) */
  peakGflops: number;
}

/** Bytes of the input and output buffers of one call: what a kernel must at least read or write once (scratch need not be touched). */
export function footprintBytes(spec: KernelSpec, env: Env): number {
  return bufferLayouts(spec, env).reduce((n, b) => n + (b.role === 'scratch' ? 0 : b.bytes), 0);
}

/** The probe's shape for reading `bytes` (at least one full unrolled step of 8 vectors). */
export function readProbeEnv(bytes: number): Env {
  return { n: Math.max(64, Math.ceil(bytes / 4)), iters: 0 };
}

export const FLOPS_PROBE_ENV: Env = { n: 64, iters: FMA_ITERS };

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

/**
 * Measures in the sandbox with the probe's WASM instance, for each footprint: every figure is the fastest of 7
 * batches of ≥ 1 ms. The FMA peak does not depend on the footprint and is measured once.
 */
export function measureInSandbox(probe: KernelInstance, footprints: number[], now = () => performance.now()): SpeedOfLight[] {
  const fastestNs = (env: Env): number => {
    if (!probe.layout(SPEED_OF_LIGHT_SPEC, env, 1)) throw new Error(`the speed-of-light probe does not fit ${4 * env.n} bytes in sandbox memory`);
    probe.write(0, 'x', new Uint8Array(4 * env.n));
    const time = (reps: number) => {
      const t0 = now();
      probe.batch(reps);
      return now() - t0;
    };
    let reps = 1;
    for (let ms = time(reps); ms < 1 && reps < 1 << 24; ms = time(reps)) reps *= ms > 0 ? Math.min(16, Math.ceil(1.2 / ms)) : 16;
    let best = Infinity;
    for (let k = 0; k < 7; k++) best = Math.min(best, (time(reps) * 1e6) / reps);
    return best;
  };
  // A new instance's first milliseconds run several times slower (measured: 3 GB/s, then 42): warm up first.
  fastestNs(readProbeEnv(4096));
  const fmaNs = fastestNs(FLOPS_PROBE_ENV);
  const peakGflops = new DataView(probe.read(0, 'out').buffer).getFloat32(4, true) / fmaNs;
  return footprints.map((bytes) => ({ footprintBytes: bytes, readNs: fastestNs(readProbeEnv(bytes)), peakGflops }));
}

function fmtNs(ns: number): string {
  return ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(1)} ns`;
}

function fmtBytes(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`;
}
