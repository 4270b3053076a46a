#!/usr/bin/env node
// What each AVX2 intrinsic the suite and scripts/rank-candidates use costs in the avx2 screen (kbench's WASM
// <immintrin.h>, wasm/x86/, built as the screen model builds it: yowasp clang -O3, relaxed SIMD, run in Node under
// the sandbox's V8 flags) against the real instruction (gcc -O3 -mavx2 -mfma on this host). Every row is one loop
// of four independent chains of the intrinsic (an empty asm per iteration keeps clang and gcc from folding the
// chain), or a loop over an L1-resident array for the composites taken from candidates; the table gives ns per
// iteration both ways and the WASM/native ratio, the medians of --rounds runs that alternate native and WASM. The
// median ratio of plain arithmetic (the `ref` rows) is the reference: rows far above it are what the screen
// over-penalises. --print NAME dumps the x64 code V8 made of that row's loop (node --print-wasm-code).
// Usage: npm run bench:x86 [-- --rounds 5 --iters 2000000 --only blendv --print blendv_ps]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WASI } from 'node:wasi';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '5' },
    iters: { type: 'string', default: '2000000' },
    only: { type: 'string' },
    print: { type: 'string' },
    'run-wasm': { type: 'string' },
  },
});

// Child mode: run the WASI module with its arguments (started with the sandbox's V8 flags).
if (values['run-wasm']) {
  const wasi = new WASI({ version: 'preview1', args: ['bench', ...positionals], env: {}, returnOnExit: true });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(values['run-wasm'])), wasi.getImportObject());
  process.exit(wasi.start(instance));
}

const { screenModel } = await import('../dist/build/screen-target.js');
const { resolveToolchain } = await import('../dist/build/toolchain.js');
const { SANDBOX_EXEC_ARGV } = await import('../dist/sandbox/sandbox.js');
const { median } = await import('../dist/measure/stats.js');

/** rows: [name, type, step] chains ($ = the chain's value; b, c, one, idx, mask are loop-invariant inputs), [name,
 * 'mem', body] composites (x = the float vector loaded this iteration, h = the 8 halves, acc0..3 accumulators).
 * `ref` rows are plain arithmetic, the reference ratio. */
