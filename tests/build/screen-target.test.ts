// The screen's model of its native target: kb_simd.h's 8-lane WASM path computes what the 4-lane path does (lane by
// lane bit for bit; kb_hsum in the documented AVX2 order), relaxed-SIMD FMA is fused and correct on this Node under
// the sandbox's flags, and every screened result records the model so calibrate can group by it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WasmCompiler } from '../../src/build/compiler.js';
import { defaultScreenTarget, parseScreenTarget, screenModel } from '../../src/build/screen-target.js';
import { UsageError } from '../../src/errors.js';
import { probeToolchains, resolveToolchain } from '../../src/build/toolchain.js';
import { SANDBOX_EXEC_ARGV } from '../../src/sandbox/sandbox.js';
import { ScreenSession } from '../../src/screen/session.js';
import { loadKernel } from '../../src/spec/suite.js';
import { FIXTURE_KERNELS, tempDir } from '../helpers/fixtures.js';

// Kernels here take the fixture's signature (x, y, n, rows, ith, nth) and are run once by a child Node process.
const kernel = loadKernel(join(FIXTURE_KERNELS, 'scale_rows'));
const RUN_WASM = new URL('../helpers/run-wasm.mjs', import.meta.url).pathname;
const yowasp = resolveToolchain('yowasp');
const compilers: WasmCompiler[] = [];
afterAll(() => Promise.all(compilers.map((c) => c.close())));

async function build(source: string, flags: string[]): Promise<Uint8Array> {
  const compiler = new WasmCompiler(yowasp, { cacheDir: join(tempDir(), 'cache'), flags });
  compilers.push(compiler);
  const r = await compiler.compile(kernel.spec, source, 'test.c');
  if (!r.ok) throw new Error(r.diagnostic);
  return r.wasm;
}

/** y as float32 values, run under the sandbox's V8 flags (or others) */
function run(wasm: Uint8Array, x: number[], n: number, rows: number, execArgv = SANDBOX_EXEC_ARGV): Float32Array {
  const out = execFileSync(process.execPath, [...execArgv, RUN_WASM], { input: JSON.stringify({ wasm: Buffer.from(wasm).toString('base64'), x, n, rows }), encoding: 'utf8' });
  return new Float32Array(new Uint32Array(JSON.parse(out) as number[]).buffer);
}

const LANES4 = ['-DKB_SCREEN_LANES=4', '-DKB_SCREEN_FMA=0'];
const LANES8 = ['-DKB_SCREEN_LANES=8', '-DKB_SCREEN_FMA=0'];
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe("kb_simd.h's 8-lane WASM path", () => {
  // Row 0: every per-lane operation of kb_simd.h on x. Row 1: KB_LANES, kb_hsum and kb_hmax of a per-lane
  // accumulation over x, then the accumulator's lanes, so the test can redo the reduction in the documented order.
  const source = `#include "kb_simd.h"
void scale_rows(const float *x, float *y, int n, int rows, int ith, int nth) {
    (void)rows; (void)ith; (void)nth;
    kb_f32v acc = kb_zero(), mx = kb_splat(-1e30f);
    for (int i = 0; i < n; i += KB_LANES) {
        kb_f32v v = kb_loadu(x + i), a = kb_abs(v);
        kb_f32v r = kb_add(kb_mul(kb_exp(v), kb_tanh(v)), kb_div(kb_sqrt(a), kb_add(kb_round(kb_fma(v, v, kb_splat(1.0f))), kb_splat(1.0f))));
        r = kb_sub(r, kb_min(kb_max(v, kb_splat(-0.5f)), kb_splat(0.5f)));
        kb_storeu(y + i, r);
        acc = kb_fma(v, v, acc);
        mx = kb_max(mx, v);
    }
    y[n] = (float)KB_LANES;
    y[n + 1] = kb_hsum(acc);
    y[n + 2] = kb_hmax(mx);
    kb_storeu(y + n + 8, acc);
}`;
  const n = 64;
  const x = Array.from({ length: 2 * n }, (_, i) => (i < n ? Math.fround(Math.sin(i * 1.7) * (i % 5 === 0 ? 30 : 3)) : 0));

  it('computes every lane as the 4-lane path does, and kb_hsum in the AVX2 order ((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7))', async () => {
    const [four, eight] = [run(await build(source, LANES4), x, n, 2), run(await build(source, LANES8), x, n, 2)];
    expect([four[n], eight[n]]).toEqual([4, 8]);
    expect(bits(eight.subarray(0, n))).toEqual(bits(four.subarray(0, n)));
    const f = Math.fround;
    const a4 = four.subarray(n + 8, n + 12);
    const a8 = eight.subarray(n + 8, n + 16);
    expect(four[n + 1]).toBe(f(f(a4[0] + a4[2]) + f(a4[1] + a4[3])));
    const h = [0, 1, 2, 3].map((i) => f(a8[i] + a8[i + 4]));
    expect(eight[n + 1]).toBe(f(f(h[0] + h[2]) + f(h[1] + h[3])));
    // both are the sum of squares within the rounding of n additions
    const exact = x.slice(0, n).reduce((s, v) => s + v * v, 0);
    for (const s of [four[n + 1], eight[n + 1]]) expect(Math.abs(s - exact)).toBeLessThan(n * 2 ** -24 * exact);
    expect(eight[n + 2]).toBe(four[n + 2]);
    expect(eight[n + 2]).toBe(Math.max(...x.slice(0, n)));
  }, 120_000);

  it('with FMA in both, still computes every lane as the 4-lane path does', async () => {
    const fma = (lanes: number) => [`-DKB_SCREEN_LANES=${lanes}`, '-DKB_SCREEN_FMA=1', '-mrelaxed-simd'];
    const [four, eight] = [run(await build(source, fma(4)), x, n, 2), run(await build(source, fma(8)), x, n, 2)];
    expect(bits(eight.subarray(0, n))).toEqual(bits(four.subarray(0, n)));
    // and FMA changed something (kb_exp's reduction rounds once): the flags reach kb_simd.h
    const plain = run(await build(source, LANES4), x, n, 2);
    expect(bits(four.subarray(0, n))).not.toEqual(bits(plain.subarray(0, n)));
  }, 120_000);
});

