/* kb_simd.h: a small portable f32 vector layer for kbench kernels (header-only, static inline).
 *
 * One code path per target, chosen at compile time:
 *   __AVX2__ && __FMA__              8 lanes (__m256), real FMA
 *   __ARM_NEON && __aarch64__        4 lanes (float32x4_t), real FMA (A64 only: needs vdivq/vsqrtq/vrndnq)
 *   __wasm_simd128__                 4 lanes (v128_t), kb_fma is mul + add (no FMA in baseline WASM SIMD)
 *   __wasm_simd128__ && KB_SCREEN_LANES == 8
 *                                    8 lanes as two v128_t (lo = lanes 0-3, hi = 4-7): the screen's model of
 *                                    AVX2, so loop trip counts, tails and register pressure are the native ones
 * KB_SCREEN_LANES (4 or 8) and KB_SCREEN_FMA (0 or 1) are set by kbench's screen from the target it predicts
 * (avx2: 8 + FMA, neon: 4 + FMA, wasm: 4 without); they only affect the WASM paths. With KB_SCREEN_FMA and
 * relaxed SIMD (-mrelaxed-simd) kb_fma is f32x4.relaxed_madd, which V8's optimizing compiler emits as one
 * vfmadd on x86 CPUs with FMA (one rounding, as AVX2 and NEON); an engine may also compute it as mul + add.
 *   otherwise                        1 lane (plain float). Chosen over a 4-float struct because the compiler
 *                                    can keep a float in a register and auto-vectorize the caller's loop, and
 *                                    every `KB_LANES`-stepped loop stays correct with no tail special case.
 * KB_SIMD_NAME names the path ("avx2", "neon", "wasm8", "wasm", "scalar").
 *
 * API: kb_f32v, KB_LANES, KB_ALIGN (bytes kb_load/kb_store need), kb_load/kb_store (aligned to KB_ALIGN),
 * kb_loadu/kb_storeu, kb_splat, kb_zero, kb_add, kb_sub, kb_mul, kb_div, kb_fma(a,b,c) = a*b+c, kb_max, kb_min,
 * kb_abs, kb_sqrt, kb_round (to nearest, ties to even), kb_hsum, kb_hmax, kb_exp, kb_tanh.
 * For a candidate's own WASM code (under `#elif defined(__wasm_simd128__)`), written for one v128_t of 4 lanes
 * and correct on both WASM paths: KB_V128_MAP(f, a) and KB_V128_MAP2(f, a, b) apply a v128_t function to each
 * group of 4 lanes of kb_f32v values; KB_V128_LOAD(f, p) builds a kb_f32v from f(p) (lanes 0-3) and, with 8
 * lanes, f(p + 4) (lanes 4-7), for p pointing at per-lane elements of any type.
 *
 * kb_max(a, b) is `a > b ? a : b` and kb_min(a, b) is `a < b ? a : b`: if either is NaN the result is b
 * (NEON returns NaN instead). kb_hsum adds lanes in a tree, so its rounding differs from a sequential sum:
 * with 8 lanes (AVX2 and the 8-lane WASM path alike) it is ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)), with 4
 * (NEON, 4-lane WASM) (l0+l2)+(l1+l3). So the 8-lane WASM path gives the AVX2 path's results bit for bit
 * wherever both round kb_fma once, and its results differ from the 4-lane path's only by the order in which a
 * caller's per-lane partial sums are added (and by FMA's single rounding when one path has it); each lane's
 * own arithmetic (kb_exp, kb_tanh, kb_div, ...) is the same.
 *
 * kb_exp: Cody-Waite range reduction x = n*ln2 + r, |r| <= ln2/2 (W. J. Cody and W. Waite, "Software Manual
 * for the Elementary Functions", 1980; the two-constant split of ln2 with a short high part so n*ln2_hi is
 * exact is the one Cephes expf uses, S. L. Moshier, netlib.org/cephes), then the degree-7 Taylor polynomial of
 * e^r in Horner form (truncation error r^8/8! < 5.2e-9 relative, ~0.1 ULP), then a scale by 2^n done as two
 * multiplies by 2^(n/2) and 2^(n-n/2) so results near overflow and in the subnormal range are rounded once
 * (the idea of splitting the scale is described in SLEEF's papers: N. Shibata and F. Petrogalli, "SLEEF: A
 * Portable Vectorized Library of C Standard Mathematical Functions", IEEE TPDS 2020). n comes from the
 * 1.5*2^23 "magic number" rounding trick, so no float->int conversion instruction is needed.
 * Input is clamped to [-104, 89]: below -103.98 the result rounds to +0 (so -inf and huge negatives give 0,
 * never NaN); above 88.73 it is +inf. NaN in gives NaN out.
 * Measured max error vs exp() in double, in ULP of the correctly rounded float (subnormal results in units of
 * 2^-149), over every float in [-104, 89] (2.24e9 inputs): AVX2+FMA 0.94 ULP; scalar (gcc -O2, x86-64 SSE2)
 * 1.22 ULP; NEON (aarch64 gcc -O2 under qemu, every 7th float) 0.92 ULP; WASM (clang 22 -O3 -msimd128,
 * Node 20, every 101st float) 1.16 ULP. For comparison, a correctly rounded expf is within 0.5 ULP.
 * Results above FLT_MAX are +inf on every path; -inf, -1e30 and -200 give +0; NaN gives NaN.
 *
 * kb_tanh: tanh(x) = sign(x) * e/(e + 2) with e = expm1(2|x|); expm1 is a degree-8 Taylor polynomial for
 * 2|x| < ln2/2 (so small arguments keep full relative accuracy) and kb_exp(2|x|) - 1 above; |x| is clamped
 * to 10, where tanh rounds to 1. Measured max error over [-12, 12] (every 13th float; WASM every 101st):
 * AVX2 3.2 ULP, scalar 3.3 ULP, NEON 2.9 ULP (every 997th), WASM 3.3 ULP; worst near |x| ~ 0.01-0.2.
 *
 * Written for kbench from the formulas above; no code is taken from Cephes, SLEEF or ggml.
 */
