/* fa_kq_tile, measurement variant (the fastest grade) (scripts/rank-candidates, never part of the suite): packed_epilogue.c's
 * structure (K packed transposed into Kt [D x Bc] on the stack, outer-product GEMM, scale/softcap + slope*mask +
 * row max on the accumulators, exp-and-sum per row at the end) with a larger register block, 6 query rows x 2
 * vectors of key columns (12 accumulators, 2 loads + 6 broadcasts per 12 FMAs; the BLIS Haswell sgemm block is
 * 6 x 16), and Kt packed by 8 x 8 in-register transposes under __AVX2__ (scalar strided copies elsewhere).
 * Rows left after the blocks of 6 take one block of 4 (a 64-row tile is 10 x 6 + 4); rows left after that, and
 * tiles with Br < 4, use a dot-product path over 8 key rows at a time
 * whose 8 sums are reduced together (three rounds of hadd under __AVX2__, one horizontal add each elsewhere) and
 * go through the same epilogue 8 at a time. On a first tile (m = -inf) rescale = exp(-inf) = 0 is set directly.
 * A row with m' = -inf gives P = 0, rescale = 1, l' = l, m' = -inf (see reference.c). */
#include <math.h>
#include <string.h>
#include "kb_simd.h"

/* Kt capacity in floats (32 KB of stack): D x Bc up to 128 x 64 in one chunk */
#define KT_CAP 8192
/* key columns and query rows per register block */
#define CB (2 * KB_LANES)
#define MR 6

static inline float exp1(float x) {
    float b[KB_LANES];
    kb_storeu(b, kb_exp(kb_splat(x)));
    return b[0];
}

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

/* P = exp(S - max) in place over one row; returns the sum */
static float exp_and_sum_row(float *v, int n, float max) {
    const kb_f32v mv = kb_splat(max);
    kb_f32v s0 = kb_zero(), s1 = s0;
    int j = 0;
    for (; j + 2 * KB_LANES <= n; j += 2 * KB_LANES) {
        kb_f32v e0 = kb_exp(kb_sub(kb_loadu(v + j), mv)), e1 = kb_exp(kb_sub(kb_loadu(v + j + KB_LANES), mv));
        kb_storeu(v + j, e0);
        kb_storeu(v + j + KB_LANES, e1);
        s0 = kb_add(s0, e0);
        s1 = kb_add(s1, e1);
    }
    for (; j < n; j += KB_LANES) {
        const int k = n - j < KB_LANES ? n - j : KB_LANES;
        kb_f32v e = kb_exp(kb_sub(load_part(v + j, k, -INFINITY), mv));
        store_part(v + j, k, e);
        s0 = kb_add(s0, e);
    }
    return kb_hsum(kb_add(s0, s1));
}

static void finish_row(float *pi, int bc, float m_prev, float l_prev, float m, float *m_out, float *l_out, float *rescale) {
    if (m == -INFINITY) {
        memset(pi, 0, (size_t)bc * sizeof(float));
        *m_out = -INFINITY;
        *rescale = 1.0f;
        *l_out = l_prev;
        return;
    }
    const float sum = exp_and_sum_row(pi, bc, m);
    /* first tile (m = -inf): exp(-inf) = 0 without the vector exp, whose clamped argument ends in a subnormal
     * product (a microcode assist of ~100 cycles per row on x86) */
    const float r = m_prev == -INFINITY ? 0.0f : exp1(m_prev - m);
    *m_out = m;
    *rescale = r;
    *l_out = l_prev * r + sum;
}

/* one vector of S (`valid` columns inside the tile): scale or softcap, + slope*mask, store; returns the new max */
static inline kb_f32v epilogue_vec(kb_f32v acc, float *ps, const float *ms, int valid, float scale, float slope,
                                   float softcap, kb_f32v mx) {
    kb_f32v s = softcap != 0.0f ? kb_mul(kb_splat(softcap), kb_tanh(kb_mul(acc, kb_splat(scale / softcap))))
                                : kb_mul(acc, kb_splat(scale));
    if (valid >= KB_LANES) {
        s = kb_fma(kb_loadu(ms), kb_splat(slope), s);
        kb_storeu(ps, s);
    } else { /* padded lanes get mask -inf: S = -inf there, ignored by the max */
        s = kb_fma(load_part(ms, valid, -INFINITY), kb_splat(slope), s);
        store_part(ps, valid, s);
    }
    return kb_max(mx, s);
}

