/* kbench's <immintrin.h> for WebAssembly SIMD: the subset of the x86 intrinsics (SSE to SSE4.1, AVX, AVX2, FMA,
 * F16C) that kernel candidates use, so the avx2 screen model times a candidate's own AVX2 branch instead of its
 * 128-bit fallback. Written from the semantics in Intel's Intrinsics Guide; tests/build/x86-intrinsics.test.ts
 * checks every function against gcc -mavx2 -mfma -mf16c on the same inputs (NaN, signed zeros, ties, saturation).
 *
 * Types: __m128, __m128i, __m128d are 16-byte GCC-style vectors (float x4, long long x2, double x2), so the
 * operators a candidate may apply to them natively mean the same here; __m256, __m256i, __m256d are two v128_t
 * (lo = elements 0-3 of a float vector, hi = 4-7), as AVX2 is two 128-bit lanes. 256-bit operators and element
 * subscripts do not compile on them: such a candidate falls back to its plain build.
 * Rounding: MXCSR is taken as its default (round to nearest even, no flush to zero, exceptions masked).
 * FMA is f32x4/f64x2.relaxed_madd under -mrelaxed-simd (fused on engines and CPUs with FMA, as the native
 * instruction), else a multiply and an add; float→int32 conversions use relaxed_trunc there (see kbx__cvt_i32).
 * Relaxed instructions only ever see inputs on which every engine's allowed behaviour gives the native bytes.
 * Costs: each intrinsic should cost in V8 about what it costs natively (scripts/bench-x86-headers.mjs measures it),
 * hence kbx__opaque where clang would otherwise rewrite one WASM instruction into a dearer sequence.
 * Masked loads and stores touch only the selected elements. */
#ifndef KB_X86_IMMINTRIN_H
#define KB_X86_IMMINTRIN_H
#include <stdint.h>
#include <wasm_simd128.h>

typedef float __m128 __attribute__((__vector_size__(16), __aligned__(16)));
typedef double __m128d __attribute__((__vector_size__(16), __aligned__(16)));
typedef long long __m128i __attribute__((__vector_size__(16), __aligned__(16)));
typedef float __m128_u __attribute__((__vector_size__(16), __aligned__(1)));
typedef struct { v128_t lo, hi; } __attribute__((__aligned__(32))) __m256;
typedef struct { v128_t lo, hi; } __attribute__((__aligned__(32))) __m256d;
typedef struct { v128_t lo, hi; } __attribute__((__aligned__(32))) __m256i;

#define KBX__X static __inline__ __attribute__((__always_inline__, __nodebug__))
#define KBX__V(x) ((v128_t)(x))
#define KBX__PS(x) ((__m128)(x))
#define KBX__PD(x) ((__m128d)(x))
#define KBX__SI(x) ((__m128i)(x))
/* one v128 operation on both halves of 256-bit values */
#define KBX__2(T, op, a, b) ((T){ op((a).lo, (b).lo), op((a).hi, (b).hi) })
#define KBX__1(T, op, a) ((T){ op((a).lo), op((a).hi) })

#define _MM_SHUFFLE(z, y, x, w) (((z) << 6) | ((y) << 4) | ((x) << 2) | (w))
#define _MM_FROUND_TO_NEAREST_INT 0x00
#define _MM_FROUND_TO_NEG_INF 0x01
#define _MM_FROUND_TO_POS_INF 0x02
#define _MM_FROUND_TO_ZERO 0x03
#define _MM_FROUND_CUR_DIRECTION 0x04
#define _MM_FROUND_RAISE_EXC 0x00
#define _MM_FROUND_NO_EXC 0x08
#define _MM_FROUND_NINT (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_RAISE_EXC)
#define _MM_FROUND_FLOOR (_MM_FROUND_TO_NEG_INF | _MM_FROUND_RAISE_EXC)
#define _MM_FROUND_CEIL (_MM_FROUND_TO_POS_INF | _MM_FROUND_RAISE_EXC)
#define _MM_FROUND_TRUNC (_MM_FROUND_TO_ZERO | _MM_FROUND_RAISE_EXC)
#define _MM_HINT_T0 3
#define _MM_HINT_T1 2
#define _MM_HINT_T2 1
#define _MM_HINT_NTA 0
#define _CMP_EQ_OQ 0x00
#define _CMP_LT_OS 0x01
#define _CMP_LE_OS 0x02
#define _CMP_UNORD_Q 0x03
#define _CMP_NEQ_UQ 0x04
#define _CMP_NLT_US 0x05
#define _CMP_NLE_US 0x06
#define _CMP_ORD_Q 0x07
#define _CMP_EQ_UQ 0x08
#define _CMP_NGE_US 0x09
#define _CMP_NGT_US 0x0a
#define _CMP_FALSE_OQ 0x0b
#define _CMP_NEQ_OQ 0x0c
#define _CMP_GE_OS 0x0d
#define _CMP_GT_OS 0x0e
#define _CMP_TRUE_UQ 0x0f
#define _CMP_EQ_OS 0x10
#define _CMP_LT_OQ 0x11
#define _CMP_LE_OQ 0x12
#define _CMP_UNORD_S 0x13
#define _CMP_NEQ_US 0x14
#define _CMP_NLT_UQ 0x15
#define _CMP_NLE_UQ 0x16
#define _CMP_ORD_S 0x17
#define _CMP_EQ_US 0x18
#define _CMP_NGE_UQ 0x19
#define _CMP_NGT_UQ 0x1a
#define _CMP_FALSE_OS 0x1b
#define _CMP_NEQ_OS 0x1c
#define _CMP_GE_OQ 0x1d
#define _CMP_GT_OQ 0x1e
#define _CMP_TRUE_US 0x1f

/* ------------------------------------------------------------------ helpers (not intrinsics) */
/* Hides what clang knows of a value (its sign, which bits are zero), so it keeps the operation an intrinsic names:
 * otherwise it rewrites, say, a signed compare of a masked non-negative value as an unsigned one, or arithmetic on
 * widened 16-bit lanes back into 16-bit lanes with shuffles, which V8 lowers to four or five x64 instructions each
 * where the native instruction is one. It costs nothing in V8 (a local). */
KBX__X v128_t kbx__opaque(v128_t v) {
    __asm__("" : "+r"(v));
    return v;
}
/* signed compares as pcmpgt: with what clang knows of a hidden, it cannot turn them into unsigned ones */
KBX__X v128_t kbx__gt8(v128_t a, v128_t b) { return wasm_i8x16_gt(kbx__opaque(a), b); }
KBX__X v128_t kbx__gt16(v128_t a, v128_t b) { return wasm_i16x8_gt(kbx__opaque(a), b); }
KBX__X v128_t kbx__gt32(v128_t a, v128_t b) { return wasm_i32x4_gt(kbx__opaque(a), b); }
/* lanes whose mask element has its top bit set take b, the others a (blendv). With relaxed SIMD one
 * relaxed_laneselect, vblendvps in V8 as natively, on a mask made all-0/all-1 per lane by the shift (clang drops
 * it for a compare's result), so engines that select bitwise give the same bytes; bitselect is three instructions */
#if defined(__wasm_relaxed_simd__)
KBX__X v128_t kbx__blendv32(v128_t a, v128_t b, v128_t mask) { return wasm_i32x4_relaxed_laneselect(b, a, wasm_i32x4_shr(mask, 31)); }
/* the 64-bit lanes' sign words spread over each lane: i64x2.shr_s has no x64 instruction below AVX-512 */
KBX__X v128_t kbx__blendv64(v128_t a, v128_t b, v128_t mask) {
    v128_t high = wasm_i32x4_shr(mask, 31);
    return wasm_i32x4_relaxed_laneselect(b, a, wasm_i32x4_shuffle(high, high, 1, 1, 3, 3));
}
#else
KBX__X v128_t kbx__blendv32(v128_t a, v128_t b, v128_t mask) { return wasm_v128_bitselect(b, a, wasm_i32x4_shr(mask, 31)); }
KBX__X v128_t kbx__blendv64(v128_t a, v128_t b, v128_t mask) { return wasm_v128_bitselect(b, a, wasm_i64x2_shr(mask, 63)); }
#endif
/* round by an _MM_FROUND_* mode; the current direction is the default, to nearest even. The result is hidden: the
 * conversions below round inside (cvtps2dq to nearest, cvttps2dq toward zero), and clang would drop their rounding
 * after this one as idempotent, so a roundps before a cvtps2dq, one instruction natively, would cost nothing here */
KBX__X v128_t kbx__round_f32(v128_t a, int mode) {
    switch (mode & _MM_FROUND_CUR_DIRECTION ? 0 : mode & 3) {
    case 1: return kbx__opaque(wasm_f32x4_floor(a));
    case 2: return kbx__opaque(wasm_f32x4_ceil(a));
    case 3: return kbx__opaque(wasm_f32x4_trunc(a));
    default: return kbx__opaque(wasm_f32x4_nearest(a));
    }
}
KBX__X v128_t kbx__round_f64(v128_t a, int mode) {
    switch (mode & _MM_FROUND_CUR_DIRECTION ? 0 : mode & 3) {
    case 1: return kbx__opaque(wasm_f64x2_floor(a));
    case 2: return kbx__opaque(wasm_f64x2_ceil(a));
    case 3: return kbx__opaque(wasm_f64x2_trunc(a));
    default: return kbx__opaque(wasm_f64x2_nearest(a));
    }
}
/* float → int32 of already integral values: the "integer indefinite" 0x80000000 when out of range or NaN */
#if defined(__wasm_relaxed_simd__)
/* relaxed_trunc is cvttps2dq itself on x86 engines (0x80000000 out of range and for NaN, as natively) where
 * trunc_sat costs about eight instructions, which made every float→int conversion of an AVX2 branch several
 * times dearer in the screen than natively; other engines saturate (fcvtzs), so lanes at or above 2^31 and NaN
 * are set to 0x80000000 here (below -2^31 both already give it), by a lane select on the compare's all-0/all-1
 * lanes (one vblendvps in V8) */