describe('relaxed-SIMD FMA (the avx2 model) on this Node', () => {
  // x rows a, b, c; y row 0 = kb_fma(a, b, c). a = 1 + i·2⁻²³, b = 1 + j·2⁻²³, c = −(1 + (i+j)·2⁻²³): the fused
  // result is i·j·2⁻⁴⁶ exactly, mul + add gives 0, and a wrong operand order gives something else again.
  const source = `#include "kb_simd.h"
void scale_rows(const float *x, float *y, int n, int rows, int ith, int nth) {
    (void)rows; (void)ith; (void)nth;
    for (int i = 0; i < n; i += KB_LANES) kb_storeu(y + i, kb_fma(kb_loadu(x + i), kb_loadu(x + n + i), kb_loadu(x + 2 * n + i)));
}`;
  const n = 32;
  const ij = Array.from({ length: n }, (_, k) => [1 + (k % 7), 1 + ((k * 3) % 11)]);
  const u = 2 ** -23;
  const x = [...ij.map(([i]) => 1 + i * u), ...ij.map(([, j]) => 1 + j * u), ...ij.map(([i, j]) => -(1 + (i + j) * u))];
  const model = screenModel('avx2', yowasp);

  it('is one relaxed_madd instruction that rounds once under the sandbox flags (TurboFan)', async () => {
    expect(model).toMatchObject({ lanes: 8, fma: true, label: 'screen avx2 (8 lanes, FMA, AVX2 intrinsics, branchless max/min)' });
    const wasm = await build(source, model.flags);
    // f32x4.relaxed_madd is 0xfd 0x105 (LEB128 0x85 0x02) in the relaxed-SIMD proposal (github.com/WebAssembly/relaxed-simd)
    expect(Buffer.from(wasm).includes(Buffer.from([0xfd, 0x85, 0x02]))).toBe(true);
    const y = run(wasm, x, n, 3);
    expect(Array.from(y.subarray(0, n))).toEqual(ij.map(([i, j]) => i * j * 2 ** -46));
    // the sandbox host runs with these flags; without relaxed SIMD the module does not even validate on Node 20
    expect(SANDBOX_EXEC_ARGV).toEqual(expect.arrayContaining(['--no-liftoff', '--experimental-wasm-relaxed-simd']));
  }, 120_000);
});

