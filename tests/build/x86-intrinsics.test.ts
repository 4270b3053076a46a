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
async function wasmBuild(source: string, optimize = '-O1'): Promise<Uint8Array> {
  const { commands } = await import('@yowasp/clang');
  const model = screenModel('avx2', resolveToolchain('yowasp'));
  const x86Files = Object.fromEntries(Object.entries(model.intrinsics!.files).map(([p, text]) => [p.split('/')[1], text]));
  const args = ['--target=wasm32-wasip1', optimize, '-msimd128', ...model.flags, ...model.intrinsics!.flags, '-D__F16C__=1', '-Wl,-z,stack-size=16777216', '-o', 'test.wasm', 'test.c'];
  const out = (await commands.clang(args, { 'test.c': source, x86: x86Files } as never, { stdout: null, stderr: null, fetchProgress: () => {} })) as Record<string, unknown>;
  return out['test.wasm'] as Uint8Array;
}

async function wasmOutput(source: string): Promise<string> {
  const wasmPath = join(tempDir(), 'test.wasm');
  writeFileSync(wasmPath, await wasmBuild(source));
  return execFileSync(process.execPath, [...SANDBOX_EXEC_ARGV, '--no-warnings', RUN_WASI, wasmPath], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** whether the module's bytes hold this instruction encoding (0xfd prefix, LEB128 opcode) */
const holds = (wasm: Uint8Array, bytes: number[]) => Buffer.from(wasm).includes(Buffer.from(bytes));
const TRUNC_SAT_F32X4_S = [0xfd, 0xf8, 0x01];
const RELAXED_TRUNC_F32X4_S = [0xfd, 0x81, 0x02];

describe.skipIf(skip)("kbench's WASM x86 intrinsics", () => {
  it('give the bytes the native instructions give, for every intrinsic the header defines', async () => {
    const { source, calls } = intrinsicsProgram();
    const dir = tempDir();
    writeFileSync(join(dir, 'test.c'), source);
    execFileSync('gcc', ['-O1', '-mavx2', '-mfma', '-mf16c', '-o', join(dir, 'native'), join(dir, 'test.c')], { cwd: dir });
    const native = parse(execFileSync(join(dir, 'native'), { encoding: 'utf8', maxBuffer: 64 << 20 }));
    const wasm = parse(await wasmOutput(source));
    expect(native.size).toBeGreaterThan(headerIntrinsics().length);
    expect(wasm.size).toBe(native.size);
    const wrong = [...native].filter(([id, bytes]) => wasm.get(id) !== bytes).map(([id, bytes]) => `${id}\n  native ${bytes}\n  wasm   ${wasm.get(id)}`);
    expect(wrong.slice(0, 20).join('\n'), `${wrong.length} of ${calls} calls differ`).toBe('');
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
