/* rms_norm candidate vec4: kb_simd.h (AVX2+FMA / NEON / WASM SIMD128 / scalar).
 * Sum of squares in float with four independent vector accumulators (hides the FMA/add latency; 4 x KB_LANES
 * partial sums also keep the rounding error small), then one fused pass y = x * scale: no memcpy of x into y.
 * A float sum overflows when x^2 summed over the row passes FLT_MAX (|x| ~ 1e18 for n = 4096, which ggml's
 * double accumulator survives), so a row whose float sum is not finite is summed again in double: the fast
 * path costs one compare per row and the result stays correct by design. */
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

static void scale_row(const float *x, float *y, int n, float scale) {
    kb_f32v vs = kb_splat(scale);
    int i = 0;
    for (; i + 2 * KB_LANES <= n; i += 2 * KB_LANES) {
        kb_storeu(y + i, kb_mul(kb_loadu(x + i), vs));
        kb_storeu(y + i + KB_LANES, kb_mul(kb_loadu(x + i + KB_LANES), vs));
    }
    for (; i + KB_LANES <= n; i += KB_LANES) kb_storeu(y + i, kb_mul(kb_loadu(x + i), vs));
    for (; i < n; i++) y[i] = x[i] * scale;
}

void rms_norm(const float *x, float *y, int n, int rows, float eps, int ith, int nth) {
    for (int r = ith; r < rows; r += nth) {
        const float *xr = x + (long)r * n;
        float *yr = y + (long)r * n;
        double sum = sumsq_f32(xr, n);
        if (!(sum <= FLT_MAX)) sum = sumsq_f64(xr, n);
        /* in double: the mean itself may exceed FLT_MAX even when every x^2 fits */
        const float scale = (float)(1.0 / sqrt(sum / n + (double)eps));
        scale_row(xr, yr, n, scale);
    }
}
