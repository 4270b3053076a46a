// Builds one C program of calls to every intrinsic kbench's WASM <immintrin.h> defines (wasm/x86/immintrin.h), from
// the header's own prototypes, with inputs chosen to reach the documented corner cases: NaN (quiet and
// signalling, in either operand), signed zeros, infinities, subnormals, rounding ties, values past the int32 range,
// saturating integers, shift counts of the element width and more, special halves. Every call prints its result's
// bytes, so the same source built natively (gcc -mavx2 -mfma -mf16c) and for WASM against kbench's header can be
// compared line by line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { X86_HEADERS_DIR } from '../../src/build/screen-target.js';

/** float bit patterns (40): zeros, ±1, ties, ±inf, NaNs, subnormals, int32 edges, FMA-sensitive values */
const F32 = [0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3f000000, 0x3fc00000, 0x40200000, 0xc0200000,
  0x40600000, 0x7fc00001, 0xff800000, 0x7f800000, 0x00000001, 0x806fffff, 0x4f32d05e, 0xcf32d05e,
  0x4effffff, 0xcf000000, 0x4f000000, 0x477fff80, 0x3f800800, 0x3f7ff000, 0x7fa00002, 0xbfc00000,
  0x3effffff, 0x4b000001, 0xcb7fffff, 0x00800000, 0x7f7fffff, 0xffc00003, 0x42f6e979, 0xc0490fdb,
  // for float → half: ties at 1 and in the subnormal range, the edges of half's range (65504, 65520, 2^-14, 2^-25)
  0x3f801000, 0xbf803000, 0x33000000, 0xb3400000, 0x387fc000, 0x477fe000, 0xc77ff000, 0x38800000];
/** doubles as [hi, lo] 32-bit words */
const F64 = [[0, 0], [0x80000000, 0], [0x3ff00000, 0], [0xbff80000, 0], [0x7ff80000, 1], [0xfff00000, 0], [0x7ff00000, 0],
  [0x00000000, 1], [0x41dfffff, 0xffc00000], [0xc1e00000, 0], [0x3ff00000, 1], [0x3fefffff, 0xfffffffe], [0x7ff40000, 2],
  [0x47efffff, 0xe0000000], [0x36a00000, 0], [0x400921fb, 0x54442d18]];
/** int32s: edges of int8/16/32, saturating sums, special halves in both 16-bit parts (1, ±inf, NaNs, subnormals) */
const I32 = [0, 1, -1, 0x7fffffff, -0x80000000, 32767, 32768, -32768, -32769, 127, 128, -128, -129, 255, 256, 0x12345678,
  -0x01234568, 0x7f80ff01, -0x7fff0001, 0x00ff7fff, 0x3c000000, 0x7c000001, 0x7e0003ff, -0x03ff8300, 0x7bff8001,
  0x0400fe01, 0x35551234, -0x3fffffff, 31, 32, 0x0f0f8f80, -0x7f7f7f80];
/** shift counts (run time): inside and past the element width */
const SHIFTS = [0, 1, 7, 15, 16, 31, 32, 63, 64, 200];
const ROUNDING = [0, 1, 2, 3, 4, 8, 9, 10, 11, 12];
const SHUFFLE_IMMS = [0x00, 0x1b, 0x4e, 0xb1, 0xe4, 0xff, 0x93];
const WINDOWS = 4;

/** Macros of the header, which have no prototype to read: their argument types. */
const MACROS: Record<string, string[]> = {
  _mm_shuffle_ps: ['__m128', '__m128', 'imm8'],
  _mm_shuffle_epi32: ['__m128i', 'imm8'],
  _mm256_shuffle_ps: ['__m256', '__m256', 'imm8'],
  _mm256_permute_ps: ['__m256', 'imm8'],
  _mm256_shuffle_epi32: ['__m256i', 'imm8'],
  _mm_extract_epi32: ['__m128i', 'imm2'],
  _mm_extract_ps: ['__m128', 'imm2'],
  _mm_insert_epi32: ['__m128i', 'int', 'imm2'],
};
/** results only partly defined natively: compare the first bytes */
const DEFINED_BYTES: Record<string, number> = { _mm256_castps128_ps256: 16, _mm256_castsi128_si256: 16 };
/** returns nothing and takes no pointer to write: called for coverage only */
const NO_RESULT = new Set(['_mm_prefetch', '_mm_sfence', '_mm_pause', '_mm256_zeroupper', '_mm256_zeroall']);

