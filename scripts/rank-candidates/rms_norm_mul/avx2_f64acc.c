/* rms_norm_mul, measurement variant: hand-written AVX2, sum of squares in double (4 lanes, FMA), fused scale*w. */
#include <math.h>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
static double sumsq(const float *x, int n) {
    __m256d a0 = _mm256_setzero_pd(), a1 = a0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256d d0 = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), d1 = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
        a0 = _mm256_fmadd_pd(d0, d0, a0);
        a1 = _mm256_fmadd_pd(d1, d1, a1);
    }
    __m256d s4 = _mm256_add_pd(a0, a1);
    __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
    double s = _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));
    for (; i < n; i++) s += (double)x[i] * (double)x[i];
    return s;
}
static void scale_mul(const float *x, const float *w, float *y, int n, float scale) {
    const __m256 vs = _mm256_set1_ps(scale);
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vs), _mm256_loadu_ps(w + i)));
    for (; i < n; i++) y[i] = x[i] * scale * w[i];
}
#else
static double sumsq(const float *x, int n) {
    double s = 0.0;
    for (int i = 0; i < n; i++) s += (double)x[i] * (double)x[i];
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
        const float scale = (float)(1.0 / sqrt(sumsq(xr, n) / n + (double)eps));
        scale_mul(xr, w, y + (long)r * n, n, scale);
    }
}
