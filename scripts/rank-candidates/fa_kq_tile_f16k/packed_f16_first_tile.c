/* fa_kq_tile_f16k, measurement variant (scripts/rank-candidates, never part of the suite): candidates/packed_f16.c
 * with one change, rescale = 0 set directly on a first tile (m = -inf) instead of computed by the vector exp. */
/* fa_kq_tile_f16k candidate packed_f16: f16 K converted and packed transposed once per tile, then the
 * outer-product GEMM with the fused epilogue of ../fa_kq_tile/candidates/packed_epilogue.c.
 * The baseline converts K row by row into an f32 buffer and then runs a dot-product GEMM that ends every S
 * element with a horizontal add. Here the conversion is the packing step: each K row is widened with the
 * vector conversion (F16C / NEON fcvtl / integer bit manipulation on AVX2 without F16C and on WASM) into a
 * small row buffer and written transposed into Kt [D x Bc] (f32, 32 KB on the stack, zero-padded to whole
 * register blocks; larger tiles go in column chunks). So every K element is converted once per tile, as in the
 * baseline, and the conversion buffer *is* the packed panel: the f32 GEMM needs a packed copy anyway, so the
 * conversion costs no extra pass. The GEMM is outer products over D (4 query rows x 2 vectors of key columns =
 * 8 accumulators, no horizontal adds); its epilogue scales (or softcaps), adds slope*mask and folds the row max
 * while S is in registers; exp-and-sum runs per row at the end.
 * With Br < 4 (decode) packing does not pay: each query row takes the 1 x 4 dot-product path with the
 * conversion inside the GEMM (as convert_in_gemm.c) and the fused row epilogue.
 * A row with m' = -inf gives P = 0, rescale = 1, l' = l, m' = -inf (see reference.c). */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "kb_simd.h"

/* Kt capacity in floats (32 KB of stack): D x Bc up to 128 x 64 in one chunk, larger tiles in column chunks */
#define KT_CAP 8192
/* key columns per register block */
#define CB (2 * KB_LANES)
/* one K row widened to f32 before the transposed stores; longer rows are converted in pieces */
#define ROW_CAP 256

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

static inline float dot_tail(const float *a, const uint16_t *b, int t, int d) {
    float s = 0.0f;
    for (; t < d; t++) s += a[t] * half_to_float(b[t]);
    return s;
}

/* S row qa x all bc K rows into sa: 1 x 4 blocks, every K element converted once */
static void qk_one_row(const float *qa, const uint16_t *k, float *sa, int bc, int d) {
    const int dv = d - d % KB_LANES;
    int j = 0;
    for (; j + 4 <= bc; j += 4) {
        const uint16_t *k0 = k + (long)j * d, *k1 = k0 + d, *k2 = k1 + d, *k3 = k2 + d;
        kb_f32v a0 = kb_zero(), a1 = a0, a2 = a0, a3 = a0;
        for (int t = 0; t < dv; t += KB_LANES) {
            kb_f32v x = kb_loadu(qa + t);
            a0 = kb_fma(x, load_half(k0 + t), a0); a1 = kb_fma(x, load_half(k1 + t), a1);
            a2 = kb_fma(x, load_half(k2 + t), a2); a3 = kb_fma(x, load_half(k3 + t), a3);
        }
        sa[j] = kb_hsum(a0) + dot_tail(qa, k0, dv, d);
        sa[j + 1] = kb_hsum(a1) + dot_tail(qa, k1, dv, d);
        sa[j + 2] = kb_hsum(a2) + dot_tail(qa, k2, dv, d);
        sa[j + 3] = kb_hsum(a3) + dot_tail(qa, k3, dv, d);
    }
    for (; j < bc; j++) {
        const uint16_t *k0 = k + (long)j * d;
        kb_f32v a0 = kb_zero();
        for (int t = 0; t < dv; t += KB_LANES) a0 = kb_fma(kb_loadu(qa + t), load_half(k0 + t), a0);
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

/* K rows c0..c0+nc-1 (f16) -> Kt [d x ncp] (f32, transposed, columns nc..ncp-1 zero) */
static void pack_f16(const uint16_t *k, float *kt, int c0, int nc, int ncp, int d) {
    float row[ROW_CAP];
    for (int j = 0; j < nc; j++) {
        const uint16_t *kj = k + (long)(c0 + j) * d;
        for (int t0 = 0; t0 < d; t0 += ROW_CAP) {
            const int n = d - t0 < ROW_CAP ? d - t0 : ROW_CAP;
            int t = 0;
            for (; t + KB_LANES <= n; t += KB_LANES) kb_storeu(row + t, load_half(kj + t0 + t));
            for (; t < n; t++) row[t] = half_to_float(kj[t0 + t]);
            for (t = 0; t < n; t++) kt[(long)(t0 + t) * ncp + j] = row[t];
        }
    }
    for (int t = 0; t < d; t++)
        for (int j = nc; j < ncp; j++) kt[(long)t * ncp + j] = 0.0f;
}

static void tile_packed(const float *q, const uint16_t *k, const float *mask, float *p, float *mrun, int br, int bc,
                        int d, int cw, float scale, float slope, float softcap) {
    float kt[KT_CAP];
    for (int c0 = 0; c0 < bc; c0 += cw) {
        int nc = bc - c0 < cw ? bc - c0 : cw;
        int ncp = (nc + CB - 1) / CB * CB;
        pack_f16(k, kt, c0, nc, ncp, d);
        int i = 0;
        for (; i + 4 <= br; i += 4) packed_rows(q, kt, mask, p, mrun, 4, i, c0, nc, ncp, bc, d, scale, slope, softcap);
        for (; i < br; i++) packed_rows(q, kt, mask, p, mrun, 1, i, c0, nc, ncp, bc, d, scale, slope, softcap);
    }
}

void fa_kq_tile_f16k(const float *q, const uint16_t *k, const float *mask, const float *m_in, const float *l_in,
                     float *p, float *m_out, float *l_out, float *rescale, int br, int bc, int d, float scale,
                     float slope, float softcap) {
    const int cw = d > 0 ? KT_CAP / d / CB * CB : 0;
    if (br >= 4 && cw >= CB) {
        for (int i = 0; i < br; i++) m_out[i] = m_in[i];
        tile_packed(q, k, mask, p, m_out, br, bc, d, cw, scale, slope, softcap);
        for (int i = 0; i < br; i++)
            finish_row(p + (long)i * bc, bc, m_in[i], l_in[i], m_out[i], m_out + i, l_out + i, rescale + i);
        return;
    }
    for (int i = 0; i < br; i++) {
        qk_one_row(q + (long)i * d, k, p + (long)i * bc, bc, d);
        epilogue_row(p + (long)i * bc, mask + (long)i * bc, bc, scale, slope, softcap, m_in[i], l_in[i], m_out + i,
                     l_out + i, rescale + i);
    }
}
