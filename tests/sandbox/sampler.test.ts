import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { WasmCompiler } from '../../src/build/compiler.js';
import { resolveToolchain } from '../../src/build/toolchain.js';
import { KernelInstance } from '../../src/sandbox/instance.js';
import { sampleShapes, splitPairs } from '../../src/sandbox/sampler.js';
import { WASM_MAX_MEMORY_BYTES } from '../../src/spec/load.js';
import { loadKernel } from '../../src/spec/suite.js';
import { FIXTURE_KERNELS, tempDir } from '../helpers/fixtures.js';

describe('splitPairs', () => {
  it('splits the pairs as evenly as possible over the groups, the larger groups first', () => {
    expect(splitPairs(11, 3)).toEqual([4, 4, 3]);
    expect(splitPairs(15, 3)).toEqual([5, 5, 5]);
    expect(splitPairs(21, 1)).toEqual([21]);
    expect(splitPairs(10, 4)).toEqual([3, 3, 2, 2]);
  });
});

describe('timed batches', () => {
  const compiler = new WasmCompiler(resolveToolchain('yowasp'), { cacheDir: join(tempDir(), 'cache') });
  afterAll(() => compiler.close());

  it("are called at many native stack depths, so no one address of V8's spill slots decides a timing", async () => {
    const kernel = loadKernel(join(FIXTURE_KERNELS, 'scale_rows'));
    const build = async (path: string) => {
      const r = await compiler.compile(kernel.spec, readFileSync(path, 'utf8'), path);
      if (!r.ok) throw new Error(r.diagnostic);
      return new WebAssembly.Module(r.wasm);
    };
    const [baseline, reference] = [await build(kernel.baselinePath), await build(kernel.referencePath)];
    const instance = (m: WebAssembly.Module) => new KernelInstance(m, WASM_MAX_MEMORY_BYTES);
    Error.stackTraceLimit = 1000;
    const depths: number[] = [];
    const original = KernelInstance.prototype.batch;
    const spy = vi.spyOn(KernelInstance.prototype, 'batch').mockImplementation(function (this: KernelInstance, reps: number) {
      depths.push(new Error().stack!.split('\n').length);
      return original.call(this, reps);
    });
    try {
      const r = sampleShapes(kernel.spec, [{ base: instance(baseline), cand: instance(baseline) }], instance(reference), { pairs: 9, sampleMs: 0.05, seed: 7 });
      expect(r.ok).toBe(true);
    } finally {
      spy.mockRestore();
    }
    // timed batches (5 per variant and pair) spread over the depths; only warm-up and sizing run at the base depth
    expect(new Set(depths).size).toBeGreaterThan(50);
    expect(Math.max(...depths) - Math.min(...depths)).toBeGreaterThan(100);
  }, 120_000);

  it("verifies each group's own outputs: a later group's candidate within the tolerances passes, one outside fails in its warm-up", async () => {
    const kernel = loadKernel(join(FIXTURE_KERNELS, 'scale_rows'));
    const build = async (source: string) => {
      const r = await compiler.compile(kernel.spec, source, 'variant.c');
      if (!r.ok) throw new Error(r.diagnostic);
      return new WebAssembly.Module(r.wasm);
    };
    const scaled = (factor: string) =>
      `#include <math.h>\nvoid scale_rows(const float *x, float *y, int n, int rows, int ith, int nth) { for (int r = ith; r < rows; r += nth) { double s = 0; for (int i = 0; i < n; i++) s += fabs((double)x[r * n + i]); const float m = (float)(s / n) * ${factor}; for (int i = 0; i < n; i++) y[r * n + i] = x[r * n + i] * m; } }`;
    const [baseline, reference] = [await build(readFileSync(kernel.baselinePath, 'utf8')), await build(readFileSync(kernel.referencePath, 'utf8'))];
    // other bytes than the baseline's outputs in every element: 2e-6 is inside rtol (1e-5), 1e-3 outside
    const [near, far] = [await build(scaled('1.000002f')), await build(scaled('1.001f'))];
    const instance = (m: WebAssembly.Module) => new KernelInstance(m, WASM_MAX_MEMORY_BYTES);
    const run = (later: WebAssembly.Module) =>
      sampleShapes(kernel.spec, [0, 1, 2].map((g) => ({ base: instance(baseline), cand: instance(g === 0 ? baseline : later) })), instance(reference), { pairs: 9, sampleMs: 0.05, seed: 7 });
    expect(run(near).ok).toBe(true);
    const r = run(far);
    expect(r.ok).toBe(false);
    // judged against the reference at once, not only as a change from the first group's outputs
    if (!r.ok) expect(r.verdict).toMatchObject({ status: 'wrong', phase: 'timed', reason: expect.stringMatching(/atol \+ rtol/) });
  }, 120_000);
});
