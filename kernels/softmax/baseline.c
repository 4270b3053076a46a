/* softmax baseline: the way ggml's CPU soft_max does a row today (ops.cpp, soft_max_f32), rewritten here from the
 * description of the algorithm: six passes over the row, using y as the workspace.
 *   1 copy x into y          2 y *= scale (vectorized)    3 y += slope*mask (scalar)
 *   4 max (scalar)           5 y = exp(y - max) with ggml's vectorized exp on whole vectors, each vector's lanes
 *                              added into a double, the n % lanes tail with expf, as ggml_vec_soft_max_f32 does
 *   6 y *= 1/sum (vectorized)
 * Rows are interleaved across threads (row = ith, ith + nth, ...), as ggml does.
 * A fully masked row (max = -inf) gives all zeros (see reference.c).
 *
 * exp_like_ggml follows the algorithm of ggml_v_expf (ggml-cpu/vec.h, itself adapted from Arm's
 * optimized-routines vector expf), described in NOTES.md "Baseline": written here from that description with
 * kb_simd.h vectors (8 lanes with FMA on AVX2, 4 on NEON, 4 without FMA on WASM SIMD). */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "kb_simd.h"

#if KB_LANES > 1
/* lane masks (all ones where true) and the one test that keeps the common case branch-free */
#if defined(__AVX2__)
static inline kb_f32v lanes_gt(kb_f32v a, kb_f32v b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
static inline int any_lane(kb_f32v m) { return _mm256_movemask_ps(m) != 0; }
static inline kb_f32v pick(kb_f32v m, kb_f32v x, kb_f32v y) { return _mm256_blendv_ps(y, x, m); }
#elif defined(__ARM_NEON)
static inline kb_f32v lanes_gt(kb_f32v a, kb_f32v b) { return vreinterpretq_f32_u32(vcgtq_f32(a, b)); }
static inline int any_lane(kb_f32v m) { return vmaxvq_u32(vreinterpretq_u32_f32(m)) != 0; }
static inline kb_f32v pick(kb_f32v m, kb_f32v x, kb_f32v y) { return vbslq_f32(vreinterpretq_u32_f32(m), x, y); }
#else /* WASM SIMD */
static inline kb_f32v lanes_gt(kb_f32v a, kb_f32v b) { return wasm_f32x4_gt(a, b); }
static inline int any_lane(kb_f32v m) { return wasm_v128_any_true(m); }
static inline kb_f32v pick(kb_f32v m, kb_f32v x, kb_f32v y) { return wasm_v128_bitselect(x, y, m); }
#endif

/* e^x: x = n*ln2 + r, e^r - 1 by a degree-5 polynomial q(r), result 2^n + 2^n*q with 2^n built from n's bits.
 * Only when some lane has |n| > 126 (2^n not a normal float) is 2^n split into two factors. */
static inline kb_f32v exp_like_ggml(kb_f32v x) {
    const kb_f32v shift = kb_splat(0x1.8p23f); /* adding 1.5*2^23 rounds to an integer held in the low bits */
    kb_f32v t = kb_fma(x, kb_splat(0x1.715476p+0f), shift); /* x*log2(e) + shift */
    kb_f32v n = kb_sub(t, shift);
    kb_f32v r = kb_fma(n, kb_splat(-0x1.62e4p-1f), x); /* ln2 in two parts: n*hi is exact */
    r = kb_fma(n, kb_splat(-0x1.7f7d1cp-20f), r);
    kb__i32v nbits = kb__ishl23(kb__bits(t)); /* n in the exponent field; the shift's own bits fall off */
    kb_f32v pow2n = kb__from_bits(kb__iadd(nbits, kb__bits(kb_splat(1.0f))));
    kb_f32v r2 = kb_mul(r, r);
    kb_f32v odd = kb_fma(kb_splat(0x1.0e4020p-7f), r, kb_splat(0x1.573e2ep-5f));  /* c4 + c5 r */
    kb_f32v even = kb_fma(kb_splat(0x1.555e66p-3f), r, kb_splat(0x1.fffdb6p-2f)); /* c2 + c3 r */
    kb_f32v q = kb_fma(kb_fma(odd, r2, even), r2, kb_mul(kb_splat(0x1.ffffecp-1f), r));
    kb_f32v abs_n = kb_abs(n);
    kb_f32v big = lanes_gt(abs_n, kb_splat(126.0f));
    if (!any_lane(big)) return kb_fma(pow2n, q, pow2n);
    /* 2^n = s1 * s2: s1 = 2^127 for n > 0, 2^-125 for n < 0, s2 the rest (a normal float for |n| <= 192) */
    kb__i32v neg = kb__bits(kb__and(lanes_gt(kb_zero(), n), kb__from_bits(kb__isplat(-0x7e000000))));
    kb_f32v s1 = kb__from_bits(kb__iadd(neg, kb__isplat(0x7f000000)));
    kb_f32v s2 = kb__from_bits(kb__isub(nbits, neg));
    kb_f32v split = kb_mul(kb_fma(s2, q, s2), s1);
    /* |n| > 192: the result is past overflow (inf) or underflow (0), which s1*s1 gives */
    kb_f32v huge = lanes_gt(abs_n, kb_splat(192.0f));
    return pick(huge, kb_mul(s1, s1), pick(big, split, kb_fma(pow2n, q, pow2n)));
}
#endif

static void scale_row(float *v, int n, float s) {
    const kb_f32v sv = kb_splat(s);
    int j = 0;
    for (; j + KB_LANES <= n; j += KB_LANES) kb_storeu(v + j, kb_mul(kb_loadu(v + j), sv));
    for (; j < n; j++) v[j] *= s;
}

/* y[j] = exp(y[j] - max); returns the sum, each vector reduced horizontally into a double as ggml does */
static double exp_and_sum(float *v, int n, float max) {
    double sum = 0.0;
    int j = 0;
#if KB_LANES > 1
    const kb_f32v mv = kb_splat(max);
    for (; j + KB_LANES <= n; j += KB_LANES) {
        kb_f32v e = exp_like_ggml(kb_sub(kb_loadu(v + j), mv));
        kb_storeu(v + j, e);
        sum += (double)kb_hsum(e);
    }
#endif
    for (; j < n; j++) {
        v[j] = expf(v[j] - max);
        sum += (double)v[j];
    }
    return sum;
}

void softmax(const float *x, const float *mask, float *y, int n, int rows, int mask_rows, float scale, float slope,
             int ith, int nth) {
    for (int r = ith; r < rows; r += nth) {
        float *yr = y + (long)r * n;
        memcpy(yr, x + (long)r * n, (size_t)n * sizeof(float));
        scale_row(yr, n, scale);
        if (mask_rows > 0) {
            const float *mr = mask + (long)(r % mask_rows) * n;
            for (int j = 0; j < n; j++) yr[j] += slope * mr[j];
        }
        float max = -INFINITY;
        for (int j = 0; j < n; j++) max = yr[j] > max ? yr[j] : max;
        if (max == -INFINITY) {
            memset(yr, 0, (size_t)n * sizeof(float));
            continue;
        }
        double sum = exp_and_sum(yr, n, max);
        scale_row(yr, n, (float)(1.0 / sum));
    }
}
