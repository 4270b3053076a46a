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
});
