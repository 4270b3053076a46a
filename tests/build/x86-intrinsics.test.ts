// kbench's WASM <immintrin.h> (the avx2 screen model's x86 intrinsics) against the real instructions: one program
// calling every intrinsic the header defines on corner-case inputs, built natively with gcc -mavx2 -mfma -mf16c and
// for WASM against wasm/x86/ (with __F16C__, which the screen model itself leaves undefined as the default native
// build does), run under the sandbox's V8 flags; every call's result bytes must be the same.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { screenModel } from '../../src/build/screen-target.js';
import { resolveToolchain } from '../../src/build/toolchain.js';
import { SANDBOX_EXEC_ARGV } from '../../src/sandbox/sandbox.js';
import { tempDir } from '../helpers/fixtures.js';
import { hasCommand, missing } from '../helpers/require.js';
import { headerIntrinsics, intrinsicsProgram } from '../helpers/x86-intrinsics.js';

const cpu = process.arch === 'x64' ? readFileSync('/proc/cpuinfo', 'utf8') : '';
const x86 = ['avx2', 'fma', 'f16c'].every((f) => new RegExp(`\\b${f}\\b`).test(cpu));
const skip = missing('an x86-64 CPU with AVX2, FMA and F16C and gcc', x86 && hasCommand('gcc'));
const RUN_WASI = new URL('../helpers/run-wasi.mjs', import.meta.url).pathname;

/** `id hex…` lines by id */
const parse = (text: string) => new Map(text.trim().split('\n').map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]));

/** `source` built as the avx2 screen model builds a candidate's AVX2 branch (plus __F16C__) */
async function clangOutput(source: string, optimize: string, output: 'test.wasm' | 'test.s'): Promise<Uint8Array | string> {
  const { commands } = await import('@yowasp/clang');
  const model = screenModel('avx2', resolveToolchain('yowasp'));
  const x86Files = Object.fromEntries(Object.entries(model.intrinsics!.files).map(([p, text]) => [p.split('/')[1], text]));
  const args = ['--target=wasm32-wasip1', optimize, '-msimd128', ...model.flags, ...model.intrinsics!.flags, '-D__F16C__=1', '-Wl,-z,stack-size=16777216',
    ...(output === 'test.s' ? ['-S'] : []), '-o', output, 'test.c'];
  const out = (await commands.clang(args, { 'test.c': source, x86: x86Files } as never, { stdout: null, stderr: null, fetchProgress: () => {} })) as Record<string, unknown>;
  return out[output] as Uint8Array | string;
}
const wasmBuild = (source: string, optimize = '-O1') => clangOutput(source, optimize, 'test.wasm') as Promise<Uint8Array>;
/** the WASM instructions of `source` built as the screen builds a candidate (-O3), as clang's assembly text */
async function wasmAssembly(source: string): Promise<string> {
  const out = await clangOutput(source, '-O3', 'test.s');
  return typeof out === 'string' ? out : new TextDecoder().decode(out);
}

