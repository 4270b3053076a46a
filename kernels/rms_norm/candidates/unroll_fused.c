/* rms_norm candidate unroll_fused: raw intrinsics per target (AVX2+FMA, NEON A64, WASM SIMD128, scalar fallback).
 * Same two passes as vec4 (float sum of squares, then one fused y = x * scale pass) but the reduction runs
 * 4 accumulators x 2 loads each (8 vectors per iteration: 64 floats on AVX2) and on AVX2 the tail is one masked
 * load/store instead of a scalar loop, so short and odd rows (n = 15, 17, 33) stay vectorized.
 * A row whose float sum is not finite is summed again in double (see vec4), so huge inputs stay correct. */
#include <float.h>
#include <math.h>
#include <stdint.h>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

/* lanes [0, k) enabled, 0 <= k < 8 */
static inline __m256i tail_mask(int k) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static float sumsq_f32(const float *x, int n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 64 <= n; i += 64) {
        __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
        __m256 v2 = _mm256_loadu_ps(x + i + 16), v3 = _mm256_loadu_ps(x + i + 24);
        a0 = _mm256_fmadd_ps(v0, v0, a0);
        a1 = _mm256_fmadd_ps(v1, v1, a1);
        a2 = _mm256_fmadd_ps(v2, v2, a2);
        a3 = _mm256_fmadd_ps(v3, v3, a3);
        v0 = _mm256_loadu_ps(x + i + 32), v1 = _mm256_loadu_ps(x + i + 40);
        v2 = _mm256_loadu_ps(x + i + 48), v3 = _mm256_loadu_ps(x + i + 56);
        a0 = _mm256_fmadd_ps(v0, v0, a0);
        a1 = _mm256_fmadd_ps(v1, v1, a1);
        a2 = _mm256_fmadd_ps(v2, v2, a2);
        a3 = _mm256_fmadd_ps(v3, v3, a3);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        a0 = _mm256_fmadd_ps(v, v, a0);
    }
    if (i < n) {
        __m256 v = _mm256_maskload_ps(x + i, tail_mask(n - i)); /* masked-off lanes read as 0, never touch memory */
        a1 = _mm256_fmadd_ps(v, v, a1);
    }
    __m256 s8 = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static void scale_row(const float *x, float *y, int n, float scale) {
    const __m256 vs = _mm256_set1_ps(scale);
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vs));
        _mm256_storeu_ps(y + i + 8, _mm256_mul_ps(_mm256_loadu_ps(x + i + 8), vs));
        _mm256_storeu_ps(y + i + 16, _mm256_mul_ps(_mm256_loadu_ps(x + i + 16), vs));
        _mm256_storeu_ps(y + i + 24, _mm256_mul_ps(_mm256_loadu_ps(x + i + 24), vs));
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vs));
    if (i < n) {
        __m256i m = tail_mask(n - i);
        _mm256_maskstore_ps(y + i, m, _mm256_mul_ps(_mm256_maskload_ps(x + i, m), vs));
    }
}

#elif defined(__ARM_NEON) && defined(__aarch64__)
#include <arm_neon.h>

static float sumsq_f32(const float *x, int n) {
    float32x4_t a0 = vdupq_n_f32(0), a1 = vdupq_n_f32(0), a2 = vdupq_n_f32(0), a3 = vdupq_n_f32(0);
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        float32x4x4_t v = vld1q_f32_x4(x + i), w = vld1q_f32_x4(x + i + 16);
        a0 = vfmaq_f32(a0, v.val[0], v.val[0]);
        a1 = vfmaq_f32(a1, v.val[1], v.val[1]);
        a2 = vfmaq_f32(a2, v.val[2], v.val[2]);
        a3 = vfmaq_f32(a3, v.val[3], v.val[3]);
        a0 = vfmaq_f32(a0, w.val[0], w.val[0]);
        a1 = vfmaq_f32(a1, w.val[1], w.val[1]);
        a2 = vfmaq_f32(a2, w.val[2], w.val[2]);
        a3 = vfmaq_f32(a3, w.val[3], w.val[3]);
    }
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vld1q_f32(x + i);
        a0 = vfmaq_f32(a0, v, v);
    }
    float s = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
    for (; i < n; i++) s += x[i] * x[i];
    return s;
}