#ifndef KB_SIMD_H
#define KB_SIMD_H

#include <math.h>
#include <stdint.h>

#if defined(KB_SCREEN_LANES) && KB_SCREEN_LANES != 4 && KB_SCREEN_LANES != 8
#error "KB_SCREEN_LANES must be 4 or 8"
#endif

#if defined(__AVX2__) && defined(__FMA__)
/* ------------------------------------------------------------------ AVX2 + FMA, 8 lanes */
#include <immintrin.h>
#define KB_SIMD_NAME "avx2"
#define KB_LANES 8
#define KB_ALIGN 32
typedef __m256 kb_f32v;
typedef __m256i kb__i32v;

static inline kb_f32v kb_load(const float *p) { return _mm256_load_ps(p); }
static inline kb_f32v kb_loadu(const float *p) { return _mm256_loadu_ps(p); }
static inline void kb_store(float *p, kb_f32v v) { _mm256_store_ps(p, v); }
static inline void kb_storeu(float *p, kb_f32v v) { _mm256_storeu_ps(p, v); }
static inline kb_f32v kb_splat(float x) { return _mm256_set1_ps(x); }
static inline kb_f32v kb_zero(void) { return _mm256_setzero_ps(); }
static inline kb_f32v kb_add(kb_f32v a, kb_f32v b) { return _mm256_add_ps(a, b); }
static inline kb_f32v kb_sub(kb_f32v a, kb_f32v b) { return _mm256_sub_ps(a, b); }
static inline kb_f32v kb_mul(kb_f32v a, kb_f32v b) { return _mm256_mul_ps(a, b); }
static inline kb_f32v kb_div(kb_f32v a, kb_f32v b) { return _mm256_div_ps(a, b); }
static inline kb_f32v kb_fma(kb_f32v a, kb_f32v b, kb_f32v c) { return _mm256_fmadd_ps(a, b, c); }
static inline kb_f32v kb_max(kb_f32v a, kb_f32v b) { return _mm256_max_ps(a, b); }
static inline kb_f32v kb_min(kb_f32v a, kb_f32v b) { return _mm256_min_ps(a, b); }
static inline kb_f32v kb_abs(kb_f32v a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
static inline kb_f32v kb_sqrt(kb_f32v a) { return _mm256_sqrt_ps(a); }
static inline kb_f32v kb_round(kb_f32v a) {
    return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
static inline float kb__hreduce4_add(__m128 s) {
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
static inline float kb_hsum(kb_f32v v) {
    return kb__hreduce4_add(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)));
}
static inline float kb_hmax(kb_f32v v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
/* bit-level helpers for kb_exp / kb_tanh */
static inline kb__i32v kb__bits(kb_f32v a) { return _mm256_castps_si256(a); }
static inline kb_f32v kb__from_bits(kb__i32v a) { return _mm256_castsi256_ps(a); }
static inline kb__i32v kb__isplat(int32_t x) { return _mm256_set1_epi32(x); }
static inline kb__i32v kb__iadd(kb__i32v a, kb__i32v b) { return _mm256_add_epi32(a, b); }
static inline kb__i32v kb__isub(kb__i32v a, kb__i32v b) { return _mm256_sub_epi32(a, b); }
static inline kb__i32v kb__ihalf(kb__i32v a) { return _mm256_srai_epi32(a, 1); }
static inline kb__i32v kb__ishl23(kb__i32v a) { return _mm256_slli_epi32(a, 23); }
static inline kb_f32v kb__or(kb_f32v a, kb_f32v b) { return _mm256_or_ps(a, b); }
static inline kb_f32v kb__and(kb_f32v a, kb_f32v b) { return _mm256_and_ps(a, b); }
/* lanes where a < b take x, the others y */
static inline kb_f32v kb__select_lt(kb_f32v a, kb_f32v b, kb_f32v x, kb_f32v y) {
    return _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, b, _CMP_LT_OQ));
}

