/* softmax candidate fused_max_fastexp: fused_max (3 passes) with an exp specialised to what softmax feeds it.
 * Every argument of the exp pass is v - max <= 0 (or -inf), so the general exp's work for large and subnormal
 * results is not needed:
 *   - one clamp (to -86.5) instead of two, and results for x < -86.5 (including -inf) set to 0 with a compare
 *     and mask (e^-86.5 ~ 2.6e-38 is below anything a softmax row can show next to its max, which gives 1);
 *   - 2^n applied by adding n << 23 to the bits of the polynomial (one shift and one integer add) instead of two
 *     multiplies by 2^(n/2): n is in [-125, 0], so the result stays a normal float;
 *   - a degree-5 polynomial instead of degree 7: p(r) = 1 + r + c2 r^2 + ... + c5 r^5 on |r| <= ln2/2 with
 *     c2..c5 fitted here for minimax relative error (Lawson's iteratively reweighted least squares, numpy,
 *     then rounded to float): max relative error 1.06e-7 (1.8 ULP) before evaluation rounding. ggml's
 *     ggml_v_expf is also a degree-5 minimax polynomial of about this accuracy (1.5 + 0.5 ULP per its comment).
 * Range reduction as in kb_simd.h (Cody-Waite, ln2 split in two, 1.5*2^23 rounding trick). The bit operations
 * are not in kb_simd.h, so they are written here per target with the same #if chain as kb_simd.h.
 * A fully masked row (max = -inf) gives all zeros (see reference.c). */
#include <math.h>
#include <string.h>
#include "kb_simd.h"

#define EXP_MAGIC 12582912.0f /* 1.5 * 2^23 */
#define EXP_LO -86.5f         /* n = round(x / ln2) >= -125 above it, so p * 2^n is a normal float */

#if defined(__AVX2__) && defined(__FMA__)
/* p * 2^n where n sits in the low bits of t = n + EXP_MAGIC */
static inline kb_f32v scale_by_pow2(kb_f32v p, kb_f32v t) {
    __m256i n = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_castps_si256(_mm256_set1_ps(EXP_MAGIC)));
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), _mm256_slli_epi32(n, 23)));
}
/* v where x >= EXP_LO, 0 elsewhere */
static inline kb_f32v zero_below_lo(kb_f32v v, kb_f32v x) {
    return _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_set1_ps(EXP_LO), _CMP_LT_OQ), v);
}
#elif defined(__ARM_NEON) && defined(__aarch64__)
static inline kb_f32v scale_by_pow2(kb_f32v p, kb_f32v t) {
    int32x4_t n = vsubq_s32(vreinterpretq_s32_f32(t), vreinterpretq_s32_f32(vdupq_n_f32(EXP_MAGIC)));
    return vreinterpretq_f32_s32(vaddq_s32(vreinterpretq_s32_f32(p), vshlq_n_s32(n, 23)));
}
static inline kb_f32v zero_below_lo(kb_f32v v, kb_f32v x) {
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(v), vcltq_f32(x, vdupq_n_f32(EXP_LO))));
}
#elif defined(__wasm_simd128__)
static inline v128_t scale_by_pow2_4(v128_t p, v128_t t) {
    v128_t n = wasm_i32x4_sub(t, wasm_f32x4_splat(EXP_MAGIC));
    return wasm_i32x4_add(p, wasm_i32x4_shl(n, 23));
}
static inline v128_t zero_below_lo_4(v128_t v, v128_t x) {
    return wasm_v128_andnot(v, wasm_f32x4_lt(x, wasm_f32x4_splat(EXP_LO)));
}
/* per 4 lanes, so the 8-lane WASM path (the screen's AVX2 model) runs it too */
static inline kb_f32v scale_by_pow2(kb_f32v p, kb_f32v t) { return KB_V128_MAP2(scale_by_pow2_4, p, t); }
static inline kb_f32v zero_below_lo(kb_f32v v, kb_f32v x) { return KB_V128_MAP2(zero_below_lo_4, v, x); }
#else
static inline kb_f32v scale_by_pow2(kb_f32v p, kb_f32v t) {
    int32_t pb, tb, mb;
    const float magic = EXP_MAGIC;
    memcpy(&pb, &p, 4);
    memcpy(&tb, &t, 4);
    memcpy(&mb, &magic, 4);
    pb = (int32_t)((uint32_t)pb + ((uint32_t)(tb - mb) << 23));
    memcpy(&p, &pb, 4);
    return p;
}
static inline kb_f32v zero_below_lo(kb_f32v v, kb_f32v x) { return x < EXP_LO ? 0.0f : v; }
#endif

