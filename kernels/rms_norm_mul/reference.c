/* rms_norm_mul reference (ground truth): y = x / sqrt(mean(x^2) + eps) * w per row, everything in double. */
#include <math.h>

void rms_norm_mul(const float *x, const float *w, float *y, float *t, int n, int rows, float eps, int ith, int nth) {
    (void)t; /* the unfused baseline's scratch; the reference needs no temporary */
    for (int r = ith; r < rows; r += nth) {
        const float *xr = x + (long)r * n;
        float *yr = y + (long)r * n;
        double sum = 0.0;
        for (int i = 0; i < n; i++) sum += (double)xr[i] * (double)xr[i];
        double scale = 1.0 / sqrt(sum / n + (double)eps);
        for (int i = 0; i < n; i++) yr[i] = (float)((double)xr[i] * scale * (double)w[i]);
    }
}
