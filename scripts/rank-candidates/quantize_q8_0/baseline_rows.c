/* quantize_q8_0, measurement variant of baseline.c: simd.c's thread split (whole rows when rows >= nth). */
/* quantize_q8_0 baseline: what ggml runs today for mul_mat's from_float (ggml-cpu ggml_compute_forward_mul_mat),
 * written here from its description (never copied): the per-architecture quantize_row_q8_0 and mul_mat's split.
 * Split: every thread quantizes its slice of *every* row, blocks [ith*nb/nth, (ith+1)*nb/nth), so each row is cut
 * into nth pieces. Quantizer, per 32-float block: max|x| as a vector max of absolute values then one horizontal
 * max; d = max/127 stored as f16 (round to nearest even); q = x * (127/max) (0 when max = 0) rounded to nearest,
 * ties to even, by the float->int conversion (AVX2 cvtps2dq as ggml's x86 path, NEON fcvtns as its ARM path),
 * narrowed with saturating packs. WASM SIMD: ggml's wasm path multiplies by 1/d and *truncates* (trunc_sat), a
 * bias of up to one step on half the quants that fails kbench's check; this baseline keeps its structure but
 * rounds to nearest even (f32x4.nearest), a documented decision (NOTES.md). Other targets: the same arithmetic in
 * scalar C. The quantizer is the one of candidates/simd.c (kbench's own code); only the split differs. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__F16C__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#elif defined(__ARM_NEON) && defined(__aarch64__)
#include <arm_neon.h>
#elif defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

#if defined(__F16C__)
static inline uint16_t half_bits(float f) { return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT); }
#elif defined(__ARM_NEON) && defined(__aarch64__)
static inline uint16_t half_bits(float f) {
    return vget_lane_u16(vreinterpret_u16_f16(vcvt_f16_f32(vdupq_n_f32(f))), 0);
}
#else
/* IEEE half bits from a float, round to nearest even, by integer arithmetic on the float's bits (the classic
 * approach, e.g. F. Giesen, "Float->half variations", 2013): NaN, >= 65520 (and inf) to inf, below 2^-14 a
 * subnormal half (adding 0.5 puts the value's units of 2^-24 in the low mantissa bits; the FPU rounds to even),
 * else round to nearest even at bit 13 (a mantissa carry bumps the exponent, which is right). */
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
#endif

static inline void store_d(uint8_t *y, float d) {
    const uint16_t h = half_bits(d);
    y[0] = (uint8_t)(h & 0xff);
    y[1] = (uint8_t)(h >> 8);
}

#if defined(__AVX2__) && defined(__FMA__)
/* f32 -> f16 bits as ggml's CPU backend converts the scale on x86 (its build uses no F16C instruction here): the
 * float-arithmetic method of M. Dukhan's FP16 library (fp16_ieee_from_fp32_value, MIT): scale |f| by 2^112 then
 * 2^-110 so that adding a bias float built from the exponent makes the FPU round the mantissa to the half's 10
 * bits, then read exponent and mantissa from the sum's bits; NaN becomes 0x7e00. Round to nearest even. */
static inline uint16_t half_bits_x86(float f) {
    uint32_t w, aw, bb, bits;
    float a, bf;
    memcpy(&w, &f, 4);
    aw = w & 0x7fffffffu;
    memcpy(&a, &aw, 4);
    float base = (a * 0x1.0p+112f) * 0x1.0p-110f;
    const uint32_t shl1 = w + w, sign = w & 0x80000000u;
    uint32_t bias = shl1 & 0xff000000u;
    if (bias < 0x71000000u) bias = 0x71000000u;
    bb = (bias >> 1) + 0x07800000u;
    memcpy(&bf, &bb, 4);
    base = bf + base;
    memcpy(&bits, &base, 4);
    const uint32_t nonsign = ((bits >> 13) & 0x7c00u) + (bits & 0x0fffu);
    return (uint16_t)((sign >> 16) | (shl1 > 0xff000000u ? 0x7e00u : nonsign));
}

/* x86: ggml's AVX2 quantize_row_q8_0 as described: rounds with roundps (nearest even) and then converts. */
static inline __m256i quant8(__m256 v, __m256 id) {
    return _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v, id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

static void quantize_blocks(const float *x, uint8_t *y, long nblocks) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (long b = 0; b < nblocks; b++, x += 32, y += 34) {
        __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8), v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                                 _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        const uint16_t h = half_bits_x86(amax / 127.0f);
        y[0] = (uint8_t)(h & 0xff);
        y[1] = (uint8_t)(h >> 8);
        const __m256 id = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
        __m256i i0 = quant8(v0, id), i1 = quant8(v1, id), i2 = quant8(v2, id), i3 = quant8(v3, id);
        /* packs work within 128-bit lanes: the bytes come out in 32-bit groups ordered 0 4 1 5 2 6 3 7 */
        __m256i q = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
        _mm256_storeu_si256((__m256i *)(y + 2), _mm256_permutevar8x32_epi32(q, order));
    }
}

