import { describe, expect, it } from 'vitest';
import { summarizeSamples } from '../../src/measure/speed.js';
import { SPEED_OF_LIGHT_MARGIN, speedOfLightSuspect, type SpeedOfLight } from '../../src/measure/speed-of-light.js';
import { SPEED_OF_LIGHT_SPEC } from '../../src/sandbox/speed-of-light-probe.js';
import { parseSpec } from '../../src/spec/load.js';
import { BUILTIN_KERNELS_DIR, findKernel } from '../../src/spec/suite.js';

// rms_norm prefill: 64 rows of 4096, 2 MiB of buffers, 3 flops per element
const spec = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm').spec;
const env = { rows: 64, n: 4096 };
const flops = 3 * 64 * 4096;
const sol: SpeedOfLight = { footprintBytes: 2 << 20, readNs: 40_000, peakGflops: 30 };

describe('the speed-of-light flag', () => {
  it('comes from a probe whose hand-written spec passes the spec validator unchanged', () => {
    expect(parseSpec('speed_of_light', JSON.stringify(SPEED_OF_LIGHT_SPEC))).toEqual(SPEED_OF_LIGHT_SPEC);
  });

  it('passes a kernel near the streaming floor and flags one several times under it', () => {
    expect(speedOfLightSuspect(spec, env, 40_000 / 1.5, sol)).toBeUndefined();
    expect(speedOfLightSuspect(spec, env, 40_000 / (SPEED_OF_LIGHT_MARGIN + 0.1), sol)).toMatch(/over 3× faster than reading its 2\.0 MiB of buffers once \(40\.00 µs/);
  });

  it('flags counted flops done several times faster than the measured peak', () => {
    const heavy = { ...spec, cost: { ...spec.cost, flops: '1000*rows*n' } };
    const atPeakNs = (1000 * 64 * 4096) / 30;
    expect(speedOfLightSuspect(heavy, env, atPeakNs / 2, sol)).toBeUndefined();
    expect(speedOfLightSuspect(heavy, env, atPeakNs / 4, sol)).toMatch(/GFLOP\/s is over 3× the measured peak of 30\.0 GFLOP\/s/);
  });

  it('allows nth threads nth times the single-thread floors', () => {
    const t = 40_000 / 4;
    expect(speedOfLightSuspect(spec, env, t, sol, 1)).toMatch(/reading/);
    expect(speedOfLightSuspect(spec, env, t, sol, 4)).toBeUndefined();
  });

  it('is recorded with the speed result, and never judges emulated timings or timings without a measurement', () => {
    const samples = { shape: 'prefill', env, callsPerSample: 10, baselineNs: Array(9).fill(50_000), candidateNs: Array(9).fill(5_000) };
    const flagged = summarizeSamples(spec, { ...samples, speedOfLight: sol }, { noiseFloor: 0.02, seed: 1 });
    expect(flagged.speedOfLight).toEqual(sol);
    expect(flagged.suspect).toMatch(/reading its/);
    expect(summarizeSamples(spec, { ...samples, speedOfLight: sol }, { noiseFloor: 0.02, seed: 1, emulated: true }).suspect).toBeUndefined();
    expect(summarizeSamples(spec, samples, { noiseFloor: 0.02, seed: 1 }).suspect).toBeUndefined();
  });
});
