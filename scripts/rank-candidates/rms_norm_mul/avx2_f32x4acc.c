/* rms_norm_mul, measurement variant: hand-written AVX2, float sum of squares over four FMA accumulators (re-summed
 * in double when not finite), fused scale*w two vectors at a time. */
#include <float.h>
#include <math.h>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
static float sumsq_f32(const float *x, int n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8), v2 = _mm256_loadu_ps(x + i + 16), v3 = _mm256_loadu_ps(x + i + 24);
        a0 = _mm256_fmadd_ps(v0, v0, a0);
        a1 = _mm256_fmadd_ps(v1, v1, a1);
        a2 = _mm256_fmadd_ps(v2, v2, a2);
        a3 = _mm256_fmadd_ps(v3, v3, a3);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        a0 = _mm256_fmadd_ps(v, v, a0);
    }
    __m256 s8 = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    float s = _mm_cvtss_f32(_mm_add_ss(s4, _mm_movehdup_ps(s4)));
    for (; i < n; i++) s += x[i] * x[i];
    return s;
}
static void scale_mul(const float *x, const float *w, float *y, int n, float scale) {
    const __m256 vs = _mm256_set1_ps(scale);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vs), _mm256_loadu_ps(w + i)));
        _mm256_storeu_ps(y + i + 8, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8), vs), _mm256_loadu_ps(w + i + 8)));
    }
    for (; i < n; i++) y[i] = x[i] * scale * w[i];
}
#else
static float sumsq_f32(const float *x, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += x[i] * x[i];
    return s;
}
static void scale_mul(const float *x, const float *w, float *y, int n, float scale) {
    for (int i = 0; i < n; i++) y[i] = x[i] * scale * w[i];
}
#endif
void rms_norm_mul(const float *x, const float *w, float *y, float *t, int n, int rows, float eps, int ith, int nth) {
    (void)t;
    for (int r = ith; r < rows; r += nth) {
        const float *xr = x + (long)r * n;
        double sum = sumsq_f32(xr, n);
        if (!(sum <= FLT_MAX)) {
            sum = 0.0;
            for (int i = 0; i < n; i++) sum += (double)xr[i] * (double)xr[i];
        }
        const float scale = (float)(1.0 / sqrt(sum / n + (double)eps));
        scale_mul(xr, w, y + (long)r * n, n, scale);
    }
}
