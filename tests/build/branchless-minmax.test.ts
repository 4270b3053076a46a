// Float max/min selects in the avx2 screen model: `a > b ? a : b` / `a < b ? a : b` become pmax/pmin on lane 0
// (V8: maxps/minps, a dependency chain as gcc's maxss) instead of f32/f64.select (V8: a branch), bit for bit the
// same results, in every avx2 build and not in the neon (gcc's AArch64 code branches) or wasm model's.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { branchlessMinMax } from '../../src/build/branchless-minmax.js';
import { WasmCompiler } from '../../src/build/compiler.js';
import { resolveToolchain } from '../../src/build/toolchain.js';
import { screenModel } from '../../src/build/screen-target.js';
import { SANDBOX_EXEC_ARGV } from '../../src/sandbox/sandbox.js';
import { loadKernel } from '../../src/spec/suite.js';
import { FIXTURE_KERNELS, tempDir } from '../helpers/fixtures.js';

// the shape of clang's WebAssembly assembly (-S): a declaration block, then each function's label, .functype, .local;
// in `loop` the first value of a select was pushed before other code (clang's stackified form of an unrolled max)
const ASM = `\t.file\t"kernel.c"
\t.functype\tloop (f32, f32, f32) -> (f32)
\t.type\tloop,@function
loop:                                   # @loop
\t.functype\tloop (f32, f32, f32) -> (f32)
\t.local  \tf32, i32
# %bb.0:
\tlocal.get\t1
\tlocal.tee\t4
\tlocal.get\t0
\tlocal.get\t4
\tlocal.get\t0
\tf32.gt  
\tf32.select
\tlocal.tee\t0
\tlocal.get\t2
\tf32.lt  
\tdrop
\tlocal.get\t2
\tlocal.get\t0
\tlocal.get\t2
\tlocal.get\t0
\tf32.lt  
\tf32.select
\tlocal.get\t1
\tlocal.get\t2
\tlocal.get\t2
\tlocal.get\t1
\tf32.gt  
\tf32.select
\tlocal.get\t1
\tlocal.get\t2
\tlocal.get\t1
\tlocal.get\t2
\tf32.ge  
\tf32.select
\tend_function
other:                                  # @other
\t.functype\tother (f64, f64) -> (f64)
# %bb.0:
\tlocal.get\t0
\tlocal.get\t1
\tlocal.get\t0
\tlocal.get\t1
\tf64.gt  
\tf64.select
\tend_function
`;
const MAX = (v: string, second: number, first: number, op = 'pmax') => ['\tdrop', `\t${v}.splat`, `\tlocal.set\t${second}`, `\t${v}.splat`, `\tlocal.set\t${first}`, `\tlocal.get\t${second}`, `\tlocal.get\t${first}`, `\t${v}.${op}`, `\t${v}.extract_lane\t0`];

describe('branchlessMinMax (the assembly rewrite)', () => {
  const lines = branchlessMinMax(ASM).split('\n');
  const selectsLeft = lines.filter((l) => /select/.test(l));

  it('turns a > b ? a : b into pmax and a < b ? a : b into pmin, the first value found under other code', () => {
    // loop: 3 params + 2 locals → two v128 scratch locals 5 and 6, declared once
    expect(lines).toContain('\t.local  \tf32, i32, v128, v128');
    const first = lines.indexOf('\tdrop');
    expect(lines.slice(first, first + 9)).toEqual(MAX('f32x4', 5, 6)); // select(x1, x0, x1 > x0) via the tee of local 4
    const pmins = lines.map((l, i) => (l === '\tf32x4.pmin' ? i : -1)).filter((i) => i >= 0);
    expect(pmins).toHaveLength(2); // select(x2, x0, x2 < x0), and select(x1, x2, x2 > x1) = x1 < x2 ? x1 : x2
    // other: no .local line before → one added; f64 → f64x2
    const at = lines.indexOf('\t.functype\tother (f64, f64) -> (f64)');
    expect(lines[at + 1]).toBe('\t.local\tv128, v128');
    expect(lines.slice(at + 8, at + 17)).toEqual(MAX('f64x2', 2, 3));
  });

  it('leaves a select alone unless its condition is exactly > or < of its two values', () => {
    // >= keeps its select: its result differs from maxss for ±0 and NaN (gcc branches on it too)
    expect(selectsLeft).toEqual(['\tf32.select']);
    expect(lines.slice(lines.indexOf('\tf32.ge  ') - 4, lines.indexOf('\tf32.ge  ') + 2)).toEqual(['\tlocal.get\t1', '\tlocal.get\t2', '\tlocal.get\t1', '\tlocal.get\t2', '\tf32.ge  ', '\tf32.select']);
    expect(lines[1]).toBe('\t.functype\tloop (f32, f32, f32) -> (f32)');
    // the first value's local written between its push and the condition: not provably a max
    const rewritten = branchlessMinMax('f:\n\t.functype\tf (f32, f32) -> (f32)\n\tlocal.get\t0\n\tlocal.get\t1\n\tlocal.set\t0\n\tlocal.get\t1\n\tlocal.get\t0\n\tlocal.get\t1\n\tf32.gt\n\tf32.select\n\tend_function\n');
    expect(rewritten).toContain('\tf32.select');
  });
});