/* s[j] = qa . k_j for the n <= 8 key rows from k (row stride d) */
static void dot8(const float *qa, const float *k, int n, int d, float *s) {
    const int dv = d - d % KB_LANES;
    if (n == 8) {
        kb_f32v a[8];
        for (int j = 0; j < 8; j++) a[j] = kb_zero();
        for (int t = 0; t < dv; t += KB_LANES) {
            const kb_f32v x = kb_loadu(qa + t);
            for (int j = 0; j < 8; j++) a[j] = kb_fma(x, kb_loadu(k + (long)j * d + t), a[j]);
        }
#if defined(__AVX2__) && defined(__FMA__)
        /* lane j of the result = the sum of a[j]'s lanes: hadd pairs, pairs of pairs, then the two 128-bit halves */
        const __m256 g0 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
        const __m256 g1 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
        _mm256_storeu_ps(s, _mm256_add_ps(_mm256_permute2f128_ps(g0, g1, 0x20), _mm256_permute2f128_ps(g0, g1, 0x31)));
#else
        for (int j = 0; j < 8; j++) s[j] = kb_hsum(a[j]);
#endif
    } else {
        for (int j = 0; j < n; j++) {
            kb_f32v a = kb_zero();
            for (int t = 0; t < dv; t += KB_LANES) a = kb_fma(kb_loadu(qa + t), kb_loadu(k + (long)j * d + t), a);
            s[j] = kb_hsum(a);
        }
    }
    for (int j = 0; j < n; j++)
        for (int t = dv; t < d; t++) s[j] += qa[t] * k[(long)j * d + t];
}

/* one query row against all bc key rows, 8 at a time, epilogue fused; returns max(m, rowmax S) */
static float dot_row(const float *qa, const float *k, const float *mr, float *pr, int bc, int d, float scale, float slope,
                     float softcap, float m) {
    kb_f32v mx = kb_splat(m);
    float s[8];
    for (int j = 0; j < bc; j += 8) {
        const int n = bc - j < 8 ? bc - j : 8;
        dot8(qa, k + (long)j * d, n, d, s);
        for (int h = 0; h < n; h += KB_LANES)
            mx = epilogue_vec(kb_loadu(s + h), pr + j + h, mr + j + h, n - h, scale, slope, softcap, mx);
    }
    return kb_hmax(mx);
}

/* Kt[t][j] = K[c0 + j][t] for j < nc, 0 up to ncp */
static void pack(const float *k, float *kt, int c0, int nc, int ncp, int d) {
    int j0 = 0;
#if defined(__AVX2__) && defined(__FMA__)
    for (; j0 + 8 <= nc; j0 += 8) {
        const float *kr = k + (long)(c0 + j0) * d;
        int t = 0;
        for (; t + 8 <= d; t += 8) {
            __m256 r[8], u[8], v[8];
            for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(kr + (long)j * d + t);
            for (int j = 0; j < 8; j += 2) {
                u[j] = _mm256_unpacklo_ps(r[j], r[j + 1]);
                u[j + 1] = _mm256_unpackhi_ps(r[j], r[j + 1]);
            }
            for (int j = 0; j < 8; j += 4) {
                v[j] = _mm256_shuffle_ps(u[j], u[j + 2], _MM_SHUFFLE(1, 0, 1, 0));
                v[j + 1] = _mm256_shuffle_ps(u[j], u[j + 2], _MM_SHUFFLE(3, 2, 3, 2));
                v[j + 2] = _mm256_shuffle_ps(u[j + 1], u[j + 3], _MM_SHUFFLE(1, 0, 1, 0));
                v[j + 3] = _mm256_shuffle_ps(u[j + 1], u[j + 3], _MM_SHUFFLE(3, 2, 3, 2));
            }
            for (int x = 0; x < 4; x++) {
                _mm256_storeu_ps(kt + (long)(t + x) * ncp + j0, _mm256_permute2f128_ps(v[x], v[x + 4], 0x20));
                _mm256_storeu_ps(kt + (long)(t + x + 4) * ncp + j0, _mm256_permute2f128_ps(v[x], v[x + 4], 0x31));
            }
        }
        for (; t < d; t++)
            for (int j = 0; j < 8; j++) kt[(long)t * ncp + j0 + j] = kr[(long)j * d + t];
    }
#endif
    for (int t = 0; t < d; t++)
        for (int j = j0; j < ncp; j++) kt[(long)t * ncp + j] = j < nc ? k[(long)(c0 + j) * d + t] : 0.0f;
}