#elif defined(__ARM_NEON) && defined(__aarch64__)
/* ------------------------------------------------------------------ NEON (A64), 4 lanes */
#include <arm_neon.h>
#define KB_SIMD_NAME "neon"
#define KB_LANES 4
#define KB_ALIGN 16
typedef float32x4_t kb_f32v;
typedef int32x4_t kb__i32v;

static inline kb_f32v kb_load(const float *p) { return vld1q_f32(p); }
static inline kb_f32v kb_loadu(const float *p) { return vld1q_f32(p); }
static inline void kb_store(float *p, kb_f32v v) { vst1q_f32(p, v); }
static inline void kb_storeu(float *p, kb_f32v v) { vst1q_f32(p, v); }
static inline kb_f32v kb_splat(float x) { return vdupq_n_f32(x); }
static inline kb_f32v kb_zero(void) { return vdupq_n_f32(0.0f); }
static inline kb_f32v kb_add(kb_f32v a, kb_f32v b) { return vaddq_f32(a, b); }
static inline kb_f32v kb_sub(kb_f32v a, kb_f32v b) { return vsubq_f32(a, b); }
static inline kb_f32v kb_mul(kb_f32v a, kb_f32v b) { return vmulq_f32(a, b); }
static inline kb_f32v kb_div(kb_f32v a, kb_f32v b) { return vdivq_f32(a, b); }
static inline kb_f32v kb_fma(kb_f32v a, kb_f32v b, kb_f32v c) { return vfmaq_f32(c, a, b); }
static inline kb_f32v kb_max(kb_f32v a, kb_f32v b) { return vmaxq_f32(a, b); }
static inline kb_f32v kb_min(kb_f32v a, kb_f32v b) { return vminq_f32(a, b); }
static inline kb_f32v kb_abs(kb_f32v a) { return vabsq_f32(a); }
static inline kb_f32v kb_sqrt(kb_f32v a) { return vsqrtq_f32(a); }
static inline kb_f32v kb_round(kb_f32v a) { return vrndnq_f32(a); }
static inline float kb_hsum(kb_f32v v) { return vaddvq_f32(v); }
static inline float kb_hmax(kb_f32v v) { return vmaxvq_f32(v); }
static inline kb__i32v kb__bits(kb_f32v a) { return vreinterpretq_s32_f32(a); }
static inline kb_f32v kb__from_bits(kb__i32v a) { return vreinterpretq_f32_s32(a); }
static inline kb__i32v kb__isplat(int32_t x) { return vdupq_n_s32(x); }
static inline kb__i32v kb__iadd(kb__i32v a, kb__i32v b) { return vaddq_s32(a, b); }
static inline kb__i32v kb__isub(kb__i32v a, kb__i32v b) { return vsubq_s32(a, b); }
static inline kb__i32v kb__ihalf(kb__i32v a) { return vshrq_n_s32(a, 1); }
static inline kb__i32v kb__ishl23(kb__i32v a) { return vshlq_n_s32(a, 23); }
static inline kb_f32v kb__or(kb_f32v a, kb_f32v b) {
    return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)));
}
static inline kb_f32v kb__and(kb_f32v a, kb_f32v b) {
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)));
}
static inline kb_f32v kb__select_lt(kb_f32v a, kb_f32v b, kb_f32v x, kb_f32v y) {
    return vbslq_f32(vcltq_f32(a, b), x, y);
}

