/* fa_kq_tile_f16k baseline: the way ggml's tiled flash-attention path treats one KV tile when K is f16 (its KV
 * cache type), rewritten here from the description of the algorithm: K is converted to f32 first, row by row
 * into a buffer (ggml converts an f16 K tile to f32 before its GEMM, with ggml_cpu_fp16_to_fp32: F16C or NEON
 * where the ISA has it, a scalar per-element conversion elsewhere), then exactly the f32 baseline
 * (../fa_kq_tile/baseline.c): GEMM Q K^T into the tile (p is the S workspace), then separate passes over the
 * tile: scale (or scale/softcap, tanh, softcap), add slope*mask, per-row max (scalar), exp-and-sum, (m, l).
 * The f32 K buffer is 32 KB on the stack; a larger tile is converted and multiplied in chunks of K rows.
 * A row with m' = -inf gives P = 0, rescale = 1, l' = l, m' = -inf (see reference.c). */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "kb_simd.h"

/* f32 K buffer capacity in floats (32 KB): a 64 x 128 tile in one chunk */
#define KF_CAP 8192

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

/* one K row of n halves to f32, with the conversion ggml uses on this ISA */
static void convert_row(const uint16_t *h, float *f, int n) {
    int t = 0;
#if defined(__F16C__) && defined(__AVX2__)
    for (; t + 8 <= n; t += 8) _mm256_storeu_ps(f + t, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + t))));
#elif defined(__ARM_NEON) && defined(__aarch64__)
    for (; t + 4 <= n; t += 4) vst1q_f32(f + t, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h + t))));
#endif
    for (; t < n; t++) f[t] = half_to_float(h[t]);
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

static void scale_all(float *v, int n, float s) {
    const kb_f32v sv = kb_splat(s);
    int j = 0;
    for (; j + KB_LANES <= n; j += KB_LANES) kb_storeu(v + j, kb_mul(kb_loadu(v + j), sv));
    for (; j < n; j++) v[j] *= s;
}

static void tanh_all(float *v, int n) {
    int j = 0;
    for (; j + KB_LANES <= n; j += KB_LANES) kb_storeu(v + j, kb_tanh(kb_loadu(v + j)));
    if (j < n) {
        float buf[KB_LANES];
        for (int i = 0; i < KB_LANES; i++) buf[i] = j + i < n ? v[j + i] : 0.0f;
        kb_storeu(buf, kb_tanh(kb_loadu(buf)));
        for (int i = 0; j + i < n; i++) v[j + i] = buf[i];
    }
}

static void add_mask_all(float *v, const float *mask, int n, float slope) {
    const kb_f32v slv = kb_splat(slope);
    int j = 0;
    for (; j + KB_LANES <= n; j += KB_LANES) kb_storeu(v + j, kb_fma(kb_loadu(mask + j), slv, kb_loadu(v + j)));
    for (; j < n; j++) v[j] += slope * mask[j];
}

/* P = exp(S - max) in place; returns the sum, each vector's lanes added into a double */
static double exp_and_sum(float *v, int n, float max) {
    const kb_f32v mv = kb_splat(max);
    double sum = 0.0;
    int j = 0;
    for (; j + KB_LANES <= n; j += KB_LANES) {
        kb_f32v e = kb_exp(kb_sub(kb_loadu(v + j), mv));
        kb_storeu(v + j, e);
        sum += (double)kb_hsum(e);
    }
    if (j < n) {
        float buf[KB_LANES];
        for (int i = 0; i < KB_LANES; i++) buf[i] = j + i < n ? v[j + i] : -INFINITY;
        kb_f32v e = kb_exp(kb_sub(kb_loadu(buf), mv));
        kb_storeu(buf, e);
        for (int i = 0; j + i < n; i++) v[j + i] = buf[i];
        sum += (double)kb_hsum(e);
    }
    return sum;
}

/* rows longer than the buffer (d > KF_CAP): scalar dot products with the conversion inline */
static void qk_direct(const float *q, const uint16_t *k, float *p, int br, int bc, int d) {
    for (int i = 0; i < br; i++)
        for (int j = 0; j < bc; j++) {
            float s = 0.0f;
            for (int t = 0; t < d; t++) s += q[(long)i * d + t] * half_to_float(k[(long)j * d + t]);
            p[(long)i * bc + j] = s;
        }
}

void fa_kq_tile_f16k(const float *q, const uint16_t *k, const float *mask, const float *m_in, const float *l_in,
                     float *p, float *m_out, float *l_out, float *rescale, int br, int bc, int d, float scale,
                     float slope, float softcap) {
    int i;
    if (d > KF_CAP) {
        qk_direct(q, k, p, br, bc, d);
    } else {
        float kf[KF_CAP];
        const int cw = d > 0 ? KF_CAP / d : bc; /* K rows per chunk */
        for (int c0 = 0; c0 < bc; c0 += cw) {
            const int nc = bc - c0 < cw ? bc - c0 : cw;
            for (int j = 0; j < nc; j++) convert_row(k + (long)(c0 + j) * d, kf + (long)j * d, d);
            for (i = 0; i + 2 <= br; i += 2)
                qk_two_rows(q + (long)i * d, q + (long)(i + 1) * d, kf, p + (long)i * bc + c0, p + (long)(i + 1) * bc + c0, nc, d);
            if (i < br) qk_one_row(q + (long)i * d, kf, p + (long)i * bc + c0, nc, d);
        }
    }

    const int n = br * bc;
    if (softcap != 0.0f) {
        scale_all(p, n, scale / softcap);
        tanh_all(p, n);
        scale_all(p, n, softcap);
    } else {
        scale_all(p, n, scale);
    }
    add_mask_all(p, mask, n, slope);

    for (i = 0; i < br; i++) {
        float *pi = p + (long)i * bc;
        float m = m_in[i];
        for (int j = 0; j < bc; j++) m = pi[j] > m ? pi[j] : m;
        if (m == -INFINITY) {
            memset(pi, 0, (size_t)bc * sizeof(float));
            m_out[i] = -INFINITY;
            rescale[i] = 1.0f;
            l_out[i] = l_in[i];
            continue;
        }
        double sum = exp_and_sum(pi, bc, m);
        float r = exp1(m_in[i] - m);
        m_out[i] = m;
        rescale[i] = r;
        l_out[i] = (float)((double)l_in[i] * r + sum);
    }
}
