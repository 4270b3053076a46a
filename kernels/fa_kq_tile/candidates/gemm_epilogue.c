/* fa_kq_tile candidate gemm_epilogue: the scale/softcap/mask/max fusion moved into the GEMM epilogue. The tile
 * is computed one block of 2 query rows at a time (the same 2 x 4 register-blocked dot-product kernel as
 * baseline.c); as soon as a block's S rows exist, each row is finished while it is still in L1: one pass for
 * scale (+ softcap) + mask + max, then exp-and-sum and the row state. Every later pass of the baseline walks the
 * whole Br x Bc tile after the GEMM has pushed Q, K and the earlier rows through the cache; here each S row is
 * touched three times in a row (store, fused pass, exp pass) within a few KB.
 * Softcap stays correct because the epilogue applies it in the right order (softcap*tanh(scale*S/softcap)
 * before the mask), so it needs no fallback path: only the FMA shortcut is skipped.
 * This is the structure FlashAttention-2 uses per warp (softmax of a score block right after its GEMM).
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

void fa_kq_tile(const float *q, const float *k, const float *mask, const float *m_in, const float *l_in, float *p,
                float *m_out, float *l_out, float *rescale, int br, int bc, int d, float scale, float slope,
                float softcap) {
    int i = 0;
    for (; i + 2 <= br; i += 2) {
        float *pa = p + (long)i * bc, *pb = pa + bc;
        qk_two_rows(q + (long)i * d, q + (long)(i + 1) * d, k, pa, pb, bc, d);
        epilogue_row(pa, mask + (long)i * bc, bc, scale, slope, softcap, m_in[i], l_in[i], m_out + i, l_out + i, rescale + i);
        epilogue_row(pb, mask + (long)(i + 1) * bc, bc, scale, slope, softcap, m_in[i + 1], l_in[i + 1], m_out + i + 1,
                     l_out + i + 1, rescale + i + 1);
    }
    if (i < br) {
        qk_one_row(q + (long)i * d, k, p + (long)i * bc, bc, d);
        epilogue_row(p + (long)i * bc, mask + (long)i * bc, bc, scale, slope, softcap, m_in[i], l_in[i], m_out + i,
                     l_out + i, rescale + i);
    }
}
