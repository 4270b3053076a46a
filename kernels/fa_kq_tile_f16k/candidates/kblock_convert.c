/* fa_kq_tile_f16k candidate kblock_convert: convert K a few rows at a time into a small L1-resident f32
 * buffer and run every query row against those rows before converting the next ones. It sits between the
 * baseline (whole K tile -> 32 KB f32 buffer, then the GEMM) and convert_in_gemm (conversion inside the dot
 * products, repeated for every block of query rows): each K element is converted exactly once per tile, with the
 * vector conversion (F16C / NEON fcvtl / integer bit manipulation on AVX2 without F16C and on WASM), and the
 * converted block (4 K rows, 2 KB at D = 128) is read back while it is still in L1, instead of a 32 KB buffer
 * that competes with Q (another 32 KB) for a 32 KB L1. The GEMM is the same 2 x 4 dot-product kernel as the
 * baseline, called with 4 key columns at a time (loop order: K blocks outside, query rows inside).
 * After all K blocks each row gets the fused epilogue of ../fa_kq_tile/candidates/gemm_epilogue.c: scale (or
 * softcap) + slope*mask + row max in one pass, then exp-and-sum and the (m, l) update.
 * A row with m' = -inf gives P = 0, rescale = 1, l' = l, m' = -inf (see reference.c). */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "kb_simd.h"

/* K rows converted per block (the width of the 2 x 4 GEMM kernel) and the block buffer capacity in floats
 * (16 KB: D up to 1024 in one block; longer rows are multiplied with a scalar conversion inline) */
#define KROWS 4
#define KBUF_CAP 4096

/* exact half -> float: the exponent and fraction bits moved into float position and multiplied by 2^112
 * (which rebiases a normal half's exponent 15 -> 127 and turns a subnormal half, now a subnormal float, into
 * the right normal float, exactly); exponent 31 (inf/NaN) gets the float's all-ones exponent */
static inline float half_to_float(uint16_t h) {
    union { uint32_t u; float f; } v;
    uint32_t em = h & 0x7fffu;
    v.u = em << 13;
    v.f *= 0x1p112f;
    if (em >= 0x7c00u) v.u |= 0x7f800000u;
    v.u |= (uint32_t)(h & 0x8000u) << 16;
    return v.f;
}

/* KB_LANES halves -> one f32 vector. F16C (vcvtph2ps) when the build enables it (kbench's default x86 flags
 * -mavx2 -mfma do not; -march=native does on every AVX2 CPU), NEON's fcvtl on aarch64, otherwise the same
 * bit manipulation as half_to_float on integer lanes: and, shifts, one float multiply by 2^112, a compare for
 * inf/NaN, ors for the sign and the all-ones exponent */
#if defined(__wasm_simd128__)
static inline v128_t load_half4(const uint16_t *h) {
    v128_t x = wasm_u32x4_load16x4(h);
    v128_t em = wasm_v128_and(x, wasm_i32x4_splat(0x7fff));
    v128_t sign = wasm_i32x4_shl(wasm_v128_xor(x, em), 16);
    v128_t f = wasm_f32x4_mul(wasm_i32x4_shl(em, 13), wasm_f32x4_splat(0x1p112f));
    v128_t special = wasm_v128_and(wasm_i32x4_gt(em, wasm_i32x4_splat(0x7bff)), wasm_i32x4_splat(0x7f800000));
    return wasm_v128_or(f, wasm_v128_or(sign, special));
}
#endif

static inline kb_f32v load_half(const uint16_t *h) {
#if defined(__AVX2__) && defined(__F16C__)
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h));
#elif defined(__AVX2__)
    __m256i x = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)h));
    __m256i em = _mm256_and_si256(x, _mm256_set1_epi32(0x7fff));
    __m256i sign = _mm256_slli_epi32(_mm256_xor_si256(x, em), 16);
    __m256 f = _mm256_mul_ps(_mm256_castsi256_ps(_mm256_slli_epi32(em, 13)), _mm256_set1_ps(0x1p112f));
    __m256i special = _mm256_and_si256(_mm256_cmpgt_epi32(em, _mm256_set1_epi32(0x7bff)), _mm256_set1_epi32(0x7f800000));
    return _mm256_or_ps(f, _mm256_castsi256_ps(_mm256_or_si256(sign, special)));
#elif defined(__ARM_NEON) && defined(__aarch64__)
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h)));
#elif defined(__wasm_simd128__)
    return KB_V128_LOAD(load_half4, h);
#else
    return half_to_float(*h);
#endif
}

static inline float exp1(float x) {
    float b[KB_LANES];
    kb_storeu(b, kb_exp(kb_splat(x)));
    return b[0];
}

