/* rms_norm_mul candidate vec_fused: vectorized reduction + fused multiply (kb_simd.h: AVX2+FMA / NEON /
 * WASM SIMD128 / scalar). Sum of squares in float over four independent vector accumulators (FMA where the
 * target has it), re-summed in double only when the float sum is not finite (|x| ~ 1e18 rows overflow it; see
 * ../rms_norm/NOTES.md), then one pass y = (x * scale) * w. */
#include "kb_simd.h"
#include <float.h>
#include <math.h>

static float sumsq_f32(const float *x, int n) {
    kb_f32v a0 = kb_zero(), a1 = kb_zero(), a2 = kb_zero(), a3 = kb_zero();
    int i = 0;
    for (; i + 4 * KB_LANES <= n; i += 4 * KB_LANES) {
        kb_f32v v0 = kb_loadu(x + i), v1 = kb_loadu(x + i + KB_LANES);
        kb_f32v v2 = kb_loadu(x + i + 2 * KB_LANES), v3 = kb_loadu(x + i + 3 * KB_LANES);
        a0 = kb_fma(v0, v0, a0);
        a1 = kb_fma(v1, v1, a1);
        a2 = kb_fma(v2, v2, a2);
        a3 = kb_fma(v3, v3, a3);
    }
    for (; i + KB_LANES <= n; i += KB_LANES) {
        kb_f32v v = kb_loadu(x + i);
        a0 = kb_fma(v, v, a0);
    }
    float s = kb_hsum(kb_add(kb_add(a0, a1), kb_add(a2, a3)));
    for (; i < n; i++) s += x[i] * x[i];
    return s;
}

static double sumsq_f64(const float *x, int n) {
    double s = 0.0;
    for (int i = 0; i < n; i++) s += (double)x[i] * (double)x[i];
    return s;
}

static void scale_mul_row(const float *x, const float *w, float *y, int n, float scale) {
    const kb_f32v vs = kb_splat(scale);
    int i = 0;
    for (; i + 2 * KB_LANES <= n; i += 2 * KB_LANES) {
        kb_storeu(y + i, kb_mul(kb_mul(kb_loadu(x + i), vs), kb_loadu(w + i)));
        kb_storeu(y + i + KB_LANES, kb_mul(kb_mul(kb_loadu(x + i + KB_LANES), vs), kb_loadu(w + i + KB_LANES)));
    }
    for (; i + KB_LANES <= n; i += KB_LANES) kb_storeu(y + i, kb_mul(kb_mul(kb_loadu(x + i), vs), kb_loadu(w + i)));
    for (; i < n; i++) y[i] = x[i] * scale * w[i];
}

void rms_norm_mul(const float *x, const float *w, float *y, float *t, int n, int rows, float eps, int ith, int nth) {
    (void)t; /* scratch for the unfused baseline's temporary; fusion needs none */
    for (int r = ith; r < rows; r += nth) {
        const float *xr = x + (long)r * n;
        double sum = sumsq_f32(xr, n);
        if (!(sum <= FLT_MAX)) sum = sumsq_f64(xr, n);
        const float scale = (float)(1.0 / sqrt(sum / n + (double)eps));
        scale_mul_row(xr, w, y + (long)r * n, n, scale);
    }
}