describe('the screen model in results', () => {
  it('is recorded in the toolchain string of every result, and a model with FMA prefers a compiler that has it', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'kbench-model-'));
    const source = readFileSync(join(kernel.dir, 'candidates', 'same.c'), 'utf8');
    for (const [target, label] of [['avx2', 'screen avx2 (8 lanes, FMA, AVX2 intrinsics, branchless max/min)'], ['neon', 'screen neon (4 lanes, FMA)'], ['wasm', 'screen wasm (4 lanes, no FMA)']]) {
      const session = ScreenSession.open({ workDir, target });
      try {
        const r = await session.screenCandidate(kernel, { name: 'same', source }, { bench: false });
        expect(r.check.status).toBe('pass');
        expect(r.toolchain).toContain(`; ${label}`);
        if (target !== 'wasm') expect(session.toolchain.kind === 'yowasp' || session.toolchain.kind === 'clang').toBe(true);
      } finally {
        await session.close();
      }
    }
    const emcc = probeToolchains().find((p) => p.kind === 'emcc')?.found;
    if (emcc) expect(screenModel('avx2', emcc).label).toBe(`screen avx2 (8 lanes, no FMA: emcc ${emcc.version} lacks relaxed madd, AVX2 intrinsics)`) // emcc: one build step, no rewrite;
  }, 180_000);
});

describe("the avx2 model and a candidate's own AVX2 code", () => {
  // scale_rows with a right AVX2 branch and a wrong fallback: only a screen that builds the AVX2 branch passes it
  const scaled = (avx2Body: string) => `#include <math.h>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif
void scale_rows(const float *x, float *y, int n, int rows, int ith, int nth) {
  for (int r = ith; r < rows; r += nth) {
    double s = 0;
    for (int i = 0; i < n; i++) s += fabs((double)x[r * n + i]);
    const float m = (float)(s / n);
    const float *xr = x + r * n;
    float *yr = y + r * n;
    int i = 0;
#if defined(__AVX2__) && defined(__FMA__)
    ${avx2Body}
    for (; i < n; i++) yr[i] = xr[i] * m;
#else
    for (; i < n; i++) yr[i] = 0.0f;
#endif
  }
}`;
  const right = scaled('for (; i + 8 <= n; i += 8) _mm256_storeu_ps(yr + i, _mm256_mul_ps(_mm256_loadu_ps(xr + i), _mm256_set1_ps(m)));');
  // a gather is not in kbench's headers: the intrinsics build fails and the (wrong) plain build is screened
  const gather = scaled(`for (; i + 8 <= n; i += 8) {
      __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
      _mm256_storeu_ps(yr + i, _mm256_mul_ps(_mm256_i32gather_ps(xr + i, idx, 4), _mm256_set1_ps(m)));
    }`);

  async function screened(source: string, intrinsics?: boolean) {
    const session = ScreenSession.open({ workDir: mkdtempSync(join(tmpdir(), 'kbench-x86-')), target: 'avx2', intrinsics });
    try {
      return await session.screenCandidate(kernel, { name: 'avx2_branch', source }, { bench: false });
    } finally {
      await session.close();
    }
  }

  it('screens the AVX2 branch built against kbench\'s x86 headers, and the fallback without them', async () => {
    const withHeaders = await screened(right);
    expect(withHeaders.check.status).toBe('pass');
    expect(withHeaders.toolchain).toMatch(/; screen avx2 \(8 lanes, FMA, AVX2 intrinsics, branchless max\/min\)$/);
    const plain = await screened(right, false);
    expect(plain.check.status).not.toBe('pass');
    expect(plain.toolchain).toMatch(/; screen avx2 \(8 lanes, FMA, branchless max\/min\)$/);
  }, 180_000);

  it('screens the plain build, and says so, when the candidate uses an intrinsic the headers lack', async () => {
    const r = await screened(gather);
    expect(r.check.status).not.toBe('compile-error');
    expect(r.toolchain).toMatch(/; screen avx2 \(8 lanes, FMA, AVX2 intrinsics, branchless max\/min\); plain build without AVX2 intrinsics: .*_mm256_i32gather_ps/);
  }, 180_000);
});

describe('choosing the screen target', () => {
  it("defaults to the host's native build and refuses an unknown target with a usage error", () => {
    expect([defaultScreenTarget('x64'), defaultScreenTarget('arm64')]).toEqual(['avx2', 'neon']);
    expect(parseScreenTarget(undefined)).toBe(defaultScreenTarget());
    expect(() => parseScreenTarget('sse')).toThrow(UsageError);
    expect(screenModel('neon', yowasp)).toMatchObject({ lanes: 4, fma: true, flags: ['-DKB_SCREEN_LANES=4', '-DKB_SCREEN_FMA=1', '-mrelaxed-simd'] });
    expect(screenModel('wasm', yowasp)).toMatchObject({ lanes: 4, fma: false, flags: ['-DKB_SCREEN_LANES=4', '-DKB_SCREEN_FMA=0'] });
  });
});