async function wasmOutput(source: string): Promise<string> {
  const wasmPath = join(tempDir(), 'test.wasm');
  writeFileSync(wasmPath, await wasmBuild(source));
  return execFileSync(process.execPath, [...SANDBOX_EXEC_ARGV, '--no-warnings', RUN_WASI, wasmPath], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** `source` built natively and for WASM, run both ways: the lines that differ */
async function differences(source: string, wasmSource = source): Promise<string[]> {
  const dir = tempDir();
  writeFileSync(join(dir, 'test.c'), source);
  execFileSync('gcc', ['-O1', '-mavx2', '-mfma', '-mf16c', '-o', join(dir, 'native'), join(dir, 'test.c')], { cwd: dir });
  const native = parse(execFileSync(join(dir, 'native'), { encoding: 'utf8', maxBuffer: 64 << 20 }));
  const wasm = parse(await wasmOutput(wasmSource));
  expect(wasm.size).toBe(native.size);
  return [...native].filter(([id, bytes]) => wasm.get(id) !== bytes).map(([id, bytes]) => `${id}\n  native ${bytes}\n  wasm   ${wasm.get(id)}`);
}

/**
 * Relaxed SIMD as engines other than x86 V8 may run it (AArch64's: a bitwise lane select, a saturating float→int
 * truncation): the header may use a relaxed instruction only where every allowed behaviour gives the same bytes,
 * e.g. a lane select on a mask of all-0/all-1 lanes, so the program must give native bytes under this one too.
 */
const OTHER_RELAXED_BEHAVIOUR = `#include <wasm_simd128.h>
#define wasm_i32x4_relaxed_laneselect(a, b, m) wasm_v128_bitselect(a, b, m)
#define wasm_i64x2_relaxed_laneselect(a, b, m) wasm_v128_bitselect(a, b, m)
#define wasm_i32x4_relaxed_trunc_f32x4(a) wasm_i32x4_trunc_sat_f32x4(a)
`;

/** whether the module's bytes hold this instruction encoding (0xfd prefix, LEB128 opcode) */
const holds = (wasm: Uint8Array, bytes: number[]) => Buffer.from(wasm).includes(Buffer.from(bytes));
const TRUNC_SAT_F32X4_S = [0xfd, 0xf8, 0x01];
const RELAXED_TRUNC_F32X4_S = [0xfd, 0x81, 0x02];

describe.skipIf(skip)("kbench's WASM x86 intrinsics", () => {
  it('give the bytes the native instructions give, for every intrinsic the header defines', async () => {
    const { source, calls } = intrinsicsProgram();
    expect(calls).toBeGreaterThan(headerIntrinsics().length);
    const wrong = await differences(source);
    expect(wrong.slice(0, 20).join('\n'), `${wrong.length} of ${calls} calls differ`).toBe('');
  }, 180_000);

  it('give the same bytes on engines whose relaxed SIMD behaves otherwise (bitwise lane select, saturating truncation)', async () => {
    const { source, calls } = intrinsicsProgram();
    const wrong = await differences(source, OTHER_RELAXED_BEHAVIOUR + source);
    expect(wrong.slice(0, 20).join('\n'), `${wrong.length} of ${calls} calls differ`).toBe('');
  }, 180_000);

  // A constant order (quantizers' 0,4,1,5,2,6,3,7 after packs) is a fixed shuffle of the two halves, one or two x64
  // instructions in V8, where the general path is two swizzles per half; indices past 7 use their low 3 bits.
  it('permute across the lanes by constant indices as shuffles, with the bytes of vpermd', async () => {
    const orders = [[0, 4, 1, 5, 2, 6, 3, 7], [7, 6, 5, 4, 3, 2, 1, 0], [3, 3, 3, 3, 4, 4, 4, 4], [8, -1, 13, 0x7ffffffc, 0x80000002, 15, 9, 6], [0, 1, 2, 3, 4, 5, 6, 7]];
    const source = `#include <immintrin.h>
#include <stdio.h>
#include <stdint.h>
int32_t in[16] = { 0x11111111, -2, 0x7fffffff, (int32_t)0x80000000, 5, 0x01020304, -0x7f7f7f80, 9, 10, 11, 12, 13, 14, 15, 16, 17 };
/* one function per order, so the permutation stays a vector operation (printing its elements would scalarize it) */
${orders.map((o, k) => `__attribute__((noinline)) void order${k}(const int32_t *a, int32_t *r) {
    _mm256_storeu_si256((__m256i *)r, _mm256_permutevar8x32_epi32(_mm256_loadu_si256((const __m256i *)a), _mm256_setr_epi32(${o.map((x) => `(int)${x >>> 0}u`).join(', ')})));
}`).join('\n')}
static void emit(int k, int w, const int32_t *o) {
    printf("order%d/%d", k, w);
    for (int i = 0; i < 8; i++) printf(" %08x", (unsigned)o[i]);
    printf("\\n");
}
int main(void) {
    int32_t r[8];
    for (int w = 0; w < 8; w++) {
${orders.map((_, k) => `        order${k}(in + w, r);\n        emit(${k}, w, r);`).join('\n')}
    }
    return 0;
}
`;
    expect((await differences(source)).join('\n')).toBe('');
    const asm = await wasmAssembly(source);
    expect(asm).toContain('i8x16.shuffle');
    expect(asm).not.toContain('i8x16.swizzle');
  }, 180_000);

  // Natively each of these is one instruction; clang would otherwise rewrite what the header maps it to into
  // sequences V8 lowers to four or five x64 instructions (a signed compare of masked values into i32x4.gt_u, the
  // arithmetic after a widening back onto 16-bit lanes with a byte shuffle, a blend into three bitwise operations).
  it('keep signed compares, widened lanes and blends as the one WASM instruction each native instruction is', async () => {
    const source = `#include <immintrin.h>
#define EXPORT(name) __attribute__((export_name(#name))) void name
/* group8_avx2.c's range checks on |x| and blends */
EXPORT(ranges)(const float *x, int *o) {
    const __m256i u = _mm256_and_si256(_mm256_castps_si256(_mm256_loadu_ps(x)), _mm256_set1_epi32(0x7fffffff));
    const __m256i big = _mm256_cmpgt_epi32(u, _mm256_set1_epi32(0x477fefff)), small = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x38800000), u);
    const __m256 r = _mm256_blendv_ps(_mm256_castsi256_ps(u), _mm256_set1_ps(1.0f), _mm256_castsi256_ps(big));
    _mm256_storeu_ps((float *)o, _mm256_blendv_ps(r, _mm256_set1_ps(2.0f), _mm256_castsi256_ps(small)));
}
/* packed_f16.c's half → float without F16C */
EXPORT(halves)(const unsigned short *h, float *o) {
    __m256i x = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)h));
    __m256i em = _mm256_and_si256(x, _mm256_set1_epi32(0x7fff));
    __m256i sign = _mm256_slli_epi32(_mm256_xor_si256(x, em), 16);
    __m256 f = _mm256_mul_ps(_mm256_castsi256_ps(_mm256_slli_epi32(em, 13)), _mm256_set1_ps(0x1p112f));
    __m256i special = _mm256_and_si256(_mm256_cmpgt_epi32(em, _mm256_set1_epi32(0x7bff)), _mm256_set1_epi32(0x7f800000));
    _mm256_storeu_ps(o, _mm256_or_ps(f, _mm256_castsi256_ps(_mm256_or_si256(sign, special))));
}
EXPORT(blend)(const float *a, float *o) {
    _mm256_storeu_ps(o, _mm256_blendv_ps(_mm256_loadu_ps(a), _mm256_loadu_ps(a + 8), _mm256_loadu_ps(a + 16)));
}
int main(void) { return 0; }`;
    const asm = await wasmAssembly(source);
    expect(asm).toContain('i32x4.gt_s');
    expect(asm).toContain('i32x4.relaxed_laneselect');
    for (const dearer of ['i32x4.gt_u', 'i16x8.gt_u', 'i8x16.shuffle', 'v128.bitselect']) expect(asm).not.toContain(dearer);
  }, 180_000);

  // Natively a roundps before a cvtps2dq is an instruction of its own; here both conversions round inside, and clang
  // drops a rounding of an already rounded value, which made ggml's roundps-then-convert quantizer cost nothing extra.
  it('keep a rounding before a float→int32 conversion, as natively', async () => {
    const source = `#include <immintrin.h>
#define EXPORT(name) __attribute__((export_name(#name))) void name
EXPORT(nearest)(const float *a, int *o) {
    _mm256_storeu_si256((__m256i *)o, _mm256_cvtps_epi32(_mm256_round_ps(_mm256_loadu_ps(a), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
}
EXPORT(floored)(const float *a, int *o) { _mm_storeu_si128((__m128i *)o, _mm_cvttps_epi32(_mm_floor_ps(_mm_loadu_ps(a)))); }
int main(void) { return 0; }`;
    const asm = await wasmAssembly(source);
    const count = (op: string) => asm.split('\n').filter((line) => line.trim().split(/\s/)[0] === op).length;
    expect(count('f32x4.nearest')).toBe(4);
    expect(count('f32x4.floor')).toBe(1);
    expect(count('f32x4.trunc')).toBe(1);
  }, 180_000);

  // Natively a float→int32 conversion is one instruction (cvtps2dq / cvttps2dq); V8 lowers trunc_sat to about eight
  // on x86, which made quantizers' AVX2 branches look several times dearer per conversion in the screen than they
  // are (the conversion's results are checked against gcc by the test above).
  it('convert float to int32 with relaxed_trunc (cvttps2dq on x86), not trunc_sat, under the avx2 model', async () => {
    const source = `#include <immintrin.h>
#define EXPORT(name) __attribute__((export_name(#name))) void name
EXPORT(c256)(const float *a, int *o) { _mm256_storeu_si256((__m256i *)o, _mm256_cvtps_epi32(_mm256_loadu_ps(a))); }
EXPORT(t256)(const float *a, int *o) { _mm256_storeu_si256((__m256i *)o, _mm256_cvttps_epi32(_mm256_loadu_ps(a))); }
EXPORT(c128)(const float *a, int *o) { _mm_storeu_si128((__m128i *)o, _mm_cvtps_epi32(_mm_loadu_ps(a))); }
EXPORT(t128)(const float *a, int *o) { _mm_storeu_si128((__m128i *)o, _mm_cvttps_epi32(_mm_loadu_ps(a))); }
int main(void) { return 0; }`;
    const wasm = await wasmBuild(source, '-O2');
    expect(holds(wasm, RELAXED_TRUNC_F32X4_S)).toBe(true);
    expect(holds(wasm, TRUNC_SAT_F32X4_S)).toBe(false);
  }, 180_000);
});
