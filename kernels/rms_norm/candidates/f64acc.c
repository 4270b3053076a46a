/* rms_norm candidate f64acc: correct by design instead of by rescue. The sum of squares is accumulated in
 * double, as ggml and the reference do, but vectorized: floats are widened to double lanes (AVX2: 4 per
 * __m256d with FMA; NEON A64: 2 per float64x2_t; WASM: f64x2 from f32x4 halves; scalar: plain double) and
 * squared in double, so neither x^2 (|x| > 1.8e19) nor the sum can overflow. Half the lanes of a float sum:
 * this candidate measures what "no overflow, no branch" costs against vec4's float sum + double rescue. */
#include <math.h>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
static double sumsq(const float *x, int n) {
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 v = _mm256_loadu_ps(x + i), w = _mm256_loadu_ps(x + i + 8);
        __m256d d0 = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), d1 = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
        __m256d d2 = _mm256_cvtps_pd(_mm256_castps256_ps128(w)), d3 = _mm256_cvtps_pd(_mm256_extractf128_ps(w, 1));
        a0 = _mm256_fmadd_pd(d0, d0, a0);
        a1 = _mm256_fmadd_pd(d1, d1, a1);
        a2 = _mm256_fmadd_pd(d2, d2, a2);
        a3 = _mm256_fmadd_pd(d3, d3, a3);
    }
    __m256d s4 = _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3));
    __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
    double s = _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));
    for (; i < n; i++) s += (double)x[i] * (double)x[i];
    return s;
}
static void scale_row(const float *x, float *y, int n, float scale) {
    const __m256 vs = _mm256_set1_ps(scale);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vs));
        _mm256_storeu_ps(y + i + 8, _mm256_mul_ps(_mm256_loadu_ps(x + i + 8), vs));
    }
    for (; i < n; i++) y[i] = x[i] * scale;
}

#elif defined(__ARM_NEON) && defined(__aarch64__)
#include <arm_neon.h>
static double sumsq(const float *x, int n) {
    float64x2_t a0 = vdupq_n_f64(0), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        float32x4_t v = vld1q_f32(x + i), w = vld1q_f32(x + i + 4);
        float64x2_t d0 = vcvt_f64_f32(vget_low_f32(v)), d1 = vcvt_high_f64_f32(v);
        float64x2_t d2 = vcvt_f64_f32(vget_low_f32(w)), d3 = vcvt_high_f64_f32(w);
        a0 = vfmaq_f64(a0, d0, d0);
        a1 = vfmaq_f64(a1, d1, d1);
        a2 = vfmaq_f64(a2, d2, d2);
        a3 = vfmaq_f64(a3, d3, d3);
    }
    double s = vaddvq_f64(vaddq_f64(vaddq_f64(a0, a1), vaddq_f64(a2, a3)));
    for (; i < n; i++) s += (double)x[i] * (double)x[i];
    return s;
}
static void scale_row(const float *x, float *y, int n, float scale) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        vst1q_f32(y + i, vmulq_n_f32(vld1q_f32(x + i), scale));
        vst1q_f32(y + i + 4, vmulq_n_f32(vld1q_f32(x + i + 4), scale));
    }
    for (; i < n; i++) y[i] = x[i] * scale;
}

#elif defined(__wasm_simd128__)
#include <wasm_simd128.h>
static double sumsq(const float *x, int n) {
    v128_t a0 = wasm_f64x2_splat(0), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        v128_t v = wasm_v128_load(x + i), w = wasm_v128_load(x + i + 4);
        v128_t d0 = wasm_f64x2_promote_low_f32x4(v), d1 = wasm_f64x2_promote_low_f32x4(wasm_i64x2_shuffle(v, v, 1, 0));
        v128_t d2 = wasm_f64x2_promote_low_f32x4(w), d3 = wasm_f64x2_promote_low_f32x4(wasm_i64x2_shuffle(w, w, 1, 0));
        a0 = wasm_f64x2_add(a0, wasm_f64x2_mul(d0, d0));
        a1 = wasm_f64x2_add(a1, wasm_f64x2_mul(d1, d1));
        a2 = wasm_f64x2_add(a2, wasm_f64x2_mul(d2, d2));
        a3 = wasm_f64x2_add(a3, wasm_f64x2_mul(d3, d3));
    }
    v128_t s2 = wasm_f64x2_add(wasm_f64x2_add(a0, a1), wasm_f64x2_add(a2, a3));
    double s = wasm_f64x2_extract_lane(s2, 0) + wasm_f64x2_extract_lane(s2, 1);
    for (; i < n; i++) s += (double)x[i] * (double)x[i];
    return s;
}
static void scale_row(const float *x, float *y, int n, float scale) {
    const v128_t vs = wasm_f32x4_splat(scale);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        wasm_v128_store(y + i, wasm_f32x4_mul(wasm_v128_load(x + i), vs));
        wasm_v128_store(y + i + 4, wasm_f32x4_mul(wasm_v128_load(x + i + 4), vs));
    }
    for (; i < n; i++) y[i] = x[i] * scale;
}

#else
static double sumsq(const float *x, int n) {
    double a0 = 0, a1 = 0;
    int i = 0;
    for (; i + 2 <= n; i += 2) {
        a0 += (double)x[i] * (double)x[i];
        a1 += (double)x[i + 1] * (double)x[i + 1];
    }
    if (i < n) a0 += (double)x[i] * (double)x[i];
    return a0 + a1;
}
static void scale_row(const float *x, float *y, int n, float scale) {
    for (int i = 0; i < n; i++) y[i] = x[i] * scale;
}
#endif

void rms_norm(const float *x, float *y, int n, int rows, float eps, int ith, int nth) {
    for (int r = ith; r < rows; r += nth) {
        const float *xr = x + (long)r * n;
        const float scale = (float)(1.0 / sqrt(sumsq(xr, n) / n + (double)eps));
        scale_row(xr, y + (long)r * n, n, scale);
    }
}