#elif defined(__ARM_NEON) && defined(__aarch64__)
static void quantize_blocks(const float *x, uint8_t *y, long nblocks) {
    for (long b = 0; b < nblocks; b++, x += 32, y += 34) {
        float32x4x4_t a = vld1q_f32_x4(x), c = vld1q_f32_x4(x + 16);
        float32x4_t m = vmaxq_f32(vmaxq_f32(vabsq_f32(a.val[0]), vabsq_f32(a.val[1])), vmaxq_f32(vabsq_f32(a.val[2]), vabsq_f32(a.val[3])));
        m = vmaxq_f32(m, vmaxq_f32(vmaxq_f32(vabsq_f32(c.val[0]), vabsq_f32(c.val[1])), vmaxq_f32(vabsq_f32(c.val[2]), vabsq_f32(c.val[3]))));
        const float amax = vmaxvq_f32(m);
        store_d(y, amax / 127.0f);
        const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f; /* ggml's NEON path: 1/d */
        int16x8_t h0 = vcombine_s16(vmovn_s32(vcvtnq_s32_f32(vmulq_n_f32(a.val[0], id))), vmovn_s32(vcvtnq_s32_f32(vmulq_n_f32(a.val[1], id))));
        int16x8_t h1 = vcombine_s16(vmovn_s32(vcvtnq_s32_f32(vmulq_n_f32(a.val[2], id))), vmovn_s32(vcvtnq_s32_f32(vmulq_n_f32(a.val[3], id))));
        int16x8_t h2 = vcombine_s16(vmovn_s32(vcvtnq_s32_f32(vmulq_n_f32(c.val[0], id))), vmovn_s32(vcvtnq_s32_f32(vmulq_n_f32(c.val[1], id))));
        int16x8_t h3 = vcombine_s16(vmovn_s32(vcvtnq_s32_f32(vmulq_n_f32(c.val[2], id))), vmovn_s32(vcvtnq_s32_f32(vmulq_n_f32(c.val[3], id))));
        vst1q_s8((int8_t *)(y + 2), vcombine_s8(vmovn_s16(h0), vmovn_s16(h1)));
        vst1q_s8((int8_t *)(y + 18), vcombine_s8(vmovn_s16(h2), vmovn_s16(h3)));
    }
}

#elif defined(__wasm_simd128__)
static inline v128_t quant4(v128_t v, v128_t id) { return wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(v, id))); }

static void quantize_blocks(const float *x, uint8_t *y, long nblocks) {
    for (long b = 0; b < nblocks; b++, x += 32, y += 34) {
        v128_t v[8];
        v128_t m = wasm_f32x4_splat(0.0f);
        for (int k = 0; k < 8; k++) {
            v[k] = wasm_v128_load(x + 4 * k);
            m = wasm_f32x4_pmax(m, wasm_f32x4_abs(v[k]));
        }
        m = wasm_f32x4_pmax(m, wasm_i32x4_shuffle(m, m, 2, 3, 0, 1));
        m = wasm_f32x4_pmax(m, wasm_i32x4_shuffle(m, m, 1, 0, 3, 2));
        const float amax = wasm_f32x4_extract_lane(m, 0);
        store_d(y, amax / 127.0f);
        const v128_t id = wasm_f32x4_splat(amax != 0.0f ? 127.0f / amax : 0.0f);
        v128_t h0 = wasm_i16x8_narrow_i32x4(quant4(v[0], id), quant4(v[1], id));
        v128_t h1 = wasm_i16x8_narrow_i32x4(quant4(v[2], id), quant4(v[3], id));
        v128_t h2 = wasm_i16x8_narrow_i32x4(quant4(v[4], id), quant4(v[5], id));
        v128_t h3 = wasm_i16x8_narrow_i32x4(quant4(v[6], id), quant4(v[7], id));
        wasm_v128_store(y + 2, wasm_i8x16_narrow_i16x8(h0, h1));
        wasm_v128_store(y + 18, wasm_i8x16_narrow_i16x8(h2, h3));
    }
}

#else
/* scalar: round to nearest even with the 1.5*2^23 trick (|x*id| <= 127, so it is exact), no libm call */
static void quantize_blocks(const float *x, uint8_t *y, long nblocks) {
    for (long b = 0; b < nblocks; b++, x += 32, y += 34) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) {
            const float a = fabsf(x[j]);
            amax = a > amax ? a : amax; /* not fmaxf(): it may be a library call */
        }
        store_d(y, amax / 127.0f);
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        for (int j = 0; j < 32; j++) {
            const float t = x[j] * id + 12582912.0f; /* not folded away: (a + c) - c != a in IEEE arithmetic */
            y[2 + j] = (uint8_t)(int8_t)(int)(t - 12582912.0f);
        }
    }
}
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
