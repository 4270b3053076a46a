// Scalar float selects in the screen's native models: done on the values' bits (i32/i64.select, which V8 lowers to
// cmov) instead of f32/f64.select (which V8 lowers to a branch), bit for bit the same results, in every avx2/neon
// screen build and not in the wasm model's.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { branchlessSelects } from '../../src/build/branchless-select.js';
import { WasmCompiler } from '../../src/build/compiler.js';
import { resolveToolchain } from '../../src/build/toolchain.js';
import { screenModel } from '../../src/build/screen-target.js';
import { SANDBOX_EXEC_ARGV } from '../../src/sandbox/sandbox.js';
import { loadKernel } from '../../src/spec/suite.js';
import { FIXTURE_KERNELS, tempDir } from '../helpers/fixtures.js';

// the shape of clang's WebAssembly assembly (-S): a declaration block, then each function's label, .functype, .local
const ASM = `\t.file\t"kernel.c"
\t.functype\tpick (f32, f32, f64, f64) -> (f32)
\t.section\t.text.pick,"",@
\t.hidden\tpick
\t.globl\tpick
\t.type\tpick,@function
pick:                                   # @pick
\t.functype\tpick (f32, f32, f64, f64) -> (f32)
\t.local  \tf32, i32
# %bb.0:
\tlocal.get\t0
\tlocal.get\t1
\tlocal.get\t0
\tlocal.get\t1
\tf32.gt  
\tf32.select
\tlocal.set\t4
\tlocal.get\t2
\tlocal.get\t3
\tlocal.get\t2
\tlocal.get\t3
\tf64.lt  
\tf64.select
\tdrop
\tlocal.get\t5
\tlocal.get\t5
\tlocal.get\t5
\ti32.select
\tdrop
\tlocal.get\t4
\tend_function
noLocals:                               # @noLocals
\t.functype\tnoLocals (f32, f32, i32) -> (f32)
# %bb.0:
\tlocal.get\t0
\tlocal.get\t1
\tlocal.get\t2
\tf32.select
\tend_function
`;

describe('branchlessSelects (the assembly rewrite)', () => {
  const out = branchlessSelects(ASM);
  const lines = out.split('\n');

  it('replaces every f32/f64 select by the integer select of the bits, through scratch locals added to the function', () => {
    expect(out).not.toMatch(/\t(f32|f64)\.select/);
    // pick: 4 params, 2 locals → scratch cond = 6 (i32), i32 = 7, i64 = 8, each declared once
    expect(lines).toContain('\t.local  \tf32, i32, i32, i32, i64');
    const f32 = lines.indexOf('\ti32.select');
    expect(lines.slice(f32 - 6, f32 + 2)).toEqual(['\tlocal.set\t6', '\ti32.reinterpret_f32', '\tlocal.set\t7', '\ti32.reinterpret_f32', '\tlocal.get\t7', '\tlocal.get\t6', '\ti32.select', '\tf32.reinterpret_i32']);
    const f64 = lines.indexOf('\ti64.select');
    expect(lines.slice(f64 - 6, f64 + 2)).toEqual(['\tlocal.set\t6', '\ti64.reinterpret_f64', '\tlocal.set\t8', '\ti64.reinterpret_f64', '\tlocal.get\t8', '\tlocal.get\t6', '\ti64.select', '\tf64.reinterpret_i64']);
  });

  it('declares locals for a function that had none, and leaves declarations and integer selects alone', () => {
    const at = lines.indexOf('\t.functype\tnoLocals (f32, f32, i32) -> (f32)');
    expect(lines[at + 1]).toBe('\t.local\ti32, i32');
    expect(lines.slice(at + 3, at + 7)).toEqual(['\tlocal.get\t0', '\tlocal.get\t1', '\tlocal.get\t2', '\tlocal.set\t3']);
    expect(lines[1]).toBe('\t.functype\tpick (f32, f32, f64, f64) -> (f32)');
    expect(lines.filter((l) => l === '\ti32.select')).toHaveLength(3); // pick's own, its f32 rewrite, noLocals'
    expect(branchlessSelects('\ti32.select\n')).toBe('\ti32.select\n');
  });
});

describe('a screen build with branchless selects', () => {
  const kernel = loadKernel(join(FIXTURE_KERNELS, 'scale_rows'));
  const yowasp = resolveToolchain('yowasp');
  const compilers: WasmCompiler[] = [];
  afterAll(() => Promise.all(compilers.map((c) => c.close())));
  const build = async (branchless: boolean) => {
    const model = screenModel('avx2', yowasp, { branchlessSelects: branchless });
    const compiler = new WasmCompiler(yowasp, { cacheDir: join(tempDir(), 'cache'), flags: model.flags, intrinsics: model.intrinsics, branchlessSelects: model.branchlessSelects });
    compilers.push(compiler);
    const r = await compiler.compile(kernel.spec, SOURCE, 'selects.c');
    if (!r.ok) throw new Error(r.diagnostic);
    return r.wasm;
  };
  // running max and min (the ggml baseline's scalar loops), a select on another condition, and one on doubles;
  // the inputs hold NaN, ±0 and ±inf, where a select that is not the same bit for bit would show
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

  it('selects on the bits in the module (avx2 model) and gives the same bits as the plain select', async () => {
    const [rewritten, plain] = await Promise.all([build(true), build(false)]);
    // local.set c; i32.reinterpret_f32; local.set b; i32.reinterpret_f32; local.get b; local.get c; select; f32.reinterpret_i32
    const seq = /\b21 (..) bc 21 (..) bc 20 \2 20 \1 1b be\b/;
    const hex = (w: Uint8Array) => Array.from(w, (b) => b.toString(16).padStart(2, '0')).join(' ');
    expect(hex(rewritten)).toMatch(seq);
    expect(hex(plain)).not.toMatch(seq);
    expect(run(rewritten)).toBe(run(plain));
  }, 180_000);

  it("fails a candidate whose own assembly does not assemble as the candidate's compile error, not kbench's", async () => {
    const model = screenModel('avx2', yowasp);
    const compiler = new WasmCompiler(yowasp, { cacheDir: join(tempDir(), 'cache'), flags: model.flags, branchlessSelects: true });
    compilers.push(compiler);
    const r = await compiler.compile(kernel.spec, `void scale_rows(const float *x, float *y, int n, int rows, int ith, int nth) {
  __asm__ volatile("no_such_instruction");
  (void)x, (void)y, (void)n, (void)rows, (void)ith, (void)nth;
}`, 'inline_asm.c');
    expect(r.ok).toBe(false);
    expect(r).not.toHaveProperty('harness');
    expect(r.ok ? '' : r.diagnostic).toMatch(/no_such_instruction/);
  }, 120_000);

  it('is part of the native models and not of the wasm model', () => {
    expect(screenModel('avx2', yowasp)).toMatchObject({ branchlessSelects: true, label: 'screen avx2 (8 lanes, FMA, AVX2 intrinsics, branchless selects)' });
    expect(screenModel('neon', yowasp)).toMatchObject({ branchlessSelects: true, label: 'screen neon (4 lanes, FMA, branchless selects)' });
    expect(screenModel('wasm', yowasp)).toMatchObject({ branchlessSelects: false, label: 'screen wasm (4 lanes, no FMA)' });
  });
});