const CHAINS = [
  ['ref add_ps', 'm256', '_mm256_add_ps($, b)'],
  ['ref mul_ps', 'm256', '_mm256_mul_ps($, one)'],
  ['ref fmadd_ps', 'm256', '_mm256_fmadd_ps($, one, b)'],
  ['ref add_epi32', 'm256i', '_mm256_add_epi32($, bi)'],
  ['ref and_si256', 'm256i', '_mm256_and_si256($, bi)'],
  ['ref xor_si256', 'm256i', '_mm256_xor_si256($, bi)'],
  ['sub_ps', 'm256', '_mm256_sub_ps($, b)'],
  ['div_ps', 'm256', '_mm256_div_ps($, one)'],
  ['sqrt_ps', 'm256', '_mm256_sqrt_ps($)'],
  ['max_ps', 'm256', '_mm256_max_ps($, b)'],
  ['min_ps', 'm256', '_mm256_min_ps($, b)'],
  ['and_ps', 'm256', '_mm256_and_ps($, b)'],
  ['or_ps', 'm256', '_mm256_or_ps($, b)'],
  ['andnot_ps', 'm256', '_mm256_andnot_ps(b, $)'],
  ['hadd_ps', 'm256', '_mm256_hadd_ps($, b)'],
  ['shuffle_ps', 'm256', '_mm256_shuffle_ps($, b, 0x4e)'],
  ['unpacklo_ps', 'm256', '_mm256_unpacklo_ps($, b)'],
  ['unpackhi_ps', 'm256', '_mm256_unpackhi_ps($, b)'],
  ['permute2f128_ps', 'm256', '_mm256_permute2f128_ps($, b, 0x21)'],
  ['blendv_ps', 'm256', '_mm256_blendv_ps($, b, $)'],
  ['round_ps', 'm256', '_mm256_round_ps($, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)'],
  ['cmp_ps neq', 'm256', '_mm256_cmp_ps($, b, _CMP_NEQ_OQ)'],
  ['cvtepi32_ps', 'm256', '_mm256_cvtepi32_ps(_mm256_castps_si256($))'],
  ['cvtps_epi32+cvtepi32_ps', 'm256', '_mm256_cvtepi32_ps(_mm256_cvtps_epi32($))'],
  ['sub_epi32', 'm256i', '_mm256_sub_epi32($, bi)'],
  ['or_si256', 'm256i', '_mm256_or_si256($, bi)'],
  ['cmpgt_epi32', 'm256i', '_mm256_cmpgt_epi32($, bi)'],
  ['slli_epi32', 'm256i', '_mm256_slli_epi32($, 3)'],
  ['srli_epi32', 'm256i', '_mm256_srli_epi32($, 3)'],
  ['srai_epi32', 'm256i', '_mm256_srai_epi32($, 3)'],
  ['set1_epi32 consts', 'm256i', '_mm256_and_si256(_mm256_add_epi32($, _mm256_set1_epi32(0xfff)), _mm256_set1_epi32(0x7fffffff))'],
  ['packs_epi32', 'm256i', '_mm256_packs_epi32($, bi)'],
  ['packs_epi16', 'm256i', '_mm256_packs_epi16($, bi)'],
  ['permutevar8x32_epi32', 'm256i', '_mm256_permutevar8x32_epi32($, idx)'],
  ['permutevar8x32 const order', 'm256i', '_mm256_permutevar8x32_epi32($, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))'],
  ['cvtepu16_epi32', 'm256i', '_mm256_cvtepu16_epi32(_mm256_castsi256_si128($))'],
  ['maskload_ps', 'm256i', '_mm256_castps_si256(_mm256_maskload_ps(xs, $))'],
  ['ref add_ps 128', 'm128', '_mm_add_ps($, b4)'],
  ['max_ps 128', 'm128', '_mm_max_ps($, b4)'],
  ['movehl_ps', 'm128', '_mm_movehl_ps($, b4)'],
  ['movehdup_ps', 'm128', '_mm_movehdup_ps($)'],
  ['max_ss', 'm128', '_mm_max_ss($, b4)'],
  ['add_ss', 'm128', '_mm_add_ss($, b4)'],
  ['cvtps_pd+add_pd+cvtpd_ps', 'm128', '_mm256_cvtpd_ps(_mm256_add_pd(_mm256_cvtps_pd($), bd))'],
  ['ref add_pd', 'm256d', '_mm256_add_pd($, bd)'],
  ['fmadd_pd', 'm256d', '_mm256_fmadd_pd($, oned, bd)'],
];
const COMPOSITES = [
  // group8_avx2.c's eight f32 → f16 conversions with blends (scripts/rank-candidates/quantize_q8_0)
  ['half_bits8 (group8_avx2)', 'acc0 = _mm256_xor_si256(acc0, half_bits8(x));'],
  // group8_avx2.c's (and simd.c's) 32 quants of a block: mul, cvtps_epi32, packs, permutevar8x32, store
  ['quant_block (group8_avx2)', 'quant_block(xs + 32 * (i & 3), qs + 32 * (i & 3), x);'],
  // group8_scalar_half.c's: the same eight conversions one float at a time
  ['8x scalar half_bits', 'acc0 = _mm256_xor_si256(acc0, half_bits8_scalar(x));'],
  // packed_f16.c's load_half without F16C, feeding its four FMA chains (kernels/fa_kq_tile_f16k)
  ['load_half+fma (packed_f16)', 'facc0 = _mm256_fmadd_ps(x, load_half(h), facc0); facc1 = _mm256_fmadd_ps(x, load_half(h + 8), facc1);'],
];

const TYPES = {
  m256: { c: '__m256', load: (k) => `_mm256_loadu_ps(xs + ${8 * k})`, keep: 'KEEP256' },
  m256i: { c: '__m256i', load: (k) => `_mm256_loadu_si256((const __m256i *)(is + ${8 * k}))`, keep: 'KEEP256' },
  m256d: { c: '__m256d', load: (k) => `_mm256_cvtps_pd(_mm_loadu_ps(xs + ${4 * k}))`, keep: 'KEEP256' },
  m128: { c: '__m128', load: (k) => `_mm_loadu_ps(xs + ${4 * k})`, keep: 'KEEP128' },
};
const cName = (name) => `bench_${name.replace(/\W+/g, '_')}`;

function chainFunction([name, type, step]) {
  const t = TYPES[type];
  const chains = [0, 1, 2, 3];
  return `static NOINLINE double ${cName(name)}(long n) {
    ${t.c} ${chains.map((k) => `a${k} = ${t.load(k)}`).join(', ')};
    INPUTS
    const uint64_t t0 = now();
    for (long i = 0; i < n; i++) {
        ${chains.map((k) => `a${k} = ${step.replaceAll('$', `a${k}`)};`).join(' ')}
        ${chains.map((k) => `${t.keep}(a${k});`).join(' ')}
    }
    const uint64_t t1 = now();
    ${chains.map((k) => `sink(&a${k}, sizeof a${k});`).join(' ')}
    return (double)(t1 - t0) / n;
}`;
}

