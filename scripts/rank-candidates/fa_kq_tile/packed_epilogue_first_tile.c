/* fa_kq_tile, measurement variant (scripts/rank-candidates, never part of the suite): candidates/packed_epilogue.c
 * with one change, rescale = 0 set directly on a first tile (m = -inf) instead of computed by the vector exp. */
/* fa_kq_tile candidate packed_epilogue: a different GEMM with the fusion in its epilogue, on registers.
 * The dot-product GEMM of the other variants ends every output with a horizontal add (~5 shuffles/adds per S
 * element against D/lanes FMAs). Here K is first packed transposed (Kt [D x Bc], on the stack, zero-padded to
 * a whole register block) so the GEMM becomes outer products: for a block of 4 query rows x 2 vectors of key
 * columns, each step t broadcasts q[r][t] and multiplies it with two vectors of Kt row t (6 loads for 8 FMAs,
 * no horizontal adds). The epilogue then works on vectors still in registers: scale (or softcap) + slope*mask,
 * store S, and fold the running row max (kept in m_out until the row is finished). After all columns, each row
 * gets exp-and-sum and its (m, l) update.
 * Packing costs one strided read of K per tile, which only pays off with several query rows: with Br < 4
 * (decode-like) this kernel uses the dot-product path with the same epilogue (as gemm_epilogue.c).
 * This is the usual packed-panel GEMM structure (K. Goto and R. van de Geijn, "Anatomy of high-performance
 * matrix multiplication", ACM TOMS 2008; BLIS micro-kernels), with the softmax prologue of FlashAttention-2
 * (arXiv:2307.08691) as its epilogue.
 * A row with m' = -inf gives P = 0, rescale = 1, l' = l, m' = -inf (see reference.c). */
#include <math.h>
#include <string.h>
#include "kb_simd.h"

/* Kt capacity in floats (32 KB of stack; kbench WASM builds have a 1 MB stack): D x Bc up to 128 x 64 in one
 * chunk, larger tiles are done in column chunks */
#define KT_CAP 8192
/* key columns per register block */
#define CB (2 * KB_LANES)

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
    /* first tile (m = -inf): exp(-inf) = 0 directly; the vector exp of the clamped argument ends in a subnormal
     * product, a microcode assist on x86 */
    float r = m_prev == -INFINITY ? 0.0f : exp1(m_prev - m);
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

/* epilogue for one vector of S (KB_LANES columns from col, `valid` of them inside the tile): returns the new max */
static inline kb_f32v epilogue_vec(kb_f32v acc, float *ps, const float *ms, int valid, float scale, float slope,
                                   float softcap, kb_f32v mx) {
    kb_f32v s = softcap != 0.0f ? kb_mul(kb_splat(softcap), kb_tanh(kb_mul(acc, kb_splat(scale / softcap))))
                                : kb_mul(acc, kb_splat(scale));
    if (valid >= KB_LANES) {
        s = kb_fma(kb_loadu(ms), kb_splat(slope), s);
        kb_storeu(ps, s);
    } else { /* padded lanes get mask -inf, so S = -inf there and the max ignores them */
        s = kb_fma(load_part(ms, valid, -INFINITY), kb_splat(slope), s);
        store_part(ps, valid, s);
    }
    return kb_max(mx, s);
}

/* rows i..i+nr-1 (nr = 4 or 1) x packed columns [0, ncp) of Kt (row stride ncp); c0 = first tile column */
static void packed_rows(const float *q, const float *kt, const float *mask, float *p, float *mrun, int nr, int i,
                        int c0, int nc, int ncp, int bc, int d, float scale, float slope, float softcap) {
    for (int jb = 0; jb < nc; jb += CB) {
        kb_f32v acc[4][2];
        for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = kb_zero();
        if (nr == 4) {
            const float *q0 = q + (long)i * d, *q1 = q0 + d, *q2 = q1 + d, *q3 = q2 + d;
            for (int t = 0; t < d; t++) {
                kb_f32v k0 = kb_loadu(kt + (long)t * ncp + jb), k1 = kb_loadu(kt + (long)t * ncp + jb + KB_LANES);
                kb_f32v b0 = kb_splat(q0[t]), b1 = kb_splat(q1[t]), b2 = kb_splat(q2[t]), b3 = kb_splat(q3[t]);
                acc[0][0] = kb_fma(b0, k0, acc[0][0]); acc[0][1] = kb_fma(b0, k1, acc[0][1]);
                acc[1][0] = kb_fma(b1, k0, acc[1][0]); acc[1][1] = kb_fma(b1, k1, acc[1][1]);
                acc[2][0] = kb_fma(b2, k0, acc[2][0]); acc[2][1] = kb_fma(b2, k1, acc[2][1]);
                acc[3][0] = kb_fma(b3, k0, acc[3][0]); acc[3][1] = kb_fma(b3, k1, acc[3][1]);
            }
        } else {
            const float *q0 = q + (long)i * d;
            for (int t = 0; t < d; t++) {
                kb_f32v b0 = kb_splat(q0[t]);
                acc[0][0] = kb_fma(b0, kb_loadu(kt + (long)t * ncp + jb), acc[0][0]);
                acc[0][1] = kb_fma(b0, kb_loadu(kt + (long)t * ncp + jb + KB_LANES), acc[0][1]);
            }
        }
        for (int r = 0; r < nr; r++) {
            const long row = (long)(i + r) * bc;
            kb_f32v mx = kb_splat(mrun[i + r]);
            for (int h = 0; h < 2; h++) {
                int col = c0 + jb + h * KB_LANES, valid = nc - jb - h * KB_LANES;
                if (valid <= 0) break;
                mx = epilogue_vec(acc[r][h], p + row + col, mask + row + col, valid, scale, slope, softcap, mx);
            }
            mrun[i + r] = kb_hmax(mx);
        }
    }
}

static void tile_packed(const float *q, const float *k, const float *mask, float *p, float *mrun, int br, int bc,
                        int d, int cw, float scale, float slope, float softcap) {
    float kt[KT_CAP];
    for (int c0 = 0; c0 < bc; c0 += cw) {
        int nc = bc - c0 < cw ? bc - c0 : cw;
        int ncp = (nc + CB - 1) / CB * CB;
        for (int t = 0; t < d; t++)
            for (int j = 0; j < ncp; j++) kt[(long)t * ncp + j] = j < nc ? k[(long)(c0 + j) * d + t] : 0.0f;
        int i = 0;
        for (; i + 4 <= br; i += 4) packed_rows(q, kt, mask, p, mrun, 4, i, c0, nc, ncp, bc, d, scale, slope, softcap);
        for (; i < br; i++) packed_rows(q, kt, mask, p, mrun, 1, i, c0, nc, ncp, bc, d, scale, slope, softcap);
    }
}

void fa_kq_tile(const float *q, const float *k, const float *mask, const float *m_in, const float *l_in, float *p,
                float *m_out, float *l_out, float *rescale, int br, int bc, int d, float scale, float slope,
                float softcap) {
    const int cw = d > 0 ? KT_CAP / d / CB * CB : 0;
    if (br >= 4 && cw >= CB) {
        for (int i = 0; i < br; i++) m_out[i] = m_in[i];
        tile_packed(q, k, mask, p, m_out, br, bc, d, cw, scale, slope, softcap);
        for (int i = 0; i < br; i++)
            finish_row(p + (long)i * bc, bc, m_in[i], l_in[i], m_out[i], m_out + i, l_out + i, rescale + i);
        return;
    }
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