#elif defined(__wasm_simd128__) && defined(KB_SCREEN_LANES) && KB_SCREEN_LANES == 8
/* ------------------------------------------------------------------ WASM SIMD128 x 2, 8 lanes (AVX2 model) */
#include <wasm_simd128.h>
#define KB_SIMD_NAME "wasm8"
#define KB_LANES 8
#define KB_ALIGN 32
typedef struct { v128_t lo, hi; } kb_f32v;
typedef kb_f32v kb__i32v;

/* one v128 operation applied to both halves */
#define KB__X2(op, a, b) ((kb_f32v){ op((a).lo, (b).lo), op((a).hi, (b).hi) })
static inline kb_f32v kb__x2(v128_t v) { kb_f32v r = { v, v }; return r; }
#define KB_V128_MAP(f, a) ((kb_f32v){ f((a).lo), f((a).hi) })
#define KB_V128_MAP2(f, a, b) ((kb_f32v){ f((a).lo, (b).lo), f((a).hi, (b).hi) })
#define KB_V128_LOAD(f, p) ((kb_f32v){ f(p), f((p) + 4) })
static inline kb_f32v kb_load(const float *p) { kb_f32v r = { wasm_v128_load(p), wasm_v128_load(p + 4) }; return r; }
static inline kb_f32v kb_loadu(const float *p) { return kb_load(p); }
static inline void kb_store(float *p, kb_f32v v) { wasm_v128_store(p, v.lo); wasm_v128_store(p + 4, v.hi); }
static inline void kb_storeu(float *p, kb_f32v v) { kb_store(p, v); }
static inline kb_f32v kb_splat(float x) { return kb__x2(wasm_f32x4_splat(x)); }
static inline kb_f32v kb_zero(void) { return kb__x2(wasm_f32x4_splat(0.0f)); }
static inline kb_f32v kb_add(kb_f32v a, kb_f32v b) { return KB__X2(wasm_f32x4_add, a, b); }
static inline kb_f32v kb_sub(kb_f32v a, kb_f32v b) { return KB__X2(wasm_f32x4_sub, a, b); }
static inline kb_f32v kb_mul(kb_f32v a, kb_f32v b) { return KB__X2(wasm_f32x4_mul, a, b); }
static inline kb_f32v kb_div(kb_f32v a, kb_f32v b) { return KB__X2(wasm_f32x4_div, a, b); }
#if defined(KB_SCREEN_FMA) && KB_SCREEN_FMA && defined(__wasm_relaxed_simd__)
static inline kb_f32v kb_fma(kb_f32v a, kb_f32v b, kb_f32v c) {
    kb_f32v r = { wasm_f32x4_relaxed_madd(a.lo, b.lo, c.lo), wasm_f32x4_relaxed_madd(a.hi, b.hi, c.hi) };
    return r;
}
#else
static inline kb_f32v kb_fma(kb_f32v a, kb_f32v b, kb_f32v c) { return kb_add(kb_mul(a, b), c); }
#endif
static inline kb_f32v kb_max(kb_f32v a, kb_f32v b) { return KB__X2(wasm_f32x4_pmax, b, a); }
static inline kb_f32v kb_min(kb_f32v a, kb_f32v b) { return KB__X2(wasm_f32x4_pmin, b, a); }
static inline kb_f32v kb_abs(kb_f32v a) { kb_f32v r = { wasm_f32x4_abs(a.lo), wasm_f32x4_abs(a.hi) }; return r; }
static inline kb_f32v kb_sqrt(kb_f32v a) { kb_f32v r = { wasm_f32x4_sqrt(a.lo), wasm_f32x4_sqrt(a.hi) }; return r; }
static inline kb_f32v kb_round(kb_f32v a) { kb_f32v r = { wasm_f32x4_nearest(a.lo), wasm_f32x4_nearest(a.hi) }; return r; }
/* halves first, then the 4-lane tree: the AVX2 path's order */
static inline float kb_hsum(kb_f32v v) {
    v128_t s = wasm_f32x4_add(v.lo, v.hi);
    s = wasm_f32x4_add(s, wasm_i32x4_shuffle(s, s, 2, 3, 0, 1));
    s = wasm_f32x4_add(s, wasm_i32x4_shuffle(s, s, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(s, 0);
}
static inline float kb_hmax(kb_f32v v) {
    v128_t s = wasm_f32x4_pmax(v.hi, v.lo);
    s = wasm_f32x4_pmax(wasm_i32x4_shuffle(s, s, 2, 3, 0, 1), s);
    s = wasm_f32x4_pmax(wasm_i32x4_shuffle(s, s, 1, 0, 3, 2), s);
    return wasm_f32x4_extract_lane(s, 0);
}
static inline kb__i32v kb__bits(kb_f32v a) { return a; }
static inline kb_f32v kb__from_bits(kb__i32v a) { return a; }
static inline kb__i32v kb__isplat(int32_t x) { return kb__x2(wasm_i32x4_splat(x)); }
static inline kb__i32v kb__iadd(kb__i32v a, kb__i32v b) { return KB__X2(wasm_i32x4_add, a, b); }
static inline kb__i32v kb__isub(kb__i32v a, kb__i32v b) { return KB__X2(wasm_i32x4_sub, a, b); }
static inline kb__i32v kb__ihalf(kb__i32v a) { kb__i32v r = { wasm_i32x4_shr(a.lo, 1), wasm_i32x4_shr(a.hi, 1) }; return r; }
static inline kb__i32v kb__ishl23(kb__i32v a) { kb__i32v r = { wasm_i32x4_shl(a.lo, 23), wasm_i32x4_shl(a.hi, 23) }; return r; }
static inline kb_f32v kb__or(kb_f32v a, kb_f32v b) { return KB__X2(wasm_v128_or, a, b); }
static inline kb_f32v kb__and(kb_f32v a, kb_f32v b) { return KB__X2(wasm_v128_and, a, b); }
static inline kb_f32v kb__select_lt(kb_f32v a, kb_f32v b, kb_f32v x, kb_f32v y) {
    kb_f32v r = { wasm_v128_bitselect(x.lo, y.lo, wasm_f32x4_lt(a.lo, b.lo)), wasm_v128_bitselect(x.hi, y.hi, wasm_f32x4_lt(a.hi, b.hi)) };
    return r;
}

#elif defined(__wasm_simd128__)
/* ------------------------------------------------------------------ WASM SIMD128, 4 lanes */
#include <wasm_simd128.h>
#define KB_SIMD_NAME "wasm"
#define KB_LANES 4
#define KB_ALIGN 16
typedef v128_t kb_f32v;
typedef v128_t kb__i32v;
#define KB_V128_MAP(f, a) f(a)
#define KB_V128_MAP2(f, a, b) f(a, b)
#define KB_V128_LOAD(f, p) f(p)

static inline kb_f32v kb_load(const float *p) { return wasm_v128_load(p); }
static inline kb_f32v kb_loadu(const float *p) { return wasm_v128_load(p); }
static inline void kb_store(float *p, kb_f32v v) { wasm_v128_store(p, v); }
static inline void kb_storeu(float *p, kb_f32v v) { wasm_v128_store(p, v); }
static inline kb_f32v kb_splat(float x) { return wasm_f32x4_splat(x); }
static inline kb_f32v kb_zero(void) { return wasm_f32x4_splat(0.0f); }
static inline kb_f32v kb_add(kb_f32v a, kb_f32v b) { return wasm_f32x4_add(a, b); }
static inline kb_f32v kb_sub(kb_f32v a, kb_f32v b) { return wasm_f32x4_sub(a, b); }
static inline kb_f32v kb_mul(kb_f32v a, kb_f32v b) { return wasm_f32x4_mul(a, b); }
static inline kb_f32v kb_div(kb_f32v a, kb_f32v b) { return wasm_f32x4_div(a, b); }
#if defined(KB_SCREEN_FMA) && KB_SCREEN_FMA && defined(__wasm_relaxed_simd__)
static inline kb_f32v kb_fma(kb_f32v a, kb_f32v b, kb_f32v c) { return wasm_f32x4_relaxed_madd(a, b, c); }
#else
static inline kb_f32v kb_fma(kb_f32v a, kb_f32v b, kb_f32v c) { return wasm_f32x4_add(wasm_f32x4_mul(a, b), c); }
#endif
/* pmax/pmin are the single-instruction forms (maxps/minps on x86 engines); pmax(b, a) = b < a ? a : b */
static inline kb_f32v kb_max(kb_f32v a, kb_f32v b) { return wasm_f32x4_pmax(b, a); }
static inline kb_f32v kb_min(kb_f32v a, kb_f32v b) { return wasm_f32x4_pmin(b, a); }
static inline kb_f32v kb_abs(kb_f32v a) { return wasm_f32x4_abs(a); }
static inline kb_f32v kb_sqrt(kb_f32v a) { return wasm_f32x4_sqrt(a); }
static inline kb_f32v kb_round(kb_f32v a) { return wasm_f32x4_nearest(a); }
static inline float kb_hsum(kb_f32v v) {
    v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(v, 0);
}
static inline float kb_hmax(kb_f32v v) {
    v = kb_max(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    v = kb_max(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(v, 0);
}
static inline kb__i32v kb__bits(kb_f32v a) { return a; }
static inline kb_f32v kb__from_bits(kb__i32v a) { return a; }
static inline kb__i32v kb__isplat(int32_t x) { return wasm_i32x4_splat(x); }
static inline kb__i32v kb__iadd(kb__i32v a, kb__i32v b) { return wasm_i32x4_add(a, b); }
static inline kb__i32v kb__isub(kb__i32v a, kb__i32v b) { return wasm_i32x4_sub(a, b); }
static inline kb__i32v kb__ihalf(kb__i32v a) { return wasm_i32x4_shr(a, 1); }
static inline kb__i32v kb__ishl23(kb__i32v a) { return wasm_i32x4_shl(a, 23); }
static inline kb_f32v kb__or(kb_f32v a, kb_f32v b) { return wasm_v128_or(a, b); }
static inline kb_f32v kb__and(kb_f32v a, kb_f32v b) { return wasm_v128_and(a, b); }
static inline kb_f32v kb__select_lt(kb_f32v a, kb_f32v b, kb_f32v x, kb_f32v y) {
    return wasm_v128_bitselect(x, y, wasm_f32x4_lt(a, b));
}

#else
/* ------------------------------------------------------------------ scalar, 1 lane */
#define KB_SIMD_NAME "scalar"
#define KB_LANES 1
#define KB_ALIGN 4
typedef float kb_f32v;
typedef int32_t kb__i32v;

static inline kb_f32v kb_load(const float *p) { return *p; }
static inline kb_f32v kb_loadu(const float *p) { return *p; }
static inline void kb_store(float *p, kb_f32v v) { *p = v; }
static inline void kb_storeu(float *p, kb_f32v v) { *p = v; }
static inline kb_f32v kb_splat(float x) { return x; }
static inline kb_f32v kb_zero(void) { return 0.0f; }
static inline kb_f32v kb_add(kb_f32v a, kb_f32v b) { return a + b; }
static inline kb_f32v kb_sub(kb_f32v a, kb_f32v b) { return a - b; }
static inline kb_f32v kb_mul(kb_f32v a, kb_f32v b) { return a * b; }
static inline kb_f32v kb_div(kb_f32v a, kb_f32v b) { return a / b; }
/* not fmaf(): without hardware FMA that is a slow library call */
static inline kb_f32v kb_fma(kb_f32v a, kb_f32v b, kb_f32v c) { return a * b + c; }
static inline kb_f32v kb_max(kb_f32v a, kb_f32v b) { return a > b ? a : b; }
static inline kb_f32v kb_min(kb_f32v a, kb_f32v b) { return a < b ? a : b; }
static inline kb_f32v kb_abs(kb_f32v a) { return fabsf(a); }
static inline kb_f32v kb_sqrt(kb_f32v a) { return sqrtf(a); }
/* magic-number rounding (ties to even in the default rounding mode) instead of rintf(), which may be a libm call */
static inline kb_f32v kb_round(kb_f32v a) {
    const float magic = 8388608.0f; /* 2^23: floats at or above it are integers */
    float r = fabsf(a) < magic ? (fabsf(a) + magic) - magic : fabsf(a);
    return a < 0 ? -r : r;
}
static inline float kb_hsum(kb_f32v v) { return v; }
static inline float kb_hmax(kb_f32v v) { return v; }
typedef union { float f; int32_t i; } kb__pun;
static inline kb__i32v kb__bits(kb_f32v a) { kb__pun u; u.f = a; return u.i; }
static inline kb_f32v kb__from_bits(kb__i32v a) { kb__pun u; u.i = a; return u.f; }
static inline kb__i32v kb__isplat(int32_t x) { return x; }
static inline kb__i32v kb__iadd(kb__i32v a, kb__i32v b) { return a + b; }
static inline kb__i32v kb__isub(kb__i32v a, kb__i32v b) { return a - b; }
/* any split n = h + (n - h) with both parts in [-75, 64] works; division avoids a signed right shift */
static inline kb__i32v kb__ihalf(kb__i32v a) { return a / 2; }
static inline kb__i32v kb__ishl23(kb__i32v a) { return (int32_t)((uint32_t)a << 23); }
static inline kb_f32v kb__or(kb_f32v a, kb_f32v b) { return kb__from_bits(kb__bits(a) | kb__bits(b)); }
static inline kb_f32v kb__and(kb_f32v a, kb_f32v b) { return kb__from_bits(kb__bits(a) & kb__bits(b)); }
static inline kb_f32v kb__select_lt(kb_f32v a, kb_f32v b, kb_f32v x, kb_f32v y) { return a < b ? x : y; }
#endif

/* ------------------------------------------------------------------ shared: exp, tanh */

/* 2^n for integer n in [-150, 128] given as the low bits of `t` (see kb_exp), applied to p in two steps */
static inline kb_f32v kb__scale_pow2(kb_f32v p, kb__i32v n) {
    kb__i32v h = kb__ihalf(n);
    kb__i32v bias = kb__isplat(127);
    kb_f32v s1 = kb__from_bits(kb__ishl23(kb__iadd(h, bias)));
    kb_f32v s2 = kb__from_bits(kb__ishl23(kb__iadd(kb__isub(n, h), bias)));
    return kb_mul(kb_mul(p, s1), s2);
}

static inline kb_f32v kb_exp(kb_f32v x) {
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer kept in the low mantissa bits */
    /* max(lo, x) and min(hi, x) return x when x is NaN on every path (see kb_max) */
    x = kb_min(kb_splat(89.0f), kb_max(kb_splat(-104.0f), x));
    kb_f32v t = kb_fma(x, kb_splat(1.44269504088896341f), kb_splat(magic));
    kb_f32v n = kb_sub(t, kb_splat(magic));
    kb__i32v ni = kb__isub(kb__bits(t), kb__bits(kb_splat(magic)));
    /* ln2 = 0.693359375 - 2.12194440e-4: the high part has 9 significant bits, so n*hi is exact for |n| < 2^15 */
    kb_f32v r = kb_fma(n, kb_splat(-0.693359375f), x);
    r = kb_fma(n, kb_splat(2.12194440054690583e-4f), r);
    /* e^r = sum r^k/k!, k = 0..7 */
    kb_f32v p = kb_splat(1.0f / 5040.0f);
    p = kb_fma(p, r, kb_splat(1.0f / 720.0f));
    p = kb_fma(p, r, kb_splat(1.0f / 120.0f));
    p = kb_fma(p, r, kb_splat(1.0f / 24.0f));
    p = kb_fma(p, r, kb_splat(1.0f / 6.0f));
    p = kb_fma(p, r, kb_splat(0.5f));
    p = kb_fma(p, r, kb_splat(1.0f));
    p = kb_fma(p, r, kb_splat(1.0f));
    return kb__scale_pow2(p, ni);
}

static inline kb_f32v kb_tanh(kb_f32v x) {
    kb_f32v sign = kb__and(x, kb_splat(-0.0f));
    kb_f32v u = kb_mul(kb_splat(2.0f), kb_min(kb_splat(10.0f), kb_abs(x)));
    /* expm1(u) for small u: sum u^k/k!, k = 1..8, keeps the relative accuracy e^u - 1 would lose */
    kb_f32v q = kb_splat(1.0f / 40320.0f);
    q = kb_fma(q, u, kb_splat(1.0f / 5040.0f));
    q = kb_fma(q, u, kb_splat(1.0f / 720.0f));
    q = kb_fma(q, u, kb_splat(1.0f / 120.0f));
    q = kb_fma(q, u, kb_splat(1.0f / 24.0f));
    q = kb_fma(q, u, kb_splat(1.0f / 6.0f));
    q = kb_fma(q, u, kb_splat(0.5f));
    q = kb_fma(q, u, kb_splat(1.0f));
    q = kb_mul(q, u);
    kb_f32v big = kb_sub(kb_exp(u), kb_splat(1.0f));
    kb_f32v e = kb__select_lt(u, kb_splat(0.34657359f), q, big);
    kb_f32v t = kb_div(e, kb_add(e, kb_splat(2.0f)));
    return kb__or(t, sign);
}

#endif /* KB_SIMD_H */