/* rows i..i+nr-1 (nr <= MR, a constant after inlining) x packed columns [0, nc) of Kt; c0 = first tile column;
 * mrun = running row maxima */
static inline __attribute__((always_inline)) void packed_rows(const float *q, const float *kt, const float *mask, float *p,
                                                              float *mrun, int i, int nr, int c0, int nc, int ncp, int bc,
                                                              int d, float scale, float slope, float softcap) {
    const float *qr[MR];
    for (int r = 0; r < nr; r++) qr[r] = q + (long)(i + r) * d;
    for (int jb = 0; jb < nc; jb += CB) {
        kb_f32v acc[MR][2];
        for (int r = 0; r < nr; r++) acc[r][0] = acc[r][1] = kb_zero();
        const float *kp = kt + jb;
        for (int t = 0; t < d; t++, kp += ncp) {
            const kb_f32v k0 = kb_loadu(kp), k1 = kb_loadu(kp + KB_LANES);
            for (int r = 0; r < nr; r++) {
                const kb_f32v b = kb_splat(qr[r][t]);
                acc[r][0] = kb_fma(b, k0, acc[r][0]);
                acc[r][1] = kb_fma(b, k1, acc[r][1]);
            }
        }
        for (int r = 0; r < nr; r++) {
            const long row = (long)(i + r) * bc;
            kb_f32v mx = kb_splat(mrun[i + r]);
            for (int h = 0; h < 2; h++) {
                const int col = c0 + jb + h * KB_LANES, valid = nc - jb - h * KB_LANES;
                if (valid <= 0) break;
                mx = epilogue_vec(acc[r][h], p + row + col, mask + row + col, valid, scale, slope, softcap, mx);
            }
            mrun[i + r] = kb_hmax(mx);
        }
    }
}

void fa_kq_tile(const float *q, const float *k, const float *mask, const float *m_in, const float *l_in, float *p,
                float *m_out, float *l_out, float *rescale, int br, int bc, int d, float scale, float slope,
                float softcap) {
    const int cw = d > 0 ? KT_CAP / d / CB * CB : 0;
    /* rows in blocks of 6, then one block of 4 (a 64-row tile: 10 x 6 + 4), the rest by dot products */
    const int six_end = br >= MR && cw >= CB ? br - br % MR : 0;
    const int packed_end = six_end + (cw >= CB && br - six_end >= 4 ? 4 : 0);
    for (int i = 0; i < packed_end; i++) m_out[i] = m_in[i];
    if (packed_end > 0) {
        float kt[KT_CAP];
        for (int c0 = 0; c0 < bc; c0 += cw) {
            const int nc = bc - c0 < cw ? bc - c0 : cw, ncp = (nc + CB - 1) / CB * CB;
            pack(k, kt, c0, nc, ncp, d);
            for (int i = 0; i < six_end; i += MR)
                packed_rows(q, kt, mask, p, m_out, i, MR, c0, nc, ncp, bc, d, scale, slope, softcap);
            if (packed_end > six_end) packed_rows(q, kt, mask, p, m_out, six_end, 4, c0, nc, ncp, bc, d, scale, slope, softcap);
        }
    }
    for (int i = packed_end; i < br; i++)
        m_out[i] = dot_row(q + (long)i * d, k, mask + (long)i * bc, p + (long)i * bc, bc, d, scale, slope, softcap, m_in[i]);
    for (int i = 0; i < br; i++)
        finish_row(p + (long)i * bc, bc, m_in[i], l_in[i], m_out[i], m_out + i, l_out + i, rescale + i);
}