KBX__X v128_t kbx__cvt_i32(v128_t integral) {
    return wasm_i32x4_relaxed_laneselect(wasm_i32x4_relaxed_trunc_f32x4(integral), wasm_i32x4_splat(INT32_MIN),
                                         wasm_f32x4_lt(integral, wasm_f32x4_splat(2147483648.0f)));
}
#else
KBX__X v128_t kbx__cvt_i32(v128_t integral) {
    v128_t inRange = wasm_v128_and(wasm_f32x4_ge(integral, wasm_f32x4_splat(-2147483648.0f)), wasm_f32x4_lt(integral, wasm_f32x4_splat(2147483648.0f)));
    return wasm_v128_bitselect(wasm_i32x4_trunc_sat_f32x4(integral), wasm_i32x4_splat(INT32_MIN), inRange);
}
#endif
/* the 32 comparison predicates of cmp_ps/cmp_pd (bit 4, signalling or quiet, changes no result) */
KBX__X v128_t kbx__cmp_f32(v128_t a, v128_t b, int p) {
    v128_t unord = wasm_v128_not(wasm_v128_and(wasm_f32x4_eq(a, a), wasm_f32x4_eq(b, b)));
    switch (p & 15) {
    case 0: return wasm_f32x4_eq(a, b);
    case 1: return wasm_f32x4_lt(a, b);
    case 2: return wasm_f32x4_le(a, b);
    case 3: return unord;
    case 4: return wasm_f32x4_ne(a, b);
    case 5: return wasm_v128_not(wasm_f32x4_lt(a, b));
    case 6: return wasm_v128_not(wasm_f32x4_le(a, b));
    case 7: return wasm_v128_not(unord);
    case 8: return wasm_v128_or(wasm_f32x4_eq(a, b), unord);
    case 9: return wasm_v128_not(wasm_f32x4_ge(a, b));
    case 10: return wasm_v128_not(wasm_f32x4_gt(a, b));
    case 11: return wasm_i32x4_splat(0);
    case 12: return wasm_v128_andnot(wasm_f32x4_ne(a, b), unord);
    case 13: return wasm_f32x4_ge(a, b);
    case 14: return wasm_f32x4_gt(a, b);
    default: return wasm_i32x4_splat(-1);
    }
}
KBX__X v128_t kbx__cmp_f64(v128_t a, v128_t b, int p) {
    v128_t unord = wasm_v128_not(wasm_v128_and(wasm_f64x2_eq(a, a), wasm_f64x2_eq(b, b)));
    switch (p & 15) {
    case 0: return wasm_f64x2_eq(a, b);
    case 1: return wasm_f64x2_lt(a, b);
    case 2: return wasm_f64x2_le(a, b);
    case 3: return unord;
    case 4: return wasm_f64x2_ne(a, b);
    case 5: return wasm_v128_not(wasm_f64x2_lt(a, b));
    case 6: return wasm_v128_not(wasm_f64x2_le(a, b));
    case 7: return wasm_v128_not(unord);
    case 8: return wasm_v128_or(wasm_f64x2_eq(a, b), unord);
    case 9: return wasm_v128_not(wasm_f64x2_ge(a, b));
    case 10: return wasm_v128_not(wasm_f64x2_gt(a, b));
    case 11: return wasm_i32x4_splat(0);
    case 12: return wasm_v128_andnot(wasm_f64x2_ne(a, b), unord);
    case 13: return wasm_f64x2_ge(a, b);
    case 14: return wasm_f64x2_gt(a, b);
    default: return wasm_i32x4_splat(-1);
    }
}
#if defined(__wasm_relaxed_simd__)
KBX__X v128_t kbx__fma_f32(v128_t a, v128_t b, v128_t c) { return wasm_f32x4_relaxed_madd(a, b, c); }
KBX__X v128_t kbx__fma_f64(v128_t a, v128_t b, v128_t c) { return wasm_f64x2_relaxed_madd(a, b, c); }
#else
KBX__X v128_t kbx__fma_f32(v128_t a, v128_t b, v128_t c) { return wasm_f32x4_add(wasm_f32x4_mul(a, b), c); }
KBX__X v128_t kbx__fma_f64(v128_t a, v128_t b, v128_t c) { return wasm_f64x2_add(wasm_f64x2_mul(a, b), c); }
#endif
/* the negation inside fmsub/fnmadd: a NaN operand comes out of the instruction with its own sign */
KBX__X v128_t kbx__neg_f32(v128_t a) { return wasm_v128_bitselect(wasm_f32x4_neg(a), a, wasm_f32x4_eq(a, a)); }
KBX__X v128_t kbx__neg_f64(v128_t a) { return wasm_v128_bitselect(wasm_f64x2_neg(a), a, wasm_f64x2_eq(a, a)); }
/* IEEE half → float, exactly (subnormals included; a signalling NaN comes back quiet, as VCVTPH2PS does) */
KBX__X v128_t kbx__half_to_f32(v128_t h32) {
    v128_t sign = wasm_i32x4_shl(wasm_v128_and(h32, wasm_i32x4_splat(0x8000)), 16);
    v128_t em = wasm_v128_and(h32, wasm_i32x4_splat(0x7fff));
    /* finite: the half's bits in a float's place, scaled by 2^(127-15); subnormal halves land on normal floats */
    v128_t finite = wasm_f32x4_mul(wasm_i32x4_shl(em, 13), wasm_f32x4_splat(0x1p112f));
    v128_t special = wasm_v128_or(wasm_i32x4_shl(em, 13), wasm_i32x4_splat(0x7f800000));
    v128_t isNan = wasm_i32x4_gt(em, wasm_i32x4_splat(0x7c00));
    special = wasm_v128_or(special, wasm_v128_and(isNan, wasm_i32x4_splat(0x00400000)));
    return wasm_v128_or(sign, wasm_v128_bitselect(special, finite, wasm_i32x4_ge(em, wasm_i32x4_splat(0x7c00))));
}
/* shift counts of 32 or more give 0 (logical) or the sign (arithmetic), unlike WASM's count modulo 32 */
KBX__X v128_t kbx__slli32(v128_t a, int n) { return (unsigned)n > 31 ? wasm_i32x4_splat(0) : wasm_i32x4_shl(a, n); }
KBX__X v128_t kbx__srli32(v128_t a, int n) { return (unsigned)n > 31 ? wasm_i32x4_splat(0) : wasm_u32x4_shr(a, n); }
KBX__X v128_t kbx__srai32(v128_t a, int n) { return wasm_i32x4_shr(a, (unsigned)n > 31 ? 31 : n); }
KBX__X v128_t kbx__slli16(v128_t a, int n) { return (unsigned)n > 15 ? wasm_i32x4_splat(0) : wasm_i16x8_shl(a, n); }
KBX__X v128_t kbx__srli16(v128_t a, int n) { return (unsigned)n > 15 ? wasm_i32x4_splat(0) : wasm_u16x8_shr(a, n); }
KBX__X v128_t kbx__srai16(v128_t a, int n) { return wasm_i16x8_shr(a, (unsigned)n > 15 ? 15 : n); }
KBX__X v128_t kbx__slli64(v128_t a, int n) { return (unsigned)n > 63 ? wasm_i32x4_splat(0) : wasm_i64x2_shl(a, n); }
KBX__X v128_t kbx__srli64(v128_t a, int n) { return (unsigned)n > 63 ? wasm_i32x4_splat(0) : wasm_u64x2_shr(a, n); }
/* pshufb within one 128-bit lane: an index byte with its top bit set gives 0, else the byte at its low 4 bits */
KBX__X v128_t kbx__pshufb(v128_t a, v128_t idx) { return wasm_i8x16_swizzle(a, wasm_v128_and(idx, wasm_i8x16_splat((int8_t)0x8f))); }
/* pmaddubsw: unsigned bytes of a times signed bytes of b, adjacent products added with signed saturation */
KBX__X v128_t kbx__maddubs(v128_t a, v128_t b) {
    v128_t even = wasm_i16x8_mul(wasm_v128_and(a, wasm_i16x8_splat(0xff)), wasm_i16x8_shr(wasm_i16x8_shl(b, 8), 8));
    v128_t odd = wasm_i16x8_mul(wasm_u16x8_shr(a, 8), wasm_i16x8_shr(b, 8));
    return wasm_i16x8_add_sat(even, odd);
}
/* horizontal pairs within one 128-bit lane: [a0+a1, a2+a3, b0+b1, b2+b3] */
KBX__X v128_t kbx__hadd_f32(v128_t a, v128_t b) { return wasm_f32x4_add(wasm_i32x4_shuffle(a, b, 0, 2, 4, 6), wasm_i32x4_shuffle(a, b, 1, 3, 5, 7)); }
KBX__X v128_t kbx__hsub_f32(v128_t a, v128_t b) { return wasm_f32x4_sub(wasm_i32x4_shuffle(a, b, 0, 2, 4, 6), wasm_i32x4_shuffle(a, b, 1, 3, 5, 7)); }
KBX__X v128_t kbx__hadd_i32(v128_t a, v128_t b) { return wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 2, 4, 6), wasm_i32x4_shuffle(a, b, 1, 3, 5, 7)); }
/* psignb: a negated where b < 0, zeroed where b == 0 */
KBX__X v128_t kbx__sign8(v128_t a, v128_t b) {
    v128_t neg = wasm_i8x16_lt(b, wasm_i8x16_splat(0)), zero = wasm_i8x16_eq(b, wasm_i8x16_splat(0));
    return wasm_v128_andnot(wasm_v128_bitselect(wasm_i8x16_neg(a), a, neg), zero);
}