interface Intrinsic {
  name: string;
  ret: string;
  params: { type: string; name: string }[];
}

export function headerIntrinsics(): Intrinsic[] {
  const text = readFileSync(join(X86_HEADERS_DIR, 'immintrin.h'), 'utf8');
  const found: Intrinsic[] = [];
  for (const m of text.matchAll(/^KBX__X ([\w ]+?)\s*(_mm\w+)\(([^)]*)\)/gm)) {
    const params = m[3] === 'void' ? [] : m[3].split(',').map((p) => {
      const t = /^(.*?)(\w+)$/.exec(p.trim())!;
      return { type: t[1].trim(), name: t[2] };
    });
    found.push({ name: m[2], ret: m[1].trim(), params });
  }
  for (const name of text.matchAll(/^#define (_mm\w+)\(/gm)) {
    const types = MACROS[name[1]];
    if (!types) throw new Error(`x86 intrinsics test: no argument types for macro ${name[1]}`);
    found.push({ name: name[1], ret: 'auto', params: types.map((type, i) => ({ type, name: `a${i}` })) });
  }
  return found;
}

/** The constant choices an immediate parameter runs through (natively these must be compile-time constants). */
function immediates(fn: Intrinsic, p: { type: string; name: string }): number[] | null {
  if (p.type === 'imm8') return SHUFFLE_IMMS;
  if (p.type === 'imm2') return [0, 1, 2, 3];
  if (p.type !== 'int') return null;
  if (p.name === 'imm') return fn.name.includes('permute2') ? [0x00, 0x01, 0x20, 0x31, 0x13, 0x08, 0x80, 0x88] : [0, 1];
  if (p.name === 'p') return Array.from({ length: 32 }, (_, i) => i);
  if (p.name === 'mode') return ROUNDING;
  if (p.name === 'hint') return [3];
  return null;
}

function argument(type: string, name: string, w: number, k: number, fn: string): string {
  const at = (n: number) => (w * 8 + k * 5) % n;
  switch (type) {
    case '__m128': return `ld_ps(${at(40)})`;
    case '__m256': return `ld8_ps(${at(40)})`;
    case '__m128d': return `ld_pd(${at(16)})`;
    case '__m256d': return `ld4_pd(${at(16)})`;
    case '__m128i': return `ld_si(${at(32)})`;
    case '__m256i': return `ld8_si(${at(32)})`;
    case 'float': return `fin[${at(40)}]`;
    case 'double': return `din[${at(16)}]`;
    case 'int': return name === 'n' ? `shift[${(w * 3 + k) % SHIFTS.length}]` : `iin[${at(32)}]`;
    case 'char': return `(char)iin[${at(32)}]`;
    case 'short': return `(short)iin[${at(32)}]`;
    case 'unsigned short': return `(unsigned short)iin[${at(32)}]`;
    case 'unsigned int': return `(unsigned)iin[${at(32)}]`;
    case 'unsigned long long': return `((unsigned long long)(unsigned)iin[${at(32)}] << 32 | (unsigned)iin[${at(32) ^ 1}])`;
    case 'long long': return `((long long)iin[${at(32)}] << 32 | (unsigned)iin[${at(32) ^ 1}])`;
    case 'const float *': return `fin + ${(w * 8) % 24}`;
    case 'const double *': return `din + ${(w * 4) % 12}`;
    case 'const void *': return `(const void *)(iin + ${(w * 8) % 24})`;
    case 'const __m128 *': return `(const __m128 *)(fin + ${(w * 8) % 24})`;
    case 'float *': case 'double *': case 'void *': return `(${type})out`;
    default: throw new Error(`x86 intrinsics test: no inputs for parameter type '${type}' of ${fn}`);
  }
}

