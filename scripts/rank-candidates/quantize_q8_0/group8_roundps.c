/* quantize_q8_0, measurement variant (scripts/rank-candidates, never part of the suite): group8_avx2.c with the
 * eight scales converted to f16 one at a time by the scalar integer routine, and roundps before cvtps2dq as in
 * ggml's AVX2 quantizer (the vector max tree and the two vector divides are kept): a slower grade of group8. */
#include <stdint.h>
#include <string.h>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

/* IEEE half bits, round to nearest even (integer arithmetic on the float's bits, as baseline.c) */
static inline uint16_t half_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    u &= 0x7fffffff;
    if (u > 0x7f800000) return sign | 0x7e00;
    if (u >= 0x477ff000) return sign | 0x7c00;
    if (u < 0x38800000) {
        float a, half = 0.5f;
        memcpy(&a, &u, 4);
        a += half;
        memcpy(&u, &a, 4);
        return sign | (uint16_t)(u - 0x3f000000);
    }
    u += 0xfff + ((u >> 13) & 1);
    return sign | (uint16_t)((u >> 13) - (112 << 10));
}

static void quantize_scalar(const float *x, uint8_t *y, long nblocks) {
    for (long b = 0; b < nblocks; b++, x += 32, y += 34) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) {
            const float a = x[j] < 0.0f ? -x[j] : x[j];
            amax = a > amax ? a : amax;
        }
        const uint16_t h = half_bits(amax / 127.0f);
        y[0] = (uint8_t)(h & 0xff);
        y[1] = (uint8_t)(h >> 8);
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        for (int j = 0; j < 32; j++) {
            const float t = x[j] * id + 12582912.0f; /* round to nearest even, exact for |t| <= 127 */
            y[2 + j] = (uint8_t)(int8_t)(int)(t - 12582912.0f);
        }
    }
}

#if defined(__AVX2__) && defined(__FMA__)
static inline __m256 absmax_block(const float *x) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    return _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x)), _mm256_andnot_ps(sign, _mm256_loadu_ps(x + 8))),
                         _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + 16)), _mm256_andnot_ps(sign, _mm256_loadu_ps(x + 24))));
}

/* lane b of the result = max over the 8 lanes of m[b] */
static inline __m256 hmax8x8(const __m256 *m) {
    __m256 t0 = _mm256_max_ps(_mm256_unpacklo_ps(m[0], m[1]), _mm256_unpackhi_ps(m[0], m[1]));
    __m256 t1 = _mm256_max_ps(_mm256_unpacklo_ps(m[2], m[3]), _mm256_unpackhi_ps(m[2], m[3]));
    __m256 t2 = _mm256_max_ps(_mm256_unpacklo_ps(m[4], m[5]), _mm256_unpackhi_ps(m[4], m[5]));
    __m256 t3 = _mm256_max_ps(_mm256_unpacklo_ps(m[6], m[7]), _mm256_unpackhi_ps(m[6], m[7]));
    __m256 u0 = _mm256_max_ps(_mm256_shuffle_ps(t0, t1, _MM_SHUFFLE(1, 0, 1, 0)), _mm256_shuffle_ps(t0, t1, _MM_SHUFFLE(3, 2, 3, 2)));
    __m256 u1 = _mm256_max_ps(_mm256_shuffle_ps(t2, t3, _MM_SHUFFLE(1, 0, 1, 0)), _mm256_shuffle_ps(t2, t3, _MM_SHUFFLE(3, 2, 3, 2)));
    return _mm256_max_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

static inline void quant_block(const float *x, uint8_t *q, __m256 id) {
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x), id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 8), id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 16), id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 24), id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    __m256i v = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
    _mm256_storeu_si256((__m256i *)q, _mm256_permutevar8x32_epi32(v, order));
}

static void quantize_blocks(const float *x, uint8_t *y, long nblocks) {
    long b = 0;
    for (; b + 8 <= nblocks; b += 8, x += 256, y += 272) {
        __m256 m[8];
        for (int k = 0; k < 8; k++) m[k] = absmax_block(x + 32 * k);
        const __m256 amax = hmax8x8(m);
        const __m256 nonzero = _mm256_cmp_ps(amax, _mm256_setzero_ps(), _CMP_NEQ_OQ);
        const __m256 id = _mm256_and_ps(nonzero, _mm256_div_ps(_mm256_set1_ps(127.0f), amax));
        float ds[8], ids[8];
        _mm256_storeu_ps(ds, _mm256_div_ps(amax, _mm256_set1_ps(127.0f)));
        _mm256_storeu_ps(ids, id);
        for (int k = 0; k < 8; k++) {
            const uint16_t hk = half_bits(ds[k]);
            y[34 * k] = (uint8_t)(hk & 0xff);
            y[34 * k + 1] = (uint8_t)(hk >> 8);
            quant_block(x + 32 * k, y + 34 * k + 2, _mm256_broadcast_ss(ids + k));
        }
    }
    quantize_scalar(x, y, nblocks - b);
}
#else
static void quantize_blocks(const float *x, uint8_t *y, long nblocks) { quantize_scalar(x, y, nblocks); }
#endif

void quantize_q8_0(const float *x, uint8_t *y, int n, int rows, int ith, int nth) {
    const long nb = n / 32;
    if (rows >= nth) {
        const long r0 = (long)ith * rows / nth, r1 = (long)(ith + 1) * rows / nth;
        quantize_blocks(x + r0 * n, y + r0 * nb * 34, (r1 - r0) * nb);
        return;
    }
    const long b0 = (long)ith * nb / nth, b1 = (long)(ith + 1) * nb / nth;
    for (long r = 0; r < rows; r++) quantize_blocks(x + r * n + b0 * 32, y + (r * nb + b0) * 34, b1 - b0);
}