/* ------------------------------------------------------------------ SSE (__m128) */
KBX__X __m128 _mm_setzero_ps(void) { return (__m128){ 0, 0, 0, 0 }; }
KBX__X __m128 _mm_set1_ps(float x) { return (__m128){ x, x, x, x }; }
KBX__X __m128 _mm_set_ps1(float x) { return _mm_set1_ps(x); }
KBX__X __m128 _mm_set_ps(float e3, float e2, float e1, float e0) { return (__m128){ e0, e1, e2, e3 }; }
KBX__X __m128 _mm_setr_ps(float e0, float e1, float e2, float e3) { return (__m128){ e0, e1, e2, e3 }; }
KBX__X __m128 _mm_set_ss(float x) { return (__m128){ x, 0, 0, 0 }; }
KBX__X __m128 _mm_load_ps(const float *p) { return KBX__PS(wasm_v128_load(p)); }
KBX__X __m128 _mm_loadu_ps(const float *p) { return KBX__PS(wasm_v128_load(p)); }
KBX__X __m128 _mm_load1_ps(const float *p) { return KBX__PS(wasm_v128_load32_splat(p)); }
KBX__X __m128 _mm_load_ps1(const float *p) { return _mm_load1_ps(p); }
KBX__X __m128 _mm_load_ss(const float *p) { return KBX__PS(wasm_v128_load32_zero(p)); }
KBX__X void _mm_store_ps(float *p, __m128 a) { wasm_v128_store(p, KBX__V(a)); }
KBX__X void _mm_storeu_ps(float *p, __m128 a) { wasm_v128_store(p, KBX__V(a)); }
KBX__X void _mm_store_ss(float *p, __m128 a) { wasm_v128_store32_lane(p, KBX__V(a), 0); }
KBX__X __m128 _mm_add_ps(__m128 a, __m128 b) { return KBX__PS(wasm_f32x4_add(KBX__V(a), KBX__V(b))); }
KBX__X __m128 _mm_sub_ps(__m128 a, __m128 b) { return KBX__PS(wasm_f32x4_sub(KBX__V(a), KBX__V(b))); }
KBX__X __m128 _mm_mul_ps(__m128 a, __m128 b) { return KBX__PS(wasm_f32x4_mul(KBX__V(a), KBX__V(b))); }
KBX__X __m128 _mm_div_ps(__m128 a, __m128 b) { return KBX__PS(wasm_f32x4_div(KBX__V(a), KBX__V(b))); }
KBX__X __m128 _mm_sqrt_ps(__m128 a) { return KBX__PS(wasm_f32x4_sqrt(KBX__V(a))); }
/* maxps: a > b ? a : b (NaN in either gives b); pmax(b, a) is exactly that */
KBX__X __m128 _mm_max_ps(__m128 a, __m128 b) { return KBX__PS(wasm_f32x4_pmax(KBX__V(b), KBX__V(a))); }
KBX__X __m128 _mm_min_ps(__m128 a, __m128 b) { return KBX__PS(wasm_f32x4_pmin(KBX__V(b), KBX__V(a))); }
KBX__X __m128 _mm_add_ss(__m128 a, __m128 b) { a[0] = a[0] + b[0]; return a; }
KBX__X __m128 _mm_sub_ss(__m128 a, __m128 b) { a[0] = a[0] - b[0]; return a; }
KBX__X __m128 _mm_mul_ss(__m128 a, __m128 b) { a[0] = a[0] * b[0]; return a; }
KBX__X __m128 _mm_div_ss(__m128 a, __m128 b) { a[0] = a[0] / b[0]; return a; }
KBX__X __m128 _mm_max_ss(__m128 a, __m128 b) { a[0] = a[0] > b[0] ? a[0] : b[0]; return a; }
KBX__X __m128 _mm_min_ss(__m128 a, __m128 b) { a[0] = a[0] < b[0] ? a[0] : b[0]; return a; }
KBX__X float _mm_cvtss_f32(__m128 a) { return a[0]; }
KBX__X __m128 _mm_and_ps(__m128 a, __m128 b) { return KBX__PS(wasm_v128_and(KBX__V(a), KBX__V(b))); }
KBX__X __m128 _mm_andnot_ps(__m128 a, __m128 b) { return KBX__PS(wasm_v128_andnot(KBX__V(b), KBX__V(a))); }
KBX__X __m128 _mm_or_ps(__m128 a, __m128 b) { return KBX__PS(wasm_v128_or(KBX__V(a), KBX__V(b))); }
KBX__X __m128 _mm_xor_ps(__m128 a, __m128 b) { return KBX__PS(wasm_v128_xor(KBX__V(a), KBX__V(b))); }
KBX__X __m128 _mm_cmpeq_ps(__m128 a, __m128 b) { return KBX__PS(kbx__cmp_f32(KBX__V(a), KBX__V(b), _CMP_EQ_OQ)); }
KBX__X __m128 _mm_cmplt_ps(__m128 a, __m128 b) { return KBX__PS(kbx__cmp_f32(KBX__V(a), KBX__V(b), _CMP_LT_OS)); }
KBX__X __m128 _mm_cmple_ps(__m128 a, __m128 b) { return KBX__PS(kbx__cmp_f32(KBX__V(a), KBX__V(b), _CMP_LE_OS)); }
KBX__X __m128 _mm_cmpgt_ps(__m128 a, __m128 b) { return KBX__PS(kbx__cmp_f32(KBX__V(a), KBX__V(b), _CMP_GT_OS)); }
KBX__X __m128 _mm_cmpge_ps(__m128 a, __m128 b) { return KBX__PS(kbx__cmp_f32(KBX__V(a), KBX__V(b), _CMP_GE_OS)); }
KBX__X __m128 _mm_cmpneq_ps(__m128 a, __m128 b) { return KBX__PS(kbx__cmp_f32(KBX__V(a), KBX__V(b), _CMP_NEQ_UQ)); }
KBX__X __m128 _mm_cmpunord_ps(__m128 a, __m128 b) { return KBX__PS(kbx__cmp_f32(KBX__V(a), KBX__V(b), _CMP_UNORD_Q)); }
KBX__X __m128 _mm_cmpord_ps(__m128 a, __m128 b) { return KBX__PS(kbx__cmp_f32(KBX__V(a), KBX__V(b), _CMP_ORD_Q)); }
KBX__X int _mm_movemask_ps(__m128 a) { return (int)wasm_i32x4_bitmask(KBX__V(a)); }
KBX__X __m128 _mm_movehl_ps(__m128 a, __m128 b) { return KBX__PS(wasm_i32x4_shuffle(KBX__V(a), KBX__V(b), 6, 7, 2, 3)); }
KBX__X __m128 _mm_movelh_ps(__m128 a, __m128 b) { return KBX__PS(wasm_i32x4_shuffle(KBX__V(a), KBX__V(b), 0, 1, 4, 5)); }
KBX__X __m128 _mm_unpacklo_ps(__m128 a, __m128 b) { return KBX__PS(wasm_i32x4_shuffle(KBX__V(a), KBX__V(b), 0, 4, 1, 5)); }
KBX__X __m128 _mm_unpackhi_ps(__m128 a, __m128 b) { return KBX__PS(wasm_i32x4_shuffle(KBX__V(a), KBX__V(b), 2, 6, 3, 7)); }
#define _mm_shuffle_ps(a, b, imm) \
    ((__m128)wasm_i32x4_shuffle((v128_t)(__m128)(a), (v128_t)(__m128)(b), (imm) & 3, ((imm) >> 2) & 3, (((imm) >> 4) & 3) + 4, (((imm) >> 6) & 3) + 4))
KBX__X __m128 _mm_cvtsi32_ss(__m128 a, int x) { a[0] = (float)x; return a; }
KBX__X void _mm_prefetch(const void *p, int hint) { (void)p; (void)hint; }
KBX__X void _mm_sfence(void) {}
KBX__X void _mm_pause(void) {}

/* ------------------------------------------------------------------ SSE2 (__m128d, __m128i) */
KBX__X __m128d _mm_setzero_pd(void) { return (__m128d){ 0, 0 }; }
KBX__X __m128d _mm_set1_pd(double x) { return (__m128d){ x, x }; }
KBX__X __m128d _mm_set_pd(double e1, double e0) { return (__m128d){ e0, e1 }; }
KBX__X __m128d _mm_setr_pd(double e0, double e1) { return (__m128d){ e0, e1 }; }
KBX__X __m128d _mm_loadu_pd(const double *p) { return KBX__PD(wasm_v128_load(p)); }
KBX__X __m128d _mm_load_pd(const double *p) { return KBX__PD(wasm_v128_load(p)); }
KBX__X void _mm_storeu_pd(double *p, __m128d a) { wasm_v128_store(p, KBX__V(a)); }
KBX__X void _mm_store_pd(double *p, __m128d a) { wasm_v128_store(p, KBX__V(a)); }
KBX__X __m128d _mm_add_pd(__m128d a, __m128d b) { return KBX__PD(wasm_f64x2_add(KBX__V(a), KBX__V(b))); }
KBX__X __m128d _mm_sub_pd(__m128d a, __m128d b) { return KBX__PD(wasm_f64x2_sub(KBX__V(a), KBX__V(b))); }
KBX__X __m128d _mm_mul_pd(__m128d a, __m128d b) { return KBX__PD(wasm_f64x2_mul(KBX__V(a), KBX__V(b))); }
KBX__X __m128d _mm_div_pd(__m128d a, __m128d b) { return KBX__PD(wasm_f64x2_div(KBX__V(a), KBX__V(b))); }
KBX__X __m128d _mm_sqrt_pd(__m128d a) { return KBX__PD(wasm_f64x2_sqrt(KBX__V(a))); }
KBX__X __m128d _mm_max_pd(__m128d a, __m128d b) { return KBX__PD(wasm_f64x2_pmax(KBX__V(b), KBX__V(a))); }
KBX__X __m128d _mm_min_pd(__m128d a, __m128d b) { return KBX__PD(wasm_f64x2_pmin(KBX__V(b), KBX__V(a))); }
KBX__X __m128d _mm_add_sd(__m128d a, __m128d b) { a[0] = a[0] + b[0]; return a; }
KBX__X __m128d _mm_mul_sd(__m128d a, __m128d b) { a[0] = a[0] * b[0]; return a; }
KBX__X double _mm_cvtsd_f64(__m128d a) { return a[0]; }
KBX__X __m128d _mm_unpacklo_pd(__m128d a, __m128d b) { return KBX__PD(wasm_i64x2_shuffle(KBX__V(a), KBX__V(b), 0, 2)); }
KBX__X __m128d _mm_unpackhi_pd(__m128d a, __m128d b) { return KBX__PD(wasm_i64x2_shuffle(KBX__V(a), KBX__V(b), 1, 3)); }
KBX__X __m128d _mm_cvtps_pd(__m128 a) { return KBX__PD(wasm_f64x2_promote_low_f32x4(KBX__V(a))); }
KBX__X __m128 _mm_cvtpd_ps(__m128d a) { return KBX__PS(wasm_f32x4_demote_f64x2_zero(KBX__V(a))); }
KBX__X __m128 _mm_castpd_ps(__m128d a) { return KBX__PS(a); }
KBX__X __m128i _mm_castpd_si128(__m128d a) { return KBX__SI(a); }
KBX__X __m128d _mm_castps_pd(__m128 a) { return KBX__PD(a); }
KBX__X __m128i _mm_castps_si128(__m128 a) { return KBX__SI(a); }
KBX__X __m128 _mm_castsi128_ps(__m128i a) { return KBX__PS(a); }
KBX__X __m128d _mm_castsi128_pd(__m128i a) { return KBX__PD(a); }