/* e^x for x <= 0 or -inf; 0 for x < EXP_LO */
static inline kb_f32v exp_nonpos(kb_f32v x) {
    kb_f32v xc = kb_max(x, kb_splat(EXP_LO));
    kb_f32v t = kb_fma(xc, kb_splat(1.44269504088896341f), kb_splat(EXP_MAGIC));
    kb_f32v n = kb_sub(t, kb_splat(EXP_MAGIC));
    kb_f32v r = kb_fma(n, kb_splat(-0.693359375f), xc);
    r = kb_fma(n, kb_splat(2.12194440054690583e-4f), r);
    kb_f32v p = kb_splat(0x1.10625ap-7f);
    p = kb_fma(p, r, kb_splat(0x1.5729e6p-5f));
    p = kb_fma(p, r, kb_splat(0x1.5557aep-3f));
    p = kb_fma(p, r, kb_splat(0x1.fffdfcp-2f));
    p = kb_fma(p, r, kb_splat(1.0f));
    p = kb_fma(p, r, kb_splat(1.0f));
    return zero_below_lo(scale_by_pow2(p, t), x);
}

/* v for lanes j..j+k-1 (k < KB_LANES) computed with the same vector ops; lanes past k set to -inf */
static inline kb_f32v tail_values(const float *xr, const float *mr, int j, int k, kb_f32v sv, kb_f32v slv) {
    float bx[KB_LANES], bm[KB_LANES];
    for (int i = 0; i < KB_LANES; i++) {
        bx[i] = i < k ? xr[j + i] : 0.0f;
        bm[i] = i < k && mr ? mr[j + i] : 0.0f;
    }
    kb_f32v v = mr ? kb_fma(kb_loadu(bm), slv, kb_mul(kb_loadu(bx), sv)) : kb_mul(kb_loadu(bx), sv);
    kb_storeu(bx, v);
    for (int i = k; i < KB_LANES; i++) bx[i] = -INFINITY;
    return kb_loadu(bx);
}

static float scale_mask_max(const float *xr, const float *mr, float *yr, int n, float scale, float slope) {
    const kb_f32v sv = kb_splat(scale), slv = kb_splat(slope);
    kb_f32v m0 = kb_splat(-INFINITY), m1 = m0, m2 = m0, m3 = m0;
    int j = 0;
    if (mr) {
        for (; j + 4 * KB_LANES <= n; j += 4 * KB_LANES) {
            kb_f32v v0 = kb_fma(kb_loadu(mr + j), slv, kb_mul(kb_loadu(xr + j), sv));
            kb_f32v v1 = kb_fma(kb_loadu(mr + j + KB_LANES), slv, kb_mul(kb_loadu(xr + j + KB_LANES), sv));
            kb_f32v v2 = kb_fma(kb_loadu(mr + j + 2 * KB_LANES), slv, kb_mul(kb_loadu(xr + j + 2 * KB_LANES), sv));
            kb_f32v v3 = kb_fma(kb_loadu(mr + j + 3 * KB_LANES), slv, kb_mul(kb_loadu(xr + j + 3 * KB_LANES), sv));
            kb_storeu(yr + j, v0);
            kb_storeu(yr + j + KB_LANES, v1);
            kb_storeu(yr + j + 2 * KB_LANES, v2);
            kb_storeu(yr + j + 3 * KB_LANES, v3);
            m0 = kb_max(m0, v0); m1 = kb_max(m1, v1); m2 = kb_max(m2, v2); m3 = kb_max(m3, v3);
        }
        for (; j + KB_LANES <= n; j += KB_LANES) {
            kb_f32v v = kb_fma(kb_loadu(mr + j), slv, kb_mul(kb_loadu(xr + j), sv));
            kb_storeu(yr + j, v);
            m0 = kb_max(m0, v);
        }
    } else {
        for (; j + 4 * KB_LANES <= n; j += 4 * KB_LANES) {
            kb_f32v v0 = kb_mul(kb_loadu(xr + j), sv);
            kb_f32v v1 = kb_mul(kb_loadu(xr + j + KB_LANES), sv);
            kb_f32v v2 = kb_mul(kb_loadu(xr + j + 2 * KB_LANES), sv);
            kb_f32v v3 = kb_mul(kb_loadu(xr + j + 3 * KB_LANES), sv);
            kb_storeu(yr + j, v0);
            kb_storeu(yr + j + KB_LANES, v1);
            kb_storeu(yr + j + 2 * KB_LANES, v2);
            kb_storeu(yr + j + 3 * KB_LANES, v3);
            m0 = kb_max(m0, v0); m1 = kb_max(m1, v1); m2 = kb_max(m2, v2); m3 = kb_max(m3, v3);
        }
        for (; j + KB_LANES <= n; j += KB_LANES) {
            kb_f32v v = kb_mul(kb_loadu(xr + j), sv);
            kb_storeu(yr + j, v);
            m0 = kb_max(m0, v);
        }
    }
    if (j < n) {
        float buf[KB_LANES];
        kb_f32v v = tail_values(xr, mr, j, n - j, sv, slv);
        kb_storeu(buf, v);
        for (int i = 0; j + i < n; i++) yr[j + i] = buf[i];
        m0 = kb_max(m0, v);
    }
    return kb_hmax(kb_max(kb_max(m0, m1), kb_max(m2, m3)));
}

