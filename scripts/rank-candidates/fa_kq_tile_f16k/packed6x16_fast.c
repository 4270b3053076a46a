/* fa_kq_tile_f16k, measurement variant (scripts/rank-candidates, never part of the suite): ../fa_kq_tile/
 * packed6x16_fast.c for f16 K. Kt [D x Bc] is packed from the halves: under __AVX2__ each 8 x 8 block of K is
 * loaded as 8 vectors of 8 halves widened by candidates/packed_f16.c's integer conversion (no F16C in the default
 * x86 build) and transposed in registers, elsewhere converted by half_to_float and copied; then the 6 x 16
 * outer-product GEMM with the fused epilogue. Rows left after the blocks of 6 take one block of 4, the rest (and
 * Br < 4: decode) a dot-product path over 8 key rows at a time whose K vectors are widened in registers (each K
 * element converted once per query row), the 8 sums reduced together by hadd under __AVX2__. On a first tile
 * (m = -inf) rescale = exp(-inf) = 0 is set directly.
 * A row with m' = -inf gives P = 0, rescale = 1, l' = l, m' = -inf (see reference.c). */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "kb_simd.h"

/* Kt capacity in floats (32 KB of stack): D x Bc up to 128 x 64 in one chunk */
#define KT_CAP 8192
/* key columns and query rows per register block */
#define CB (2 * KB_LANES)
#define MR 6

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
static void dot8(const float *qa, const uint16_t *k, int n, int d, float *s) {
    const int dv = d - d % KB_LANES;
    if (n == 8) {
        kb_f32v a[8];
        for (int j = 0; j < 8; j++) a[j] = kb_zero();
        for (int t = 0; t < dv; t += KB_LANES) {
            const kb_f32v x = kb_loadu(qa + t);
            for (int j = 0; j < 8; j++) a[j] = kb_fma(x, load_half(k + (long)j * d + t), a[j]);
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
            for (int t = 0; t < dv; t += KB_LANES) a = kb_fma(kb_loadu(qa + t), load_half(k + (long)j * d + t), a);
            s[j] = kb_hsum(a);
        }
    }
    for (int j = 0; j < n; j++)
        for (int t = dv; t < d; t++) s[j] += qa[t] * half_to_float(k[(long)j * d + t]);
}

/* one query row against all bc key rows, 8 at a time, epilogue fused; returns max(m, rowmax S) */
static float dot_row(const float *qa, const uint16_t *k, const float *mr, float *pr, int bc, int d, float scale, float slope,
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
static void pack(const uint16_t *k, float *kt, int c0, int nc, int ncp, int d) {
    int j0 = 0;
#if defined(__AVX2__) && defined(__FMA__)
    for (; j0 + 8 <= nc; j0 += 8) {
        const uint16_t *kr = k + (long)(c0 + j0) * d;
        int t = 0;
        for (; t + 8 <= d; t += 8) {
            __m256 r[8], u[8], v[8];
            for (int j = 0; j < 8; j++) r[j] = load_half(kr + (long)j * d + t);
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
            for (int j = 0; j < 8; j++) kt[(long)t * ncp + j0 + j] = half_to_float(kr[(long)j * d + t]);
    }
#endif
    for (int t = 0; t < d; t++)
        for (int j = j0; j < ncp; j++) kt[(long)t * ncp + j] = j < nc ? half_to_float(k[(long)(c0 + j) * d + t]) : 0.0f;
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

void fa_kq_tile_f16k(const float *q, const uint16_t *k, const float *mask, const float *m_in, const float *l_in,
                     float *p, float *m_out, float *l_out, float *rescale, int br, int bc, int d, float scale,
                     float slope, float softcap) {
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