describe('a screen build with branchless max/min', () => {
  const kernel = loadKernel(join(FIXTURE_KERNELS, 'scale_rows'));
  const yowasp = resolveToolchain('yowasp');
  const compilers: WasmCompiler[] = [];
  afterAll(() => Promise.all(compilers.map((c) => c.close())));
  const build = async (branchless: boolean) => {
    const model = screenModel('avx2', yowasp, { branchlessMinMax: branchless });
    const compiler = new WasmCompiler(yowasp, { cacheDir: join(tempDir(), 'cache'), flags: model.flags, intrinsics: model.intrinsics, branchlessMinMax: model.branchlessMinMax });
    compilers.push(compiler);
    const r = await compiler.compile(kernel.spec, SOURCE, 'selects.c');
    if (!r.ok) throw new Error(r.diagnostic);
    return r.wasm;
  };
  // running max and min (the ggml baseline's scalar loops) and selects that are neither (left alone); the inputs
  // hold NaN, ±0 and ±inf, where a rewrite that is not the same bit for bit would show
  const SOURCE = `void scale_rows(const float *x, float *y, int n, int rows, int ith, int nth) {
  (void)rows; (void)ith; (void)nth;
  float mx = x[0], mn = x[0];
  double d = 0;
  for (int i = 0; i < n; i++) {
    mx = x[i] > mx ? x[i] : mx;
    mn = x[i] < mn ? x[i] : mn;
    y[i] = i % 3 == 0 ? x[i] : -x[i];
    d = (double)x[i] > d ? (double)x[i] * 0.5 : d;
  }
  y[n] = mx, y[n + 1] = mn, y[n + 2] = (float)d;
}`;
  const x = [0, -0, 1.5, NaN, -Infinity, 3, -0, Infinity, -2, 0.25, NaN, -7];
  const run = (wasm: Uint8Array) =>
    execFileSync(process.execPath, [...SANDBOX_EXEC_ARGV, new URL('../helpers/run-wasm.mjs', import.meta.url).pathname], {
      input: JSON.stringify({ wasm: Buffer.from(wasm).toString('base64'), x: x.map((v) => (Object.is(v, -0) ? '-0' : Number.isFinite(v) ? v : String(v))), n: x.length, rows: 1 }),
      encoding: 'utf8',
    });

  it('runs the running max and min as pmax/pmin in the module (avx2 model), with the same bits as the selects', async () => {
    const [rewritten, plain] = await Promise.all([build(true), build(false)]);
    // f32x4.pmax is 0xfd 0xeb 0x01 and f32x4.pmin 0xfd 0xea 0x01 (WebAssembly SIMD opcodes 235, 234)
    const has = (w: Uint8Array, op: number) => Buffer.from(w).includes(Buffer.from([0xfd, op, 0x01]));
    expect([has(rewritten, 0xeb), has(rewritten, 0xea)]).toEqual([true, true]);
    expect([has(plain, 0xeb), has(plain, 0xea)]).toEqual([false, false]);
    expect(run(rewritten)).toBe(run(plain));
  }, 180_000);

  it("fails a candidate whose own assembly does not assemble as the candidate's compile error, not kbench's", async () => {
    const model = screenModel('avx2', yowasp);
    const compiler = new WasmCompiler(yowasp, { cacheDir: join(tempDir(), 'cache'), flags: model.flags, branchlessMinMax: true });
    compilers.push(compiler);
    const r = await compiler.compile(kernel.spec, `void scale_rows(const float *x, float *y, int n, int rows, int ith, int nth) {
  __asm__ volatile("no_such_instruction");
  (void)x, (void)y, (void)n, (void)rows, (void)ith, (void)nth;
}`, 'inline_asm.c');
    expect(r.ok).toBe(false);
    expect(r).not.toHaveProperty('harness');
    expect(r.ok ? '' : r.diagnostic).toMatch(/no_such_instruction/);
  }, 120_000);

  it('is part of the avx2 model, not of the neon or wasm model', () => {
    expect(screenModel('avx2', yowasp)).toMatchObject({ branchlessMinMax: true, label: 'screen avx2 (8 lanes, FMA, AVX2 intrinsics, branchless max/min)' });
    expect(screenModel('neon', yowasp)).toMatchObject({ branchlessMinMax: false, label: 'screen neon (4 lanes, FMA)' });
    expect(screenModel('wasm', yowasp)).toMatchObject({ branchlessMinMax: false, label: 'screen wasm (4 lanes, no FMA)' });
  });
});