static inline float dot_tail(const float *a, const float *b, int t, int d) {
    float s = 0.0f;
    for (; t < d; t++) s += a[t] * b[t];
    return s;
}

/* S rows (qa, qb) x all bc K rows into (sa, sb): 2 x 4 blocks of vector accumulators, one hsum per output */
static void qk_two_rows(const float *qa, const float *qb, const float *k, float *sa, float *sb, int bc, int d) {
    const int dv = d - d % KB_LANES;
    int j = 0;
    for (; j + 4 <= bc; j += 4) {
        const float *k0 = k + (long)j * d, *k1 = k0 + d, *k2 = k1 + d, *k3 = k2 + d;
        kb_f32v a0 = kb_zero(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (int t = 0; t < dv; t += KB_LANES) {
            kb_f32v x = kb_loadu(qa + t), y = kb_loadu(qb + t);
            kb_f32v v0 = kb_loadu(k0 + t), v1 = kb_loadu(k1 + t), v2 = kb_loadu(k2 + t), v3 = kb_loadu(k3 + t);
            a0 = kb_fma(x, v0, a0); a1 = kb_fma(x, v1, a1); a2 = kb_fma(x, v2, a2); a3 = kb_fma(x, v3, a3);
            b0 = kb_fma(y, v0, b0); b1 = kb_fma(y, v1, b1); b2 = kb_fma(y, v2, b2); b3 = kb_fma(y, v3, b3);
        }
        sa[j] = kb_hsum(a0) + dot_tail(qa, k0, dv, d); sb[j] = kb_hsum(b0) + dot_tail(qb, k0, dv, d);
        sa[j + 1] = kb_hsum(a1) + dot_tail(qa, k1, dv, d); sb[j + 1] = kb_hsum(b1) + dot_tail(qb, k1, dv, d);
        sa[j + 2] = kb_hsum(a2) + dot_tail(qa, k2, dv, d); sb[j + 2] = kb_hsum(b2) + dot_tail(qb, k2, dv, d);
        sa[j + 3] = kb_hsum(a3) + dot_tail(qa, k3, dv, d); sb[j + 3] = kb_hsum(b3) + dot_tail(qb, k3, dv, d);
    }
    for (; j < bc; j++) {
        const float *k0 = k + (long)j * d;
        kb_f32v a0 = kb_zero(), b0 = a0;
        for (int t = 0; t < dv; t += KB_LANES) {
            kb_f32v v0 = kb_loadu(k0 + t);
            a0 = kb_fma(kb_loadu(qa + t), v0, a0);
            b0 = kb_fma(kb_loadu(qb + t), v0, b0);
        }
        sa[j] = kb_hsum(a0) + dot_tail(qa, k0, dv, d);
        sb[j] = kb_hsum(b0) + dot_tail(qb, k0, dv, d);
    }
}

/* S row qa x all bc K rows into sa: 1 x 4 blocks */
static void qk_one_row(const float *qa, const float *k, float *sa, int bc, int d) {
    const int dv = d - d % KB_LANES;
    int j = 0;
    for (; j + 4 <= bc; j += 4) {
        const float *k0 = k + (long)j * d, *k1 = k0 + d, *k2 = k1 + d, *k3 = k2 + d;
        kb_f32v a0 = kb_zero(), a1 = a0, a2 = a0, a3 = a0;
        for (int t = 0; t < dv; t += KB_LANES) {
            kb_f32v x = kb_loadu(qa + t);
            a0 = kb_fma(x, kb_loadu(k0 + t), a0); a1 = kb_fma(x, kb_loadu(k1 + t), a1);
            a2 = kb_fma(x, kb_loadu(k2 + t), a2); a3 = kb_fma(x, kb_loadu(k3 + t), a3);
        }
        sa[j] = kb_hsum(a0) + dot_tail(qa, k0, dv, d);
        sa[j + 1] = kb_hsum(a1) + dot_tail(qa, k1, dv, d);
        sa[j + 2] = kb_hsum(a2) + dot_tail(qa, k2, dv, d);
        sa[j + 3] = kb_hsum(a3) + dot_tail(qa, k3, dv, d);
    }
    for (; j < bc; j++) {
        const float *k0 = k + (long)j * d;
        kb_f32v a0 = kb_zero();
        for (int t = 0; t < dv; t += KB_LANES) a0 = kb_fma(kb_loadu(qa + t), kb_loadu(k0 + t), a0);
        sa[j] = kb_hsum(a0) + dot_tail(qa, k0, dv, d);
    }
}

/* S lanes j..j+k-1 (k < KB_LANES) of a row through a padded vector; extra lanes are `fill` */
static inline kb_f32v load_part(const float *v, int k, float fill) {
    float buf[KB_LANES];
    for (int i = 0; i < KB_LANES; i++) buf[i] = i < k ? v[i] : fill;
    return kb_loadu(buf);
}

static inline void store_part(float *v, int k, kb_f32v x) {
    float buf[KB_LANES];
    kb_storeu(buf, x);
    for (int i = 0; i < k; i++) v[i] = buf[i];
}

/* P = exp(S - max) in place over one row; returns the sum (4 vector accumulators, one horizontal add) */
static float exp_and_sum_row(float *v, int n, float max) {
    const kb_f32v mv = kb_splat(max);
    kb_f32v s0 = kb_zero(), s1 = s0, s2 = s0, s3 = s0;
    int j = 0;
    for (; j + 4 * KB_LANES <= n; j += 4 * KB_LANES) {
        kb_f32v e0 = kb_exp(kb_sub(kb_loadu(v + j), mv));
        kb_f32v e1 = kb_exp(kb_sub(kb_loadu(v + j + KB_LANES), mv));
        kb_f32v e2 = kb_exp(kb_sub(kb_loadu(v + j + 2 * KB_LANES), mv));
        kb_f32v e3 = kb_exp(kb_sub(kb_loadu(v + j + 3 * KB_LANES), mv));
        kb_storeu(v + j, e0);
        kb_storeu(v + j + KB_LANES, e1);
        kb_storeu(v + j + 2 * KB_LANES, e2);
        kb_storeu(v + j + 3 * KB_LANES, e3);
        s0 = kb_add(s0, e0); s1 = kb_add(s1, e1); s2 = kb_add(s2, e2); s3 = kb_add(s3, e3);
    }
    for (; j + KB_LANES <= n; j += KB_LANES) {
        kb_f32v e = kb_exp(kb_sub(kb_loadu(v + j), mv));
        kb_storeu(v + j, e);
        s0 = kb_add(s0, e);
    }
    if (j < n) {
        kb_f32v e = kb_exp(kb_sub(load_part(v + j, n - j, -INFINITY), mv));
        store_part(v + j, n - j, e);
        s0 = kb_add(s0, e);
    }
    return kb_hsum(kb_add(kb_add(s0, s1), kb_add(s2, s3)));
}

/* the row state update once the row max m' (including m_in) is known */
static void finish_row(float *pi, int bc, float m_prev, float l_prev, float m, float *m_out, float *l_out,
                       float *rescale) {
    if (m == -INFINITY) {
        memset(pi, 0, (size_t)bc * sizeof(float));
        *m_out = -INFINITY;
        *rescale = 1.0f;
        *l_out = l_prev;
        return;
    }
    float sum = exp_and_sum_row(pi, bc, m);
    float r = exp1(m_prev - m);
    *m_out = m;
    *rescale = r;
    *l_out = l_prev * r + sum;
}

/* S = S*scale + slope*mask in place over one row; returns max(m, rowmax S) */
static float scale_mask_max_row(float *v, const float *mr, int n, float scale, float slope, float m) {
    const kb_f32v sv = kb_splat(scale), slv = kb_splat(slope);
    kb_f32v m0 = kb_splat(m), m1 = m0, m2 = m0, m3 = m0;
    int j = 0;
    for (; j + 4 * KB_LANES <= n; j += 4 * KB_LANES) {
        kb_f32v v0 = kb_fma(kb_loadu(mr + j), slv, kb_mul(kb_loadu(v + j), sv));
        kb_f32v v1 = kb_fma(kb_loadu(mr + j + KB_LANES), slv, kb_mul(kb_loadu(v + j + KB_LANES), sv));
        kb_f32v v2 = kb_fma(kb_loadu(mr + j + 2 * KB_LANES), slv, kb_mul(kb_loadu(v + j + 2 * KB_LANES), sv));
        kb_f32v v3 = kb_fma(kb_loadu(mr + j + 3 * KB_LANES), slv, kb_mul(kb_loadu(v + j + 3 * KB_LANES), sv));
        kb_storeu(v + j, v0);
        kb_storeu(v + j + KB_LANES, v1);
        kb_storeu(v + j + 2 * KB_LANES, v2);
        kb_storeu(v + j + 3 * KB_LANES, v3);
        m0 = kb_max(m0, v0); m1 = kb_max(m1, v1); m2 = kb_max(m2, v2); m3 = kb_max(m3, v3);
    }
    for (; j + KB_LANES <= n; j += KB_LANES) {
        kb_f32v x = kb_fma(kb_loadu(mr + j), slv, kb_mul(kb_loadu(v + j), sv));
        kb_storeu(v + j, x);
        m0 = kb_max(m0, x);
    }
    if (j < n) { /* padded lanes: S = 0 and mask = -inf give -inf, which never raises the max */
        kb_f32v x = kb_fma(load_part(mr + j, n - j, -INFINITY), slv, kb_mul(load_part(v + j, n - j, 0.0f), sv));
        store_part(v + j, n - j, x);
        m0 = kb_max(m0, x);
    }
    return kb_hmax(kb_max(kb_max(m0, m1), kb_max(m2, m3)));
}

/* S = softcap*tanh(S*scale/softcap) + slope*mask in place over one row; returns max(m, rowmax S) */
static float softcap_mask_max_row(float *v, const float *mr, int n, float scale, float slope, float softcap, float m) {
    const kb_f32v inner = kb_splat(scale / softcap), cap = kb_splat(softcap), slv = kb_splat(slope);
    kb_f32v m0 = kb_splat(m), m1 = m0;
    int j = 0;
    for (; j + 2 * KB_LANES <= n; j += 2 * KB_LANES) {
        kb_f32v v0 = kb_fma(kb_loadu(mr + j), slv, kb_mul(cap, kb_tanh(kb_mul(kb_loadu(v + j), inner))));
        kb_f32v v1 = kb_fma(kb_loadu(mr + j + KB_LANES), slv,
                            kb_mul(cap, kb_tanh(kb_mul(kb_loadu(v + j + KB_LANES), inner))));
        kb_storeu(v + j, v0);
        kb_storeu(v + j + KB_LANES, v1);
        m0 = kb_max(m0, v0); m1 = kb_max(m1, v1);
    }
    for (; j + KB_LANES <= n; j += KB_LANES) {
        kb_f32v x = kb_fma(kb_loadu(mr + j), slv, kb_mul(cap, kb_tanh(kb_mul(kb_loadu(v + j), inner))));
        kb_storeu(v + j, x);
        m0 = kb_max(m0, x);
    }
    if (j < n) { /* padded lanes: S = 0 and mask = -inf give -inf */
        kb_f32v x = kb_fma(load_part(mr + j, n - j, -INFINITY), slv,
                           kb_mul(cap, kb_tanh(kb_mul(load_part(v + j, n - j, 0.0f), inner))));
        store_part(v + j, n - j, x);
        m0 = kb_max(m0, x);
    }
    return kb_hmax(kb_max(m0, m1));
}

static void epilogue_row(float *pi, const float *mi, int bc, float scale, float slope, float softcap, float m_prev,
                         float l_prev, float *m_out, float *l_out, float *rescale) {
    float m = softcap != 0.0f ? softcap_mask_max_row(pi, mi, bc, scale, slope, softcap, m_prev)
                              : scale_mask_max_row(pi, mi, bc, scale, slope, m_prev);
    finish_row(pi, bc, m_prev, l_prev, m, m_out, l_out, rescale);
}

/* one K row of n halves to f32 */
static void convert_row(const uint16_t *h, float *f, int n) {
    int t = 0;
    for (; t + KB_LANES <= n; t += KB_LANES) kb_storeu(f + t, load_half(h + t));
    for (; t < n; t++) f[t] = half_to_float(h[t]);
}

void fa_kq_tile_f16k(const float *q, const uint16_t *k, const float *mask, const float *m_in, const float *l_in,
                     float *p, float *m_out, float *l_out, float *rescale, int br, int bc, int d, float scale,
                     float slope, float softcap) {
    if (d * KROWS <= KBUF_CAP) {
        float kf[KBUF_CAP];
        for (int j0 = 0; j0 < bc; j0 += KROWS) {
            const int nk = bc - j0 < KROWS ? bc - j0 : KROWS;
            for (int c = 0; c < nk; c++) convert_row(k + (long)(j0 + c) * d, kf + (long)c * d, d);
            int i = 0;
            for (; i + 2 <= br; i += 2)
                qk_two_rows(q + (long)i * d, q + (long)(i + 1) * d, kf, p + (long)i * bc + j0, p + (long)(i + 1) * bc + j0, nk, d);
            if (i < br) qk_one_row(q + (long)i * d, kf, p + (long)i * bc + j0, nk, d);
        }
    } else {
        for (int i = 0; i < br; i++)
            for (int j = 0; j < bc; j++) {
                float s = 0.0f;
                for (int t = 0; t < d; t++) s += q[(long)i * d + t] * half_to_float(k[(long)j * d + t]);
                p[(long)i * bc + j] = s;
            }
    }
    for (int i = 0; i < br; i++)
        epilogue_row(p + (long)i * bc, mask + (long)i * bc, bc, scale, slope, softcap, m_in[i], l_in[i], m_out + i,
                     l_out + i, rescale + i);
}
