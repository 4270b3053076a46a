/* fa_kq_tile baseline: the way ggml's tiled flash-attention path (ops.cpp, flash_attn_ext, >= 64 query rows)
 * treats one KV tile today, rewritten here from the description of the algorithm:
 *   GEMM Q K^T into the tile (here p is the S workspace), then separate passes over the whole tile:
 *   1 S *= scale, or with softcap S = softcap * tanh(S * scale/softcap)   (three vector passes)
 *   2 S += slope * mask
 *   3 per-row max (scalar), m' = max(m, rowmax)
 *   4 per row P = exp(S - m') with a vectorized exp, each vector's lanes added into a double; rescale and l'
 * The GEMM is the same register-blocked dot-product kernel (2 Q rows x 4 K rows) in every variant of this
 * kernel, so variants differ only in how the passes after it are arranged.
 * A row with m' = -inf gives P = 0, rescale = 1, l' = l, m' = -inf (see reference.c). */
#include <math.h>
#include <string.h>
#include "kb_simd.h"

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

void fa_kq_tile(const float *q, const float *k, const float *mask, const float *m_in, const float *l_in, float *p,
                float *m_out, float *l_out, float *rescale, int br, int bc, int d, float scale, float slope,
                float softcap) {
    int i = 0;
    for (; i + 2 <= br; i += 2) qk_two_rows(q + (long)i * d, q + (long)(i + 1) * d, k, p + (long)i * bc, p + (long)(i + 1) * bc, bc, d);
    if (i < br) qk_one_row(q + (long)i * d, k, p + (long)i * bc, bc, d);

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