static void scale_row(const float *x, float *y, int n, float scale) {
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4x4_t v = vld1q_f32_x4(x + i);
        v.val[0] = vmulq_n_f32(v.val[0], scale);
        v.val[1] = vmulq_n_f32(v.val[1], scale);
        v.val[2] = vmulq_n_f32(v.val[2], scale);
        v.val[3] = vmulq_n_f32(v.val[3], scale);
        vst1q_f32_x4(y + i, v);
    }
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vmulq_n_f32(vld1q_f32(x + i), scale));
    for (; i < n; i++) y[i] = x[i] * scale;
}

#elif defined(__wasm_simd128__)
#include <wasm_simd128.h>

static float sumsq_f32(const float *x, int n) {
    v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        for (int k = 0; k < 32; k += 16) {
            v128_t v0 = wasm_v128_load(x + i + k), v1 = wasm_v128_load(x + i + k + 4);
            v128_t v2 = wasm_v128_load(x + i + k + 8), v3 = wasm_v128_load(x + i + k + 12);
            a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(v0, v0));
            a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(v1, v1));
            a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(v2, v2));
            a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(v3, v3));
        }
    }
    for (; i + 4 <= n; i += 4) {
        v128_t v = wasm_v128_load(x + i);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(v, v));
    }
    v128_t s4 = wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3));
    s4 = wasm_f32x4_add(s4, wasm_i32x4_shuffle(s4, s4, 2, 3, 0, 1));
    s4 = wasm_f32x4_add(s4, wasm_i32x4_shuffle(s4, s4, 1, 0, 3, 2));
    float s = wasm_f32x4_extract_lane(s4, 0);
    for (; i < n; i++) s += x[i] * x[i];
    return s;
}

static void scale_row(const float *x, float *y, int n, float scale) {
    const v128_t vs = wasm_f32x4_splat(scale);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        wasm_v128_store(y + i, wasm_f32x4_mul(wasm_v128_load(x + i), vs));
        wasm_v128_store(y + i + 4, wasm_f32x4_mul(wasm_v128_load(x + i + 4), vs));
        wasm_v128_store(y + i + 8, wasm_f32x4_mul(wasm_v128_load(x + i + 8), vs));
        wasm_v128_store(y + i + 12, wasm_f32x4_mul(wasm_v128_load(x + i + 12), vs));
    }
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_f32x4_mul(wasm_v128_load(x + i), vs));
    for (; i < n; i++) y[i] = x[i] * scale;
}

#else
/* scalar: four accumulators break the dependency chain; the compiler may vectorize both loops */
static float sumsq_f32(const float *x, int n) {
    float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        a0 += x[i] * x[i];
        a1 += x[i + 1] * x[i + 1];
        a2 += x[i + 2] * x[i + 2];
        a3 += x[i + 3] * x[i + 3];
    }
    for (; i < n; i++) a0 += x[i] * x[i];
    return (a0 + a1) + (a2 + a3);
}

static void scale_row(const float *x, float *y, int n, float scale) {
    for (int i = 0; i < n; i++) y[i] = x[i] * scale;
}
#endif

static double sumsq_f64(const float *x, int n) {
    double s = 0.0;
    for (int i = 0; i < n; i++) s += (double)x[i] * (double)x[i];
    return s;
}

void rms_norm(const float *x, float *y, int n, int rows, float eps, int ith, int nth) {
    for (int r = ith; r < rows; r += nth) {
        const float *xr = x + (long)r * n;
        float *yr = y + (long)r * n;
        double sum = sumsq_f32(xr, n);
        if (!(sum <= FLT_MAX)) sum = sumsq_f64(xr, n);
        const float scale = (float)(1.0 / sqrt(sum / n + (double)eps));
        scale_row(xr, yr, n, scale);
    }
}