KBX__X __m128i _mm_setzero_si128(void) { return KBX__SI(wasm_i32x4_splat(0)); }
KBX__X __m128i _mm_set1_epi8(char x) { return KBX__SI(wasm_i8x16_splat(x)); }
KBX__X __m128i _mm_set1_epi16(short x) { return KBX__SI(wasm_i16x8_splat(x)); }
KBX__X __m128i _mm_set1_epi32(int x) { return KBX__SI(wasm_i32x4_splat(x)); }
KBX__X __m128i _mm_set1_epi64x(long long x) { return KBX__SI(wasm_i64x2_splat(x)); }
KBX__X __m128i _mm_set_epi32(int e3, int e2, int e1, int e0) { return KBX__SI(wasm_i32x4_make(e0, e1, e2, e3)); }
KBX__X __m128i _mm_setr_epi32(int e0, int e1, int e2, int e3) { return KBX__SI(wasm_i32x4_make(e0, e1, e2, e3)); }
KBX__X __m128i _mm_loadu_si128(const void *p) { return KBX__SI(wasm_v128_load(p)); }
KBX__X __m128i _mm_load_si128(const void *p) { return KBX__SI(wasm_v128_load(p)); }
KBX__X __m128i _mm_loadl_epi64(const void *p) { return KBX__SI(wasm_v128_load64_zero(p)); }
KBX__X __m128i _mm_cvtsi32_si128(int x) { return KBX__SI(wasm_i32x4_make(x, 0, 0, 0)); }
KBX__X void _mm_storeu_si128(void *p, __m128i a) { wasm_v128_store(p, KBX__V(a)); }
KBX__X void _mm_store_si128(void *p, __m128i a) { wasm_v128_store(p, KBX__V(a)); }
KBX__X void _mm_storel_epi64(void *p, __m128i a) { wasm_v128_store64_lane(p, KBX__V(a), 0); }
KBX__X int _mm_cvtsi128_si32(__m128i a) { return wasm_i32x4_extract_lane(KBX__V(a), 0); }
KBX__X __m128i _mm_add_epi8(__m128i a, __m128i b) { return KBX__SI(wasm_i8x16_add(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_add_epi16(__m128i a, __m128i b) { return KBX__SI(wasm_i16x8_add(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_add_epi32(__m128i a, __m128i b) { return KBX__SI(wasm_i32x4_add(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_add_epi64(__m128i a, __m128i b) { return KBX__SI(wasm_i64x2_add(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_sub_epi8(__m128i a, __m128i b) { return KBX__SI(wasm_i8x16_sub(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_sub_epi16(__m128i a, __m128i b) { return KBX__SI(wasm_i16x8_sub(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_sub_epi32(__m128i a, __m128i b) { return KBX__SI(wasm_i32x4_sub(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_adds_epi16(__m128i a, __m128i b) { return KBX__SI(wasm_i16x8_add_sat(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_mullo_epi16(__m128i a, __m128i b) { return KBX__SI(wasm_i16x8_mul(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_madd_epi16(__m128i a, __m128i b) { return KBX__SI(wasm_i32x4_dot_i16x8(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_and_si128(__m128i a, __m128i b) { return KBX__SI(wasm_v128_and(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_andnot_si128(__m128i a, __m128i b) { return KBX__SI(wasm_v128_andnot(KBX__V(b), KBX__V(a))); }
KBX__X __m128i _mm_or_si128(__m128i a, __m128i b) { return KBX__SI(wasm_v128_or(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_xor_si128(__m128i a, __m128i b) { return KBX__SI(wasm_v128_xor(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_cmpeq_epi8(__m128i a, __m128i b) { return KBX__SI(wasm_i8x16_eq(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_cmpeq_epi32(__m128i a, __m128i b) { return KBX__SI(wasm_i32x4_eq(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_cmpgt_epi8(__m128i a, __m128i b) { return KBX__SI(kbx__gt8(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_cmpgt_epi16(__m128i a, __m128i b) { return KBX__SI(kbx__gt16(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_cmpgt_epi32(__m128i a, __m128i b) { return KBX__SI(kbx__gt32(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_cmplt_epi32(__m128i a, __m128i b) { return KBX__SI(kbx__gt32(KBX__V(b), KBX__V(a))); }
KBX__X __m128i _mm_slli_epi16(__m128i a, int n) { return KBX__SI(kbx__slli16(KBX__V(a), n)); }
KBX__X __m128i _mm_srli_epi16(__m128i a, int n) { return KBX__SI(kbx__srli16(KBX__V(a), n)); }
KBX__X __m128i _mm_srai_epi16(__m128i a, int n) { return KBX__SI(kbx__srai16(KBX__V(a), n)); }
KBX__X __m128i _mm_slli_epi32(__m128i a, int n) { return KBX__SI(kbx__slli32(KBX__V(a), n)); }
KBX__X __m128i _mm_srli_epi32(__m128i a, int n) { return KBX__SI(kbx__srli32(KBX__V(a), n)); }
KBX__X __m128i _mm_srai_epi32(__m128i a, int n) { return KBX__SI(kbx__srai32(KBX__V(a), n)); }
KBX__X __m128i _mm_slli_epi64(__m128i a, int n) { return KBX__SI(kbx__slli64(KBX__V(a), n)); }
KBX__X __m128i _mm_srli_epi64(__m128i a, int n) { return KBX__SI(kbx__srli64(KBX__V(a), n)); }
KBX__X __m128i _mm_packs_epi32(__m128i a, __m128i b) { return KBX__SI(wasm_i16x8_narrow_i32x4(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_packs_epi16(__m128i a, __m128i b) { return KBX__SI(wasm_i8x16_narrow_i16x8(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_packus_epi16(__m128i a, __m128i b) { return KBX__SI(wasm_u8x16_narrow_i16x8(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_unpacklo_epi8(__m128i a, __m128i b) { return KBX__SI(wasm_i8x16_shuffle(KBX__V(a), KBX__V(b), 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)); }
KBX__X __m128i _mm_unpackhi_epi8(__m128i a, __m128i b) { return KBX__SI(wasm_i8x16_shuffle(KBX__V(a), KBX__V(b), 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)); }
KBX__X __m128i _mm_unpacklo_epi16(__m128i a, __m128i b) { return KBX__SI(wasm_i16x8_shuffle(KBX__V(a), KBX__V(b), 0, 8, 1, 9, 2, 10, 3, 11)); }
KBX__X __m128i _mm_unpackhi_epi16(__m128i a, __m128i b) { return KBX__SI(wasm_i16x8_shuffle(KBX__V(a), KBX__V(b), 4, 12, 5, 13, 6, 14, 7, 15)); }
KBX__X __m128i _mm_unpacklo_epi32(__m128i a, __m128i b) { return KBX__SI(wasm_i32x4_shuffle(KBX__V(a), KBX__V(b), 0, 4, 1, 5)); }
KBX__X __m128i _mm_unpackhi_epi32(__m128i a, __m128i b) { return KBX__SI(wasm_i32x4_shuffle(KBX__V(a), KBX__V(b), 2, 6, 3, 7)); }
KBX__X __m128i _mm_unpacklo_epi64(__m128i a, __m128i b) { return KBX__SI(wasm_i64x2_shuffle(KBX__V(a), KBX__V(b), 0, 2)); }
KBX__X __m128i _mm_unpackhi_epi64(__m128i a, __m128i b) { return KBX__SI(wasm_i64x2_shuffle(KBX__V(a), KBX__V(b), 1, 3)); }
#define _mm_shuffle_epi32(a, imm) \
    ((__m128i)wasm_i32x4_shuffle((v128_t)(__m128i)(a), (v128_t)(__m128i)(a), (imm) & 3, ((imm) >> 2) & 3, ((imm) >> 4) & 3, ((imm) >> 6) & 3))
KBX__X int _mm_movemask_epi8(__m128i a) { return (int)wasm_i8x16_bitmask(KBX__V(a)); }
KBX__X __m128 _mm_cvtepi32_ps(__m128i a) { return KBX__PS(wasm_f32x4_convert_i32x4(KBX__V(a))); }
KBX__X __m128i _mm_cvtps_epi32(__m128 a) { return KBX__SI(kbx__cvt_i32(wasm_f32x4_nearest(KBX__V(a)))); }
KBX__X __m128i _mm_cvttps_epi32(__m128 a) { return KBX__SI(kbx__cvt_i32(wasm_f32x4_trunc(KBX__V(a)))); }

/* ------------------------------------------------------------------ SSE3, SSSE3, SSE4.1 */
KBX__X __m128 _mm_movehdup_ps(__m128 a) { return KBX__PS(wasm_i32x4_shuffle(KBX__V(a), KBX__V(a), 1, 1, 3, 3)); }
KBX__X __m128 _mm_moveldup_ps(__m128 a) { return KBX__PS(wasm_i32x4_shuffle(KBX__V(a), KBX__V(a), 0, 0, 2, 2)); }
KBX__X __m128 _mm_hadd_ps(__m128 a, __m128 b) { return KBX__PS(kbx__hadd_f32(KBX__V(a), KBX__V(b))); }
KBX__X __m128 _mm_hsub_ps(__m128 a, __m128 b) { return KBX__PS(kbx__hsub_f32(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_hadd_epi32(__m128i a, __m128i b) { return KBX__SI(kbx__hadd_i32(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_abs_epi8(__m128i a) { return KBX__SI(wasm_i8x16_abs(KBX__V(a))); }
KBX__X __m128i _mm_abs_epi16(__m128i a) { return KBX__SI(wasm_i16x8_abs(KBX__V(a))); }
KBX__X __m128i _mm_abs_epi32(__m128i a) { return KBX__SI(wasm_i32x4_abs(KBX__V(a))); }
KBX__X __m128i _mm_sign_epi8(__m128i a, __m128i b) { return KBX__SI(kbx__sign8(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_shuffle_epi8(__m128i a, __m128i b) { return KBX__SI(kbx__pshufb(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_maddubs_epi16(__m128i a, __m128i b) { return KBX__SI(kbx__maddubs(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_max_epi32(__m128i a, __m128i b) { return KBX__SI(wasm_i32x4_max(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_min_epi32(__m128i a, __m128i b) { return KBX__SI(wasm_i32x4_min(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_mullo_epi32(__m128i a, __m128i b) { return KBX__SI(wasm_i32x4_mul(KBX__V(a), KBX__V(b))); }
KBX__X __m128i _mm_cvtepi8_epi16(__m128i a) { return KBX__SI(kbx__opaque(wasm_i16x8_extend_low_i8x16(KBX__V(a)))); }
KBX__X __m128i _mm_cvtepu8_epi16(__m128i a) { return KBX__SI(kbx__opaque(wasm_u16x8_extend_low_u8x16(KBX__V(a)))); }
KBX__X __m128i _mm_cvtepi16_epi32(__m128i a) { return KBX__SI(kbx__opaque(wasm_i32x4_extend_low_i16x8(KBX__V(a)))); }
KBX__X __m128i _mm_cvtepu16_epi32(__m128i a) { return KBX__SI(kbx__opaque(wasm_u32x4_extend_low_u16x8(KBX__V(a)))); }
KBX__X __m128 _mm_blendv_ps(__m128 a, __m128 b, __m128 mask) { return KBX__PS(kbx__blendv32(KBX__V(a), KBX__V(b), KBX__V(mask))); }
KBX__X __m128 _mm_round_ps(__m128 a, int mode) { return KBX__PS(kbx__round_f32(KBX__V(a), mode)); }
KBX__X __m128 _mm_floor_ps(__m128 a) { return KBX__PS(kbx__round_f32(KBX__V(a), _MM_FROUND_FLOOR)); }
KBX__X __m128 _mm_ceil_ps(__m128 a) { return KBX__PS(kbx__round_f32(KBX__V(a), _MM_FROUND_CEIL)); }
#define _mm_extract_epi32(a, imm) wasm_i32x4_extract_lane((v128_t)(__m128i)(a), (imm) & 3)
#define _mm_extract_ps(a, imm) wasm_i32x4_extract_lane((v128_t)(__m128)(a), (imm) & 3)
#define _mm_insert_epi32(a, x, imm) ((__m128i)wasm_i32x4_replace_lane((v128_t)(__m128i)(a), (imm) & 3, (x)))

/* ------------------------------------------------------------------ AVX (__m256, __m256d) */
KBX__X __m256 _mm256_setzero_ps(void) { return (__m256){ wasm_i32x4_splat(0), wasm_i32x4_splat(0) }; }
KBX__X __m256d _mm256_setzero_pd(void) { return (__m256d){ wasm_i32x4_splat(0), wasm_i32x4_splat(0) }; }
KBX__X __m256i _mm256_setzero_si256(void) { return (__m256i){ wasm_i32x4_splat(0), wasm_i32x4_splat(0) }; }
KBX__X __m256 _mm256_set1_ps(float x) { v128_t v = wasm_f32x4_splat(x); return (__m256){ v, v }; }
KBX__X __m256d _mm256_set1_pd(double x) { v128_t v = wasm_f64x2_splat(x); return (__m256d){ v, v }; }
KBX__X __m256 _mm256_setr_ps(float e0, float e1, float e2, float e3, float e4, float e5, float e6, float e7) {
    return (__m256){ wasm_f32x4_make(e0, e1, e2, e3), wasm_f32x4_make(e4, e5, e6, e7) };
}
KBX__X __m256 _mm256_set_ps(float e7, float e6, float e5, float e4, float e3, float e2, float e1, float e0) {
    return _mm256_setr_ps(e0, e1, e2, e3, e4, e5, e6, e7);
}
KBX__X __m256d _mm256_setr_pd(double e0, double e1, double e2, double e3) { return (__m256d){ wasm_f64x2_make(e0, e1), wasm_f64x2_make(e2, e3) }; }
KBX__X __m256d _mm256_set_pd(double e3, double e2, double e1, double e0) { return _mm256_setr_pd(e0, e1, e2, e3); }
KBX__X __m256 _mm256_set_m128(__m128 hi, __m128 lo) { return (__m256){ KBX__V(lo), KBX__V(hi) }; }
KBX__X __m256 _mm256_setr_m128(__m128 lo, __m128 hi) { return (__m256){ KBX__V(lo), KBX__V(hi) }; }
KBX__X __m256 _mm256_load_ps(const float *p) { return (__m256){ wasm_v128_load(p), wasm_v128_load(p + 4) }; }
KBX__X __m256 _mm256_loadu_ps(const float *p) { return _mm256_load_ps(p); }
KBX__X __m256d _mm256_load_pd(const double *p) { return (__m256d){ wasm_v128_load(p), wasm_v128_load(p + 2) }; }
KBX__X __m256d _mm256_loadu_pd(const double *p) { return _mm256_load_pd(p); }
KBX__X __m256 _mm256_broadcast_ss(const float *p) { return _mm256_set1_ps(*p); }
KBX__X __m256 _mm256_broadcast_ps(const __m128 *p) { v128_t v = wasm_v128_load(p); return (__m256){ v, v }; }
KBX__X void _mm256_store_ps(float *p, __m256 a) { wasm_v128_store(p, a.lo); wasm_v128_store(p + 4, a.hi); }
KBX__X void _mm256_storeu_ps(float *p, __m256 a) { _mm256_store_ps(p, a); }
KBX__X void _mm256_stream_ps(float *p, __m256 a) { _mm256_store_ps(p, a); }
KBX__X void _mm256_store_pd(double *p, __m256d a) { wasm_v128_store(p, a.lo); wasm_v128_store(p + 2, a.hi); }
KBX__X void _mm256_storeu_pd(double *p, __m256d a) { _mm256_store_pd(p, a); }
/* masked: only elements whose mask has its top bit set are read or written (others read as 0), as natively no
 * fault or write can come from a masked-off element */
KBX__X __m256 _mm256_maskload_ps(const float *p, __m256i mask) {
    int32_t m[8], r[8];
    wasm_v128_store(m, mask.lo);
    wasm_v128_store(m + 4, mask.hi);
    for (int i = 0; i < 8; i++) r[i] = m[i] < 0 ? ((const int32_t *)p)[i] : 0;
    return (__m256){ wasm_v128_load(r), wasm_v128_load(r + 4) };
}
KBX__X void _mm256_maskstore_ps(float *p, __m256i mask, __m256 a) {
    int32_t m[8], v[8];
    wasm_v128_store(m, mask.lo);
    wasm_v128_store(m + 4, mask.hi);
    wasm_v128_store(v, a.lo);
    wasm_v128_store(v + 4, a.hi);
    for (int i = 0; i < 8; i++)
        if (m[i] < 0) ((int32_t *)p)[i] = v[i];
}
KBX__X __m256 _mm256_add_ps(__m256 a, __m256 b) { return KBX__2(__m256, wasm_f32x4_add, a, b); }
KBX__X __m256 _mm256_sub_ps(__m256 a, __m256 b) { return KBX__2(__m256, wasm_f32x4_sub, a, b); }
KBX__X __m256 _mm256_mul_ps(__m256 a, __m256 b) { return KBX__2(__m256, wasm_f32x4_mul, a, b); }
KBX__X __m256 _mm256_div_ps(__m256 a, __m256 b) { return KBX__2(__m256, wasm_f32x4_div, a, b); }
KBX__X __m256 _mm256_sqrt_ps(__m256 a) { return KBX__1(__m256, wasm_f32x4_sqrt, a); }
KBX__X __m256 _mm256_max_ps(__m256 a, __m256 b) { return KBX__2(__m256, wasm_f32x4_pmax, b, a); }
KBX__X __m256 _mm256_min_ps(__m256 a, __m256 b) { return KBX__2(__m256, wasm_f32x4_pmin, b, a); }
KBX__X __m256 _mm256_and_ps(__m256 a, __m256 b) { return KBX__2(__m256, wasm_v128_and, a, b); }
KBX__X __m256 _mm256_or_ps(__m256 a, __m256 b) { return KBX__2(__m256, wasm_v128_or, a, b); }
KBX__X __m256 _mm256_xor_ps(__m256 a, __m256 b) { return KBX__2(__m256, wasm_v128_xor, a, b); }
KBX__X __m256 _mm256_andnot_ps(__m256 a, __m256 b) { return KBX__2(__m256, wasm_v128_andnot, b, a); }
KBX__X __m256 _mm256_hadd_ps(__m256 a, __m256 b) { return KBX__2(__m256, kbx__hadd_f32, a, b); }
KBX__X __m256 _mm256_hsub_ps(__m256 a, __m256 b) { return KBX__2(__m256, kbx__hsub_f32, a, b); }
KBX__X __m256 _mm256_movehdup_ps(__m256 a) { return (__m256){ wasm_i32x4_shuffle(a.lo, a.lo, 1, 1, 3, 3), wasm_i32x4_shuffle(a.hi, a.hi, 1, 1, 3, 3) }; }
KBX__X __m256 _mm256_moveldup_ps(__m256 a) { return (__m256){ wasm_i32x4_shuffle(a.lo, a.lo, 0, 0, 2, 2), wasm_i32x4_shuffle(a.hi, a.hi, 0, 0, 2, 2) }; }
KBX__X __m256 _mm256_unpacklo_ps(__m256 a, __m256 b) { return (__m256){ wasm_i32x4_shuffle(a.lo, b.lo, 0, 4, 1, 5), wasm_i32x4_shuffle(a.hi, b.hi, 0, 4, 1, 5) }; }
KBX__X __m256 _mm256_unpackhi_ps(__m256 a, __m256 b) { return (__m256){ wasm_i32x4_shuffle(a.lo, b.lo, 2, 6, 3, 7), wasm_i32x4_shuffle(a.hi, b.hi, 2, 6, 3, 7) }; }
#define _mm256_shuffle_ps(a, b, imm)                                                                                   \
    ((__m256){ wasm_i32x4_shuffle((a).lo, (b).lo, (imm) & 3, ((imm) >> 2) & 3, (((imm) >> 4) & 3) + 4, (((imm) >> 6) & 3) + 4), \
               wasm_i32x4_shuffle((a).hi, (b).hi, (imm) & 3, ((imm) >> 2) & 3, (((imm) >> 4) & 3) + 4, (((imm) >> 6) & 3) + 4) })
#define _mm256_permute_ps(a, imm)                                                                                        \
    ((__m256){ wasm_i32x4_shuffle((a).lo, (a).lo, (imm) & 3, ((imm) >> 2) & 3, ((imm) >> 4) & 3, ((imm) >> 6) & 3), \
               wasm_i32x4_shuffle((a).hi, (a).hi, (imm) & 3, ((imm) >> 2) & 3, ((imm) >> 4) & 3, ((imm) >> 6) & 3) })
KBX__X __m256 _mm256_blendv_ps(__m256 a, __m256 b, __m256 mask) {
    return (__m256){ kbx__blendv32(a.lo, b.lo, mask.lo), kbx__blendv32(a.hi, b.hi, mask.hi) };
}
KBX__X __m256d _mm256_blendv_pd(__m256d a, __m256d b, __m256d mask) {
    return (__m256d){ kbx__blendv64(a.lo, b.lo, mask.lo), kbx__blendv64(a.hi, b.hi, mask.hi) };
}
KBX__X __m256 _mm256_round_ps(__m256 a, int mode) { return (__m256){ kbx__round_f32(a.lo, mode), kbx__round_f32(a.hi, mode) }; }
KBX__X __m256 _mm256_floor_ps(__m256 a) { return _mm256_round_ps(a, _MM_FROUND_FLOOR); }
KBX__X __m256 _mm256_ceil_ps(__m256 a) { return _mm256_round_ps(a, _MM_FROUND_CEIL); }
KBX__X __m256d _mm256_round_pd(__m256d a, int mode) { return (__m256d){ kbx__round_f64(a.lo, mode), kbx__round_f64(a.hi, mode) }; }
KBX__X __m256 _mm256_cmp_ps(__m256 a, __m256 b, int p) { return (__m256){ kbx__cmp_f32(a.lo, b.lo, p), kbx__cmp_f32(a.hi, b.hi, p) }; }
KBX__X __m256d _mm256_cmp_pd(__m256d a, __m256d b, int p) { return (__m256d){ kbx__cmp_f64(a.lo, b.lo, p), kbx__cmp_f64(a.hi, b.hi, p) }; }
KBX__X __m128 _mm_cmp_ps(__m128 a, __m128 b, int p) { return KBX__PS(kbx__cmp_f32(KBX__V(a), KBX__V(b), p)); }
KBX__X int _mm256_movemask_ps(__m256 a) { return (int)(wasm_i32x4_bitmask(a.lo) | wasm_i32x4_bitmask(a.hi) << 4); }
KBX__X int _mm256_movemask_pd(__m256d a) { return (int)(wasm_i64x2_bitmask(a.lo) | wasm_i64x2_bitmask(a.hi) << 2); }
KBX__X int _mm256_testz_ps(__m256 a, __m256 b) {
    return (wasm_i32x4_bitmask(wasm_v128_and(a.lo, b.lo)) | wasm_i32x4_bitmask(wasm_v128_and(a.hi, b.hi))) == 0;
}
KBX__X __m256 _mm256_cvtepi32_ps(__m256i a) { return KBX__1(__m256, wasm_f32x4_convert_i32x4, a); }
KBX__X __m256i _mm256_cvtps_epi32(__m256 a) { return (__m256i){ kbx__cvt_i32(wasm_f32x4_nearest(a.lo)), kbx__cvt_i32(wasm_f32x4_nearest(a.hi)) }; }
KBX__X __m256i _mm256_cvttps_epi32(__m256 a) { return (__m256i){ kbx__cvt_i32(wasm_f32x4_trunc(a.lo)), kbx__cvt_i32(wasm_f32x4_trunc(a.hi)) }; }
KBX__X __m256d _mm256_cvtps_pd(__m128 a) {
    return (__m256d){ wasm_f64x2_promote_low_f32x4(KBX__V(a)), wasm_f64x2_promote_low_f32x4(wasm_i64x2_shuffle(KBX__V(a), KBX__V(a), 1, 0)) };
}
KBX__X __m128 _mm256_cvtpd_ps(__m256d a) {
    return KBX__PS(wasm_i64x2_shuffle(wasm_f32x4_demote_f64x2_zero(a.lo), wasm_f32x4_demote_f64x2_zero(a.hi), 0, 2));
}
KBX__X float _mm256_cvtss_f32(__m256 a) { return wasm_f32x4_extract_lane(a.lo, 0); }
KBX__X __m256i _mm256_castps_si256(__m256 a) { return (__m256i){ a.lo, a.hi }; }
KBX__X __m256 _mm256_castsi256_ps(__m256i a) { return (__m256){ a.lo, a.hi }; }
KBX__X __m256d _mm256_castps_pd(__m256 a) { return (__m256d){ a.lo, a.hi }; }
KBX__X __m256 _mm256_castpd_ps(__m256d a) { return (__m256){ a.lo, a.hi }; }
KBX__X __m256i _mm256_castpd_si256(__m256d a) { return (__m256i){ a.lo, a.hi }; }
KBX__X __m256d _mm256_castsi256_pd(__m256i a) { return (__m256d){ a.lo, a.hi }; }
KBX__X __m128 _mm256_castps256_ps128(__m256 a) { return KBX__PS(a.lo); }
KBX__X __m128d _mm256_castpd256_pd128(__m256d a) { return KBX__PD(a.lo); }
KBX__X __m128i _mm256_castsi256_si128(__m256i a) { return KBX__SI(a.lo); }
/* the upper half is undefined natively; zero here */
KBX__X __m256 _mm256_castps128_ps256(__m128 a) { return (__m256){ KBX__V(a), wasm_i32x4_splat(0) }; }
KBX__X __m256i _mm256_castsi128_si256(__m128i a) { return (__m256i){ KBX__V(a), wasm_i32x4_splat(0) }; }
KBX__X __m256 _mm256_zextps128_ps256(__m128 a) { return _mm256_castps128_ps256(a); }
KBX__X __m128 _mm256_extractf128_ps(__m256 a, int imm) { return KBX__PS(imm & 1 ? a.hi : a.lo); }
KBX__X __m128d _mm256_extractf128_pd(__m256d a, int imm) { return KBX__PD(imm & 1 ? a.hi : a.lo); }
KBX__X __m128i _mm256_extractf128_si256(__m256i a, int imm) { return KBX__SI(imm & 1 ? a.hi : a.lo); }
KBX__X __m256 _mm256_insertf128_ps(__m256 a, __m128 b, int imm) {
    if (imm & 1) a.hi = KBX__V(b);
    else a.lo = KBX__V(b);
    return a;
}
KBX__X __m256i _mm256_insertf128_si256(__m256i a, __m128i b, int imm) {
    if (imm & 1) a.hi = KBX__V(b);
    else a.lo = KBX__V(b);
    return a;
}
KBX__X __m256 _mm256_permute2f128_ps(__m256 a, __m256 b, int imm) {
    v128_t pick[4] = { a.lo, a.hi, b.lo, b.hi };
    v128_t lo = imm & 0x08 ? wasm_i32x4_splat(0) : pick[imm & 3], hi = imm & 0x80 ? wasm_i32x4_splat(0) : pick[(imm >> 4) & 3];
    return (__m256){ lo, hi };
}
KBX__X __m256d _mm256_add_pd(__m256d a, __m256d b) { return KBX__2(__m256d, wasm_f64x2_add, a, b); }
KBX__X __m256d _mm256_sub_pd(__m256d a, __m256d b) { return KBX__2(__m256d, wasm_f64x2_sub, a, b); }
KBX__X __m256d _mm256_mul_pd(__m256d a, __m256d b) { return KBX__2(__m256d, wasm_f64x2_mul, a, b); }
KBX__X __m256d _mm256_div_pd(__m256d a, __m256d b) { return KBX__2(__m256d, wasm_f64x2_div, a, b); }
KBX__X __m256d _mm256_sqrt_pd(__m256d a) { return KBX__1(__m256d, wasm_f64x2_sqrt, a); }
KBX__X __m256d _mm256_max_pd(__m256d a, __m256d b) { return KBX__2(__m256d, wasm_f64x2_pmax, b, a); }
KBX__X __m256d _mm256_min_pd(__m256d a, __m256d b) { return KBX__2(__m256d, wasm_f64x2_pmin, b, a); }
KBX__X __m256d _mm256_hadd_pd(__m256d a, __m256d b) {
    return (__m256d){ wasm_f64x2_add(wasm_i64x2_shuffle(a.lo, b.lo, 0, 2), wasm_i64x2_shuffle(a.lo, b.lo, 1, 3)),
                      wasm_f64x2_add(wasm_i64x2_shuffle(a.hi, b.hi, 0, 2), wasm_i64x2_shuffle(a.hi, b.hi, 1, 3)) };
}
KBX__X __m256i _mm256_loadu_si256(const void *p) { return (__m256i){ wasm_v128_load(p), wasm_v128_load((const char *)p + 16) }; }
KBX__X __m256i _mm256_load_si256(const void *p) { return _mm256_loadu_si256(p); }
KBX__X void _mm256_storeu_si256(void *p, __m256i a) { wasm_v128_store(p, a.lo); wasm_v128_store((char *)p + 16, a.hi); }
KBX__X void _mm256_store_si256(void *p, __m256i a) { _mm256_storeu_si256(p, a); }
KBX__X __m256i _mm256_set1_epi8(char x) { v128_t v = wasm_i8x16_splat(x); return (__m256i){ v, v }; }
KBX__X __m256i _mm256_set1_epi16(short x) { v128_t v = wasm_i16x8_splat(x); return (__m256i){ v, v }; }
KBX__X __m256i _mm256_set1_epi32(int x) { v128_t v = wasm_i32x4_splat(x); return (__m256i){ v, v }; }
KBX__X __m256i _mm256_set1_epi64x(long long x) { v128_t v = wasm_i64x2_splat(x); return (__m256i){ v, v }; }
KBX__X __m256i _mm256_setr_epi32(int e0, int e1, int e2, int e3, int e4, int e5, int e6, int e7) {
    return (__m256i){ wasm_i32x4_make(e0, e1, e2, e3), wasm_i32x4_make(e4, e5, e6, e7) };
}
KBX__X __m256i _mm256_set_epi32(int e7, int e6, int e5, int e4, int e3, int e2, int e1, int e0) {
    return _mm256_setr_epi32(e0, e1, e2, e3, e4, e5, e6, e7);
}
KBX__X __m256i _mm256_set_m128i(__m128i hi, __m128i lo) { return (__m256i){ KBX__V(lo), KBX__V(hi) }; }
KBX__X void _mm256_zeroupper(void) {}
KBX__X void _mm256_zeroall(void) {}

/* ------------------------------------------------------------------ FMA */
KBX__X __m256 _mm256_fmadd_ps(__m256 a, __m256 b, __m256 c) { return (__m256){ kbx__fma_f32(a.lo, b.lo, c.lo), kbx__fma_f32(a.hi, b.hi, c.hi) }; }
KBX__X __m256 _mm256_fmsub_ps(__m256 a, __m256 b, __m256 c) {
    return (__m256){ kbx__fma_f32(a.lo, b.lo, kbx__neg_f32(c.lo)), kbx__fma_f32(a.hi, b.hi, kbx__neg_f32(c.hi)) };
}
KBX__X __m256 _mm256_fnmadd_ps(__m256 a, __m256 b, __m256 c) {
    return (__m256){ kbx__fma_f32(kbx__neg_f32(a.lo), b.lo, c.lo), kbx__fma_f32(kbx__neg_f32(a.hi), b.hi, c.hi) };
}
KBX__X __m256d _mm256_fmadd_pd(__m256d a, __m256d b, __m256d c) { return (__m256d){ kbx__fma_f64(a.lo, b.lo, c.lo), kbx__fma_f64(a.hi, b.hi, c.hi) }; }
KBX__X __m128 _mm_fmadd_ps(__m128 a, __m128 b, __m128 c) { return KBX__PS(kbx__fma_f32(KBX__V(a), KBX__V(b), KBX__V(c))); }
KBX__X __m128 _mm_fmsub_ps(__m128 a, __m128 b, __m128 c) { return KBX__PS(kbx__fma_f32(KBX__V(a), KBX__V(b), kbx__neg_f32(KBX__V(c)))); }
KBX__X __m128 _mm_fnmadd_ps(__m128 a, __m128 b, __m128 c) { return KBX__PS(kbx__fma_f32(kbx__neg_f32(KBX__V(a)), KBX__V(b), KBX__V(c))); }
KBX__X __m128d _mm_fmadd_pd(__m128d a, __m128d b, __m128d c) { return KBX__PD(kbx__fma_f64(KBX__V(a), KBX__V(b), KBX__V(c))); }

/* ------------------------------------------------------------------ F16C (only under __F16C__, as natively) */
#if defined(__F16C__)
KBX__X __m128 _mm_cvtph_ps(__m128i a) { return KBX__PS(kbx__half_to_f32(wasm_u32x4_extend_low_u16x8(KBX__V(a)))); }
KBX__X __m256 _mm256_cvtph_ps(__m128i a) {
    return (__m256){ kbx__half_to_f32(wasm_u32x4_extend_low_u16x8(KBX__V(a))), kbx__half_to_f32(wasm_u32x4_extend_high_u16x8(KBX__V(a))) };
}

/* float → half bits (vcvtps2ph) under an _MM_FROUND_* mode (bit 2: MXCSR's, i.e. to nearest even): NaN keeps its
 * sign and the top 9 payload bits and comes back quiet; overflow gives inf or the largest finite half as the
 * direction demands; float subnormals and values below half's range round like any other. */
KBX__X uint16_t kbx__f32_to_half(float f, int mode) {
    uint32_t u;
    __builtin_memcpy(&u, &f, 4);
    const uint16_t sign = (uint16_t)(u >> 16 & 0x8000);
    const uint32_t a = u & 0x7fffffff;
    if (a > 0x7f800000) return sign | 0x7e00 | (uint16_t)(a >> 13 & 0x1ff);
    const int dir = mode & _MM_FROUND_CUR_DIRECTION ? 0 : mode & 3;
    const int e = a < 0x800000 ? -126 : (int)(a >> 23) - 127;
    const uint64_t m = (a & 0x7fffff) | (a < 0x800000 ? 0 : 0x800000);
    int shift = e >= -14 ? 13 : 13 + (-14 - e);
    if (shift > 40) shift = 40; /* m < 2^24: the quotient is 0 and the rest below half a unit either way */
    const uint64_t q = m >> shift, rest = m - (q << shift), halfway = (uint64_t)1 << (shift - 1);
    int64_t r = (int64_t)q + (e >= -14 ? (int64_t)(e + 14) << 10 : 0);
    if (dir == 0) r += rest > halfway || (rest == halfway && (q & 1));
    else if (dir == 1) r += rest != 0 && sign;
    else if (dir == 2) r += rest != 0 && !sign;
    if (r >= 0x7c00) {
        const int toInf = dir == 0 || (dir == 1 && sign) || (dir == 2 && !sign) || a == 0x7f800000;
        r = toInf ? 0x7c00 : 0x7bff;
    }
    return sign | (uint16_t)r;
}
KBX__X unsigned short _cvtss_sh(float a, int mode) { return kbx__f32_to_half(a, mode); }
KBX__X float _cvtsh_ss(unsigned short a) { return wasm_f32x4_extract_lane(kbx__half_to_f32(wasm_i32x4_splat(a)), 0); }
KBX__X __m128i _mm_cvtps_ph(__m128 a, int mode) {
    uint16_t h[8] = { 0 };
    for (int i = 0; i < 4; i++) h[i] = kbx__f32_to_half(a[i], mode);
    return KBX__SI(wasm_v128_load(h));
}
KBX__X __m128i _mm256_cvtps_ph(__m256 a, int mode) {
    float f[8];
    uint16_t h[8];
    wasm_v128_store(f, a.lo);
    wasm_v128_store(f + 4, a.hi);
    for (int i = 0; i < 8; i++) h[i] = kbx__f32_to_half(f[i], mode);
    return KBX__SI(wasm_v128_load(h));
}
#endif

/* ------------------------------------------------------------------ POPCNT */
KBX__X int _mm_popcnt_u32(unsigned int a) { return __builtin_popcount(a); }
KBX__X long long _mm_popcnt_u64(unsigned long long a) { return __builtin_popcountll(a); }

/* ------------------------------------------------------------------ AVX2 (__m256i) */
KBX__X __m256i _mm256_add_epi8(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_i8x16_add, a, b); }
KBX__X __m256i _mm256_add_epi16(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_i16x8_add, a, b); }
KBX__X __m256i _mm256_add_epi32(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_i32x4_add, a, b); }
KBX__X __m256i _mm256_add_epi64(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_i64x2_add, a, b); }
KBX__X __m256i _mm256_sub_epi8(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_i8x16_sub, a, b); }
KBX__X __m256i _mm256_sub_epi16(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_i16x8_sub, a, b); }
KBX__X __m256i _mm256_sub_epi32(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_i32x4_sub, a, b); }
KBX__X __m256i _mm256_adds_epi16(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_i16x8_add_sat, a, b); }
KBX__X __m256i _mm256_mullo_epi16(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_i16x8_mul, a, b); }
KBX__X __m256i _mm256_mullo_epi32(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_i32x4_mul, a, b); }
KBX__X __m256i _mm256_madd_epi16(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_i32x4_dot_i16x8, a, b); }
KBX__X __m256i _mm256_maddubs_epi16(__m256i a, __m256i b) { return KBX__2(__m256i, kbx__maddubs, a, b); }
KBX__X __m256i _mm256_hadd_epi32(__m256i a, __m256i b) { return KBX__2(__m256i, kbx__hadd_i32, a, b); }
KBX__X __m256i _mm256_max_epi32(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_i32x4_max, a, b); }
KBX__X __m256i _mm256_min_epi32(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_i32x4_min, a, b); }
KBX__X __m256i _mm256_abs_epi8(__m256i a) { return KBX__1(__m256i, wasm_i8x16_abs, a); }
KBX__X __m256i _mm256_abs_epi32(__m256i a) { return KBX__1(__m256i, wasm_i32x4_abs, a); }
KBX__X __m256i _mm256_sign_epi8(__m256i a, __m256i b) { return KBX__2(__m256i, kbx__sign8, a, b); }
KBX__X __m256i _mm256_and_si256(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_v128_and, a, b); }
KBX__X __m256i _mm256_or_si256(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_v128_or, a, b); }
KBX__X __m256i _mm256_xor_si256(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_v128_xor, a, b); }
KBX__X __m256i _mm256_andnot_si256(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_v128_andnot, b, a); }
KBX__X __m256i _mm256_cmpeq_epi8(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_i8x16_eq, a, b); }
KBX__X __m256i _mm256_cmpeq_epi32(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_i32x4_eq, a, b); }
KBX__X __m256i _mm256_cmpgt_epi8(__m256i a, __m256i b) { return KBX__2(__m256i, kbx__gt8, a, b); }
KBX__X __m256i _mm256_cmpgt_epi16(__m256i a, __m256i b) { return KBX__2(__m256i, kbx__gt16, a, b); }
KBX__X __m256i _mm256_cmpgt_epi32(__m256i a, __m256i b) { return KBX__2(__m256i, kbx__gt32, a, b); }
KBX__X __m256i _mm256_slli_epi16(__m256i a, int n) { return (__m256i){ kbx__slli16(a.lo, n), kbx__slli16(a.hi, n) }; }
KBX__X __m256i _mm256_srli_epi16(__m256i a, int n) { return (__m256i){ kbx__srli16(a.lo, n), kbx__srli16(a.hi, n) }; }
KBX__X __m256i _mm256_srai_epi16(__m256i a, int n) { return (__m256i){ kbx__srai16(a.lo, n), kbx__srai16(a.hi, n) }; }
KBX__X __m256i _mm256_slli_epi32(__m256i a, int n) { return (__m256i){ kbx__slli32(a.lo, n), kbx__slli32(a.hi, n) }; }
KBX__X __m256i _mm256_srli_epi32(__m256i a, int n) { return (__m256i){ kbx__srli32(a.lo, n), kbx__srli32(a.hi, n) }; }
KBX__X __m256i _mm256_srai_epi32(__m256i a, int n) { return (__m256i){ kbx__srai32(a.lo, n), kbx__srai32(a.hi, n) }; }
KBX__X __m256i _mm256_slli_epi64(__m256i a, int n) { return (__m256i){ kbx__slli64(a.lo, n), kbx__slli64(a.hi, n) }; }
KBX__X __m256i _mm256_srli_epi64(__m256i a, int n) { return (__m256i){ kbx__srli64(a.lo, n), kbx__srli64(a.hi, n) }; }
/* packs and unpacks work within each 128-bit lane, as AVX2 does */
KBX__X __m256i _mm256_packs_epi32(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_i16x8_narrow_i32x4, a, b); }
KBX__X __m256i _mm256_packs_epi16(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_i8x16_narrow_i16x8, a, b); }
KBX__X __m256i _mm256_packus_epi16(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_u8x16_narrow_i16x8, a, b); }
KBX__X __m256i _mm256_packus_epi32(__m256i a, __m256i b) { return KBX__2(__m256i, wasm_u16x8_narrow_i32x4, a, b); }
KBX__X __m256i _mm256_unpacklo_epi32(__m256i a, __m256i b) { return (__m256i){ wasm_i32x4_shuffle(a.lo, b.lo, 0, 4, 1, 5), wasm_i32x4_shuffle(a.hi, b.hi, 0, 4, 1, 5) }; }
KBX__X __m256i _mm256_unpackhi_epi32(__m256i a, __m256i b) { return (__m256i){ wasm_i32x4_shuffle(a.lo, b.lo, 2, 6, 3, 7), wasm_i32x4_shuffle(a.hi, b.hi, 2, 6, 3, 7) }; }
KBX__X __m256i _mm256_shuffle_epi8(__m256i a, __m256i b) { return KBX__2(__m256i, kbx__pshufb, a, b); }
#define _mm256_shuffle_epi32(a, imm)                                                                                     \
    ((__m256i){ wasm_i32x4_shuffle((a).lo, (a).lo, (imm) & 3, ((imm) >> 2) & 3, ((imm) >> 4) & 3, ((imm) >> 6) & 3), \
                wasm_i32x4_shuffle((a).hi, (a).hi, (imm) & 3, ((imm) >> 2) & 3, ((imm) >> 4) & 3, ((imm) >> 6) & 3) })
/* across the lanes: element i of the result is a[idx[i] & 7]. Indices known at compile time (a constant order, as
 * candidates use) are elements of a picked by constant subscripts, which clang turns into one i8x16.shuffle of a's
 * halves per result half (punpckldq, shufps or pshufb in V8; recent clang also folds the swizzles below into that,
 * clang 14 does not); else two swizzles per half */
KBX__X __m256i _mm256_permutevar8x32_epi32(__m256i a, __m256i idx) {
    typedef int32_t kbx__i32x8 __attribute__((__vector_size__(32)));
    typedef int32_t kbx__i32x4 __attribute__((__vector_size__(16)));
    const kbx__i32x4 il = (kbx__i32x4)idx.lo, ih = (kbx__i32x4)idx.hi;
    if (__builtin_constant_p(il[0]) && __builtin_constant_p(il[1]) && __builtin_constant_p(il[2]) && __builtin_constant_p(il[3]) &&
        __builtin_constant_p(ih[0]) && __builtin_constant_p(ih[1]) && __builtin_constant_p(ih[2]) && __builtin_constant_p(ih[3])) {
        const kbx__i32x8 v = __builtin_shufflevector((kbx__i32x4)a.lo, (kbx__i32x4)a.hi, 0, 1, 2, 3, 4, 5, 6, 7);
        return (__m256i){ (v128_t)(kbx__i32x4){ v[il[0] & 7], v[il[1] & 7], v[il[2] & 7], v[il[3] & 7] },
                          (v128_t)(kbx__i32x4){ v[ih[0] & 7], v[ih[1] & 7], v[ih[2] & 7], v[ih[3] & 7] } };
    }
    const v128_t seven = wasm_i32x4_splat(7), bytes = wasm_i32x4_splat(0x03020100);
    v128_t r[2], half[2] = { idx.lo, idx.hi };
    for (int k = 0; k < 2; k++) {
        /* byte offsets 4*(i & 7) + 0..3 into lo; those of elements 4-7 are 16-31, which swizzle reads as 0 from lo,
         * and the same offsets less 16 (wrapping to ≥ 0xf0 for elements 0-3) select from hi */
        v128_t off = wasm_i32x4_add(wasm_i32x4_mul(wasm_v128_and(half[k], seven), wasm_i32x4_splat(0x04040404)), bytes);
        r[k] = wasm_v128_or(wasm_i8x16_swizzle(a.lo, off), wasm_i8x16_swizzle(a.hi, wasm_i8x16_sub(off, wasm_i8x16_splat(16))));
    }
    return (__m256i){ r[0], r[1] };
}
KBX__X __m256 _mm256_permutevar8x32_ps(__m256 a, __m256i idx) {
    return _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(_mm256_castps_si256(a), idx));
}
/* widenings: results hidden (kbx__opaque), so what follows stays on the wide lanes as natively; else clang moves
 * it back onto the narrow lanes and widens the upper half by a byte shuffle */
KBX__X __m256i kbx__widened(v128_t lo, v128_t hi) { return (__m256i){ kbx__opaque(lo), kbx__opaque(hi) }; }
KBX__X __m256i _mm256_cvtepu16_epi32(__m128i a) { return kbx__widened(wasm_u32x4_extend_low_u16x8(KBX__V(a)), wasm_u32x4_extend_high_u16x8(KBX__V(a))); }
KBX__X __m256i _mm256_cvtepi16_epi32(__m128i a) { return kbx__widened(wasm_i32x4_extend_low_i16x8(KBX__V(a)), wasm_i32x4_extend_high_i16x8(KBX__V(a))); }
KBX__X __m256i _mm256_cvtepi8_epi16(__m128i a) { return kbx__widened(wasm_i16x8_extend_low_i8x16(KBX__V(a)), wasm_i16x8_extend_high_i8x16(KBX__V(a))); }
KBX__X __m256i _mm256_cvtepu8_epi16(__m128i a) { return kbx__widened(wasm_u16x8_extend_low_u8x16(KBX__V(a)), wasm_u16x8_extend_high_u8x16(KBX__V(a))); }
KBX__X __m256i _mm256_cvtepi8_epi32(__m128i a) {
    v128_t w = wasm_i16x8_extend_low_i8x16(KBX__V(a));
    return kbx__widened(wasm_i32x4_extend_low_i16x8(w), wasm_i32x4_extend_high_i16x8(w));
}
KBX__X int _mm256_movemask_epi8(__m256i a) { return (int)(wasm_i8x16_bitmask(a.lo) | (uint32_t)wasm_i8x16_bitmask(a.hi) << 16); }
KBX__X __m128i _mm256_extracti128_si256(__m256i a, int imm) { return KBX__SI(imm & 1 ? a.hi : a.lo); }
KBX__X __m256i _mm256_inserti128_si256(__m256i a, __m128i b, int imm) { return _mm256_insertf128_si256(a, b, imm); }
KBX__X __m256i _mm256_permute2x128_si256(__m256i a, __m256i b, int imm) {
    return _mm256_castps_si256(_mm256_permute2f128_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), imm));
}
KBX__X __m128 _mm_maskload_ps(const float *p, __m128i mask) {
    int32_t m[4], r[4];
    wasm_v128_store(m, KBX__V(mask));
    for (int i = 0; i < 4; i++) r[i] = m[i] < 0 ? ((const int32_t *)p)[i] : 0;
    return KBX__PS(wasm_v128_load(r));
}

#undef KBX__X
#undef KBX__V
#undef KBX__PS
#undef KBX__PD
#undef KBX__SI
#undef KBX__2
#undef KBX__1
#endif
