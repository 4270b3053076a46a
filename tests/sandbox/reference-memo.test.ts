// The sandbox worker lends one candidate's inputs and reference outputs to the next candidate of the kernel
// (ReferenceMemo). Borrowed data must give every candidate the verdict it gets alone, and must never come from
// another reference build or seed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasmCompiler } from '../../src/build/compiler.js';
import { resolveToolchain } from '../../src/build/toolchain.js';
import { KernelInstance } from '../../src/sandbox/instance.js';
import { runCheck } from '../../src/sandbox/check-protocol.js';
import { ReferenceMemo } from '../../src/check/reference-memo.js';
import { sampleShapes } from '../../src/sandbox/sampler.js';
import { loadKernel } from '../../src/spec/suite.js';
import { FIXTURE_KERNELS, tempDir } from '../helpers/fixtures.js';

const kernel = loadKernel(join(FIXTURE_KERNELS, 'scale_rows'));
const spec = kernel.spec;
let compiler: WasmCompiler;
const wasm: Record<'reference' | 'baseline' | 'wrong', Uint8Array> = {} as never;

// right but on the third row and on the bench shape (n = 1024), scaled there by 1 + 1e-3
const WRONG = `#include <math.h>
void scale_rows(const float *x, float *y, int n, int rows, int ith, int nth) {
  for (int r = ith; r < rows; r += nth) {
    double s = 0;
    for (int i = 0; i < n; i++) s += fabs((double)x[r * n + i]);
    const float m = (float)(s / n) * (r == 2 || n == 1024 ? 1.001f : 1.0f);
    for (int i = 0; i < n; i++) y[r * n + i] = x[r * n + i] * m;
  }
}`;

beforeAll(async () => {
  compiler = new WasmCompiler(resolveToolchain('yowasp'), { cacheDir: join(tempDir(), 'cache') });
  const sources = { reference: readFileSync(kernel.referencePath, 'utf8'), baseline: readFileSync(kernel.baselinePath, 'utf8'), wrong: WRONG };
  for (const [role, source] of Object.entries(sources)) {
    const r = await compiler.compile(spec, source, `${role}.c`);
    if (!r.ok) throw new Error(r.diagnostic);
    wasm[role as keyof typeof wasm] = r.wasm;
  }
}, 120_000);
afterAll(() => compiler.close());

const instance = (bytes: Uint8Array) => new KernelInstance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), 64 << 20);
const check = (cand: Uint8Array, ref: Uint8Array, seed: number, memo?: ReferenceMemo) => runCheck(spec, instance(cand), instance(ref), seed, memo?.use(spec, ref, seed));

describe('inputs and reference outputs lent from one candidate to the next', () => {
  it('give each candidate the verdict it gets alone, in the check and in the timed samples', () => {
    const memo = new ReferenceMemo();
    expect(check(wasm.baseline, wasm.reference, 7, memo).status).toBe('pass');
    const alone = check(wasm.wrong, wasm.reference, 7);
    expect(alone.status).toBe('wrong');
    expect(check(wasm.wrong, wasm.reference, 7, memo)).toEqual(alone);
    expect(check(wasm.baseline, wasm.reference, 7, memo).status).toBe('pass');

    const timed = (cand: Uint8Array, memo?: ReferenceMemo) =>
      sampleShapes(spec, [{ base: instance(wasm.baseline), cand: instance(cand) }], instance(wasm.reference), { pairs: 9, sampleMs: 0.05, seed: 7, memo: memo?.use(spec, wasm.reference, 7) });
    expect(timed(wasm.baseline, memo).ok).toBe(true);
    const timedAlone = timed(wasm.wrong);
    expect(timedAlone).toMatchObject({ ok: false, verdict: { status: 'wrong', phase: 'timed' } });
    expect(timed(wasm.wrong, memo)).toEqual(timedAlone);
  }, 120_000);

  it('are never those of another reference build or seed', () => {
    const memo = new ReferenceMemo();
    expect(check(wasm.baseline, wasm.reference, 7, memo).status).toBe('pass');
    // against a "reference" that differs, the baseline is wrong: outputs kept from the real reference would pass it
    expect(check(wasm.baseline, wasm.wrong, 7, memo).status).toBe('wrong');
    expect(check(wasm.baseline, wasm.reference, 7, memo).status).toBe('pass');
    // another seed draws other inputs: outputs kept from seed 7 would not match them
    expect(check(wasm.wrong, wasm.reference, 8, memo)).toEqual(check(wasm.wrong, wasm.reference, 8));
  }, 120_000);
});
