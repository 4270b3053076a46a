// The speed-of-light probe of the WASM build, run inside the sandbox worker: kernels/include/kb_speed_of_light.c,
// compiled by the same compiler with the same flags, streams a buffer the size of the shape's footprint and runs
// independent FMA chains (what the figures mean, and when a timing is suspect: measure/speed-of-light.ts).
// (The probe's source path is in screen/session.ts: this module is loaded by every sandbox worker, which must not
// load the spec validator.)
import { bufferLayouts } from '../check/inputs.js';
import { PROTOCOL } from '../check/rules.js';
import type { Env } from '../spec/expr.js';
import type { KernelSpec } from '../spec/schema.js';
import type { SpeedOfLight } from '../measure/speed-of-light.js';
import type { KernelInstance } from './instance.js';

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

/** Bytes of the input and output buffers of one call: what a kernel must at least read or write once (scratch need not be touched). */
export function footprintBytes(spec: KernelSpec, env: Env): number {
  return bufferLayouts(spec, env).reduce((n, b) => n + (b.role === 'scratch' ? 0 : b.bytes), 0);
}

/** The probe's shape for reading `bytes` (at least one full unrolled step of 8 vectors). */
function readProbeEnv(bytes: number): Env {
  return { n: Math.max(64, Math.ceil(bytes / 4)), iters: 0 };
}

/** FMA rounds of one flops-probe call: long enough to dwarf the call, short enough to time in batches. */
const FLOPS_PROBE_ENV: Env = { n: 64, iters: PROTOCOL.speedOfLight.fmaIters };

/**
 * Measures in the sandbox with the probe's WASM instance, for each footprint: every figure is the fastest of
 * PROTOCOL.speedOfLight.batches batches of at least its minBatchNs. The FMA peak does not depend on the footprint
 * and is measured once.
 */
export function measureInSandbox(probe: KernelInstance, footprints: number[], now = () => performance.now()): SpeedOfLight[] {
  const { batches, minBatchNs } = PROTOCOL.speedOfLight;
  const minBatchMs = minBatchNs / 1e6;
  const fastestNs = (env: Env): number => {
    if (!probe.layout(SPEED_OF_LIGHT_SPEC, env, 1)) throw new Error(`the speed-of-light probe does not fit ${4 * env.n} bytes in sandbox memory`);
    probe.write(0, 'x', new Uint8Array(4 * env.n));
    const time = (reps: number) => {
      const t0 = now();
      probe.batch(reps);
      return now() - t0;
    };
    let reps = 1;
    for (let ms = time(reps); ms < minBatchMs && reps < 1 << 24; ms = time(reps)) reps *= ms > 0 ? Math.min(16, Math.ceil((1.2 * minBatchMs) / ms)) : 16;
    let best = Infinity;
    for (let k = 0; k < batches; k++) best = Math.min(best, (time(reps) * 1e6) / reps);
    return best;
  };
  // A new instance's first milliseconds run several times slower (measured: 3 GB/s, then 42): warm up first.
  fastestNs(readProbeEnv(4096));
  const fmaNs = fastestNs(FLOPS_PROBE_ENV);
  const peakGflops = new DataView(probe.read(0, 'out').buffer).getFloat32(4, true) / fmaNs;
  return footprints.map((bytes) => ({ footprintBytes: bytes, readNs: fastestNs(readProbeEnv(bytes)), peakGflops }));
}
