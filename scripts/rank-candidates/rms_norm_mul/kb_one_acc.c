/* rms_norm_mul, measurement variant: kb_simd.h with one accumulator (a dependent FMA chain) and a double rescue. */
#include "kb_simd.h"
#include <float.h>
#include <math.h>
void rms_norm_mul(const float *x, const float *w, float *y, float *t, int n, int rows, float eps, int ith, int nth) {
    (void)t;
    for (int r = ith; r < rows; r += nth) {
        const float *xr = x + (long)r * n;
        float *yr = y + (long)r * n;
        kb_f32v a = kb_zero();
        int i = 0;
        for (; i + KB_LANES <= n; i += KB_LANES) {
            kb_f32v v = kb_loadu(xr + i);
            a = kb_fma(v, v, a);
        }
        double sum = kb_hsum(a);
        for (; i < n; i++) sum += xr[i] * xr[i];
        if (!(sum <= FLT_MAX)) {
            sum = 0.0;
            for (i = 0; i < n; i++) sum += (double)xr[i] * (double)xr[i];
        }
        const float scale = (float)(1.0 / sqrt(sum / n + (double)eps));
        const kb_f32v vs = kb_splat(scale);
        for (i = 0; i + KB_LANES <= n; i += KB_LANES) kb_storeu(yr + i, kb_mul(kb_mul(kb_loadu(xr + i), vs), kb_loadu(w + i)));
        for (; i < n; i++) yr[i] = xr[i] * scale * w[i];
    }
}