static float exp_and_sum(float *yr, int n, float max) {
    const kb_f32v mv = kb_splat(max);
    kb_f32v s0 = kb_zero(), s1 = s0, s2 = s0, s3 = s0;
    int j = 0;
    for (; j + 4 * KB_LANES <= n; j += 4 * KB_LANES) {
        kb_f32v e0 = exp_nonpos(kb_sub(kb_loadu(yr + j), mv));
        kb_f32v e1 = exp_nonpos(kb_sub(kb_loadu(yr + j + KB_LANES), mv));
        kb_f32v e2 = exp_nonpos(kb_sub(kb_loadu(yr + j + 2 * KB_LANES), mv));
        kb_f32v e3 = exp_nonpos(kb_sub(kb_loadu(yr + j + 3 * KB_LANES), mv));
        kb_storeu(yr + j, e0);
        kb_storeu(yr + j + KB_LANES, e1);
        kb_storeu(yr + j + 2 * KB_LANES, e2);
        kb_storeu(yr + j + 3 * KB_LANES, e3);
        s0 = kb_add(s0, e0); s1 = kb_add(s1, e1); s2 = kb_add(s2, e2); s3 = kb_add(s3, e3);
    }
    for (; j + KB_LANES <= n; j += KB_LANES) {
        kb_f32v e = exp_nonpos(kb_sub(kb_loadu(yr + j), mv));
        kb_storeu(yr + j, e);
        s0 = kb_add(s0, e);
    }
    if (j < n) {
        float buf[KB_LANES];
        for (int i = 0; i < KB_LANES; i++) buf[i] = j + i < n ? yr[j + i] : -INFINITY;
        kb_f32v e = exp_nonpos(kb_sub(kb_loadu(buf), mv));
        kb_storeu(buf, e);
        for (int i = 0; j + i < n; i++) yr[j + i] = buf[i];
        s0 = kb_add(s0, e);
    }
    return kb_hsum(kb_add(kb_add(s0, s1), kb_add(s2, s3)));
}

static void scale_row(float *yr, int n, float s) {
    const kb_f32v sv = kb_splat(s);
    int j = 0;
    for (; j + KB_LANES <= n; j += KB_LANES) kb_storeu(yr + j, kb_mul(kb_loadu(yr + j), sv));
    for (; j < n; j++) yr[j] *= s;
}

void softmax(const float *x, const float *mask, float *y, int n, int rows, int mask_rows, float scale, float slope,
             int ith, int nth) {
    for (int r = ith; r < rows; r += nth) {
        const float *mr = mask_rows > 0 ? mask + (long)(r % mask_rows) * n : 0;
        float *yr = y + (long)r * n;
        float max = scale_mask_max(x + (long)r * n, mr, yr, n, scale, slope);
        if (max == -INFINITY) {
            memset(yr, 0, (size_t)n * sizeof(float));
            continue;
        }
        scale_row(yr, n, 1.0f / exp_and_sum(yr, n, max));
    }
}