/** The C program: prints `<call id> <hex bytes>` per call. */
export function intrinsicsProgram(): { source: string; calls: number } {
  const lines: string[] = [];
  for (const fn of headerIntrinsics()) {
    const imms = fn.params.map((p) => immediates(fn, p));
    const immIndex = imms.findIndex((x) => x !== null);
    const variants = immIndex < 0 ? [null] : imms[immIndex]!;
    for (const imm of variants)
      for (let w = 0; w < WINDOWS; w++) {
        const args = fn.params.map((p, k) => (k === immIndex ? String(imm) : argument(p.type, p.name, w, k, fn.name)));
        const id = `${fn.name}${imm === null ? '' : `/${imm}`}/${w}`;
        const call = `${fn.name}(${args.join(', ')})`;
        const writes = fn.params.some((p) => /^(float|double|void) \*$/.test(p.type));
        if (NO_RESULT.has(fn.name)) lines.push(`    ${call};`);
        else if (writes) lines.push(`    clear(); ${call}; emit("${id}", out, sizeof out);`);
        else lines.push(`    { ${fn.ret === 'auto' ? '__auto_type' : fn.ret} r = ${call}; emit("${id}", &r, ${DEFINED_BYTES[fn.name] ?? 'sizeof r'}); }`);
      }
  }
  const words = (xs: number[]) => xs.map((x) => `0x${(x >>> 0).toString(16)}u`).join(', ');
  const source = `#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
static volatile uint32_t F32[40] = { ${words(F32)} };
static volatile uint32_t F64[16][2] = { ${F64.map(([h, l]) => `{ 0x${h.toString(16)}u, 0x${l.toString(16)}u }`).join(', ')} };
static volatile int32_t I32[32] = { ${I32.join(', ')} };
static volatile int SHIFTS[${SHIFTS.length}] = { ${SHIFTS.join(', ')} };
static float fin[80] __attribute__((aligned(32)));
static double din[32] __attribute__((aligned(32)));
static int32_t iin[64] __attribute__((aligned(32)));
static int shift[${SHIFTS.length}];
static uint32_t out[12] __attribute__((aligned(32)));
static void clear(void) { for (int i = 0; i < 12; i++) out[i] = 0xa5a5a5a5u; }
static void emit(const char *id, const void *p, size_t n) {
    printf("%s", id);
    for (size_t i = 0; i < n; i++) printf(" %02x", ((const unsigned char *)p)[i]);
    printf("\\n");
}
static __m128 ld_ps(int i) { return _mm_loadu_ps(fin + i); }
static __m256 ld8_ps(int i) { return _mm256_loadu_ps(fin + i); }
static __m128d ld_pd(int i) { return _mm_loadu_pd(din + i); }
static __m256d ld4_pd(int i) { return _mm256_loadu_pd(din + i); }
static __m128i ld_si(int i) { return _mm_loadu_si128((const void *)(iin + i)); }
static __m256i ld8_si(int i) { return _mm256_loadu_si256((const void *)(iin + i)); }
int main(void) {
    for (int i = 0; i < 80; i++) { uint32_t b = F32[i % 40]; memcpy(&fin[i], &b, 4); }
    for (int i = 0; i < 64; i++) iin[i] = I32[i % 32];
    for (int i = 0; i < 32; i++) { uint64_t b = (uint64_t)F64[i % 16][0] << 32 | F64[i % 16][1]; memcpy(&din[i], &b, 8); }
    for (int i = 0; i < ${SHIFTS.length}; i++) shift[i] = SHIFTS[i];
${lines.join('\n')}
    return 0;
}
`;
  return { source, calls: lines.length };
}