function compositeFunction([name, body]) {
  return `static NOINLINE double ${cName(name)}(long n) {
    __m256i acc0 = _mm256_setzero_si256();
    __m256 facc0 = _mm256_setzero_ps(), facc1 = facc0;
    const uint64_t t0 = now();
    for (long i = 0; i < n; i++) {
        const __m256 x = _mm256_loadu_ps(xs + 8 * (i & 7));
        const uint16_t *h = hs + 16 * (i & 7);
        ${body}
        KEEP256(acc0); KEEP256(facc0); KEEP256(facc1);
    }
    const uint64_t t1 = now();
    sink(&acc0, sizeof acc0); sink(&facc0, sizeof facc0); sink(&facc1, sizeof facc1);
    return (double)(t1 - t0) / n;
}`;
}

function benchSource(rows) {
  const chains = CHAINS.filter((r) => rows.includes(r[0]));
  const composites = COMPOSITES.filter((r) => rows.includes(r[0]));
  const inputs = `const __m256 b = _mm256_loadu_ps(ps + 8), one = _mm256_loadu_ps(ps); const __m256i bi = _mm256_loadu_si256((const __m256i *)is), idx = _mm256_loadu_si256((const __m256i *)perm);
    const __m128 b4 = _mm_loadu_ps(ps + 8); const __m256d bd = _mm256_cvtps_pd(b4), oned = _mm256_cvtps_pd(_mm_loadu_ps(ps));
    (void)b; (void)one; (void)bi; (void)idx; (void)b4; (void)bd; (void)oned;`;
  return `#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define NOINLINE __attribute__((noinline))
#if defined(__wasm__)
#define KEEP256(x) __asm__ volatile("" : "+r"((x).lo), "+r"((x).hi))
#define KEEP128(x) __asm__ volatile("" : "+r"(x))
#else
#define KEEP256(x) __asm__ volatile("" : "+x"(x))
#define KEEP128(x) __asm__ volatile("" : "+x"(x))
#endif
/* moderate floats of both signs (no denormals, no overflow along a chain), ones then mixed signs, ints, halves;
 * not static, so neither compiler takes them for constants (x * 1.0f would fold) */
float xs[128];
float ps[16] = { 1, 1, 1, 1, 1, 1, 1, 1, 0.5f, -0.25f, 1.5f, -2.0f, 0.75f, -1.0f, 3.0f, -0.5f };
int32_t is[64];
int32_t perm[8] = { 3, 7, 1, 5, 0, 4, 2, 6 };
uint16_t hs[256];
uint8_t qs[128];
static unsigned char sunk;
static void sink(const void *p, size_t n) { for (size_t i = 0; i < n; i++) sunk ^= ((const unsigned char *)p)[i]; }
static uint64_t now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec; }

${extractFunction('scripts/rank-candidates/quantize_q8_0/group8_avx2.c', 'select_i32')}
${extractFunction('scripts/rank-candidates/quantize_q8_0/group8_avx2.c', 'half_bits8')}
${extractFunction('scripts/rank-candidates/quantize_q8_0/group8_avx2.c', 'half_bits')}
${extractFunction('scripts/rank-candidates/quantize_q8_0/group8_avx2.c', 'quant_block')}
static inline __m256i half_bits8_scalar(__m256 f) {
    float v[8]; int32_t r[8];
    _mm256_storeu_ps(v, f);
    for (int k = 0; k < 8; k++) r[k] = half_bits(v[k]);
    return _mm256_loadu_si256((const __m256i *)r);
}
static inline __m256 load_half(const uint16_t *h) {
${/#elif defined\(__AVX2__\)\n([\s\S]*?)\n#elif/.exec(readFileSync(join(ROOT, 'kernels/fa_kq_tile_f16k/candidates/packed_f16.c'), 'utf8'))[1]}
}

${[...chains.map(chainFunction), ...composites.map(compositeFunction)].join('\n').replaceAll('INPUTS', inputs)}

int main(int argc, char **argv) {
    const long n = atol(argv[1]);
    for (int i = 0; i < 128; i++) xs[i] = (i % 3 ? 1.0f : -1.0f) * (1.0f + (float)(i % 17) / 16.0f) * (i % 5 == 0 ? 1e-3f : 1.0f);
    for (int i = 0; i < 64; i++) is[i] = (int32_t)(0x9e3779b9u * (uint32_t)(i + 1));
    for (int i = 0; i < 256; i++) hs[i] = (uint16_t)(0x3c00 + 37 * i) ^ (i & 1 ? 0x8000 : 0);
${[...chains, ...composites].map(([name]) => `    ${cName(name)}(n / 8);\n    printf("%s\\t%.4f\\n", "${name}", ${cName(name)}(n));`).join('\n')}
    return sunk == 7;
}
`;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** a static function of a candidate's source, by name, up to its closing brace in column 0 */
function extractFunction(path, name) {
  const text = readFileSync(join(ROOT, path), 'utf8');
  const m = new RegExp(`^static inline [\\w ]+ ${name}\\([^)]*\\) \\{\\n[\\s\\S]*?\\n\\}`, 'm').exec(text);
  if (!m) throw new Error(`bench-x86-headers: no function ${name} in ${path}`);
  return m[0];
}

async function wasmBuild(source, dir) {
  const { commands } = await import('@yowasp/clang');
  const model = screenModel('avx2', resolveToolchain('yowasp'));
  const x86 = Object.fromEntries(Object.entries(model.intrinsics.files).map(([p, text]) => [p.split('/')[1], text]));
  const args = ['--target=wasm32-wasip1', '-O3', '-msimd128', ...model.flags, ...model.intrinsics.flags, '-o', 'bench.wasm', 'bench.c'];
  const out = await commands.clang(args, { 'bench.c': source, x86 }, { stdout: null, stderr: null, fetchProgress: () => {} });
  writeFileSync(join(dir, 'bench.wasm'), out['bench.wasm']);
  return join(dir, 'bench.wasm');
}

const rows = [...CHAINS, ...COMPOSITES].map((r) => r[0]).filter((name) => !values.only || name.includes(values.only) || name.startsWith('ref '));
const dir = mkdtempSync(join(tmpdir(), 'kbench-bench-x86-'));
try {
  const source = benchSource(rows);
  writeFileSync(join(dir, 'bench.c'), source);
  execFileSync('gcc', ['-O3', '-mavx2', '-mfma', '-o', join(dir, 'native'), join(dir, 'bench.c')]);
  const wasm = await wasmBuild(source, dir);
  const runWasm = (extra = []) => execFileSync(process.execPath, [...SANDBOX_EXEC_ARGV, ...extra, '--no-warnings', fileURLToPath(import.meta.url), '--run-wasm', wasm, values.iters], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (values.print) {
    const code = runWasm(['--print-wasm-code']);
    const fn = cName(values.print);
    const start = code.indexOf(`name: ${fn}\n`);
    console.log(start < 0 ? `no function ${fn} in V8's output` : code.slice(start, code.indexOf('--- End code ---', start)));
  }
  const parse = (text) => new Map(text.trim().split('\n').map((l) => l.split('\t')).map(([n, ns]) => [n, Number(ns)]));
  const native = new Map(), screen = new Map();
  const add = (into, run) => { for (const [n, ns] of run) into.set(n, [...(into.get(n) ?? []), ns]); };
  const loads = [loadavg()[0]];
  for (let r = 0; r < Number(values.rounds); r++) {
    add(native, parse(execFileSync(join(dir, 'native'), [values.iters], { encoding: 'utf8' })));
    add(screen, parse(runWasm()));
    loads.push(loadavg()[0]);
  }
  const ratio = (n) => median(screen.get(n)) / median(native.get(n));
  const reference = median(rows.filter((n) => n.startsWith('ref ')).map(ratio));
  console.log(`WASM (avx2 screen) / native per intrinsic, ${values.rounds} alternating rounds of ${values.iters} iterations, load ${loads.map((l) => l.toFixed(1)).join(' → ')}`);
  console.log(`${'row'.padEnd(30)} ${'native ns'.padStart(10)} ${'wasm ns'.padStart(10)} ${'ratio'.padStart(7)} ${'÷ ref'.padStart(7)}`);
  for (const n of rows) {
    const rel = ratio(n) / reference;
    console.log(`${n.padEnd(30)} ${median(native.get(n)).toFixed(2).padStart(10)} ${median(screen.get(n)).toFixed(2).padStart(10)} ${ratio(n).toFixed(2).padStart(7)} ${rel.toFixed(2).padStart(7)}${rel > 1.5 ? '  <- over-penalised' : ''}`);
  }
  console.log(`reference ratio (median of the ref rows): ${reference.toFixed(2)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
