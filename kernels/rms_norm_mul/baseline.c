/* rms_norm_mul baseline: what ggml's CPU backend runs today for the graph RMS_NORM -> MUL, written from its
 * description: the two nodes are fused (ggml-cpu's RMS_NORM + MUL fusion, on unless GGML_CPU_DISABLE_FUSION=1).
 * Per row (rows interleaved over threads, r = ith, ith + nth, ...): square each element in float and add the
 * squares into a double, one after another; mean = (float)(sum / n); scale = 1/sqrtf(mean + eps); then one plain
 * loop y = x * scale * w (left to right, as written; the compiler may vectorize it, as it does ggml's). The
 * normalized row is never stored: the scratch buffer t stays untouched, as ggml's intermediate tensor does. */
#include <math.h>

void rms_norm_mul(const float *x, const float *w, float *y, float *t, int n, int rows, float eps, int ith, int nth) {
    (void)t;
    for (int r = ith; r < rows; r += nth) {
        const float *xr = x + (long)r * n;
        float *yr = y + (long)r * n;
        double sum = 0.0;
        for (int i = 0; i < n; i++) sum += (double)(xr[i] * xr[i]);
        const float mean = (float)(sum / n);
        const float scale = 1.0f / sqrtf(mean + eps);
        for (int i = 0; i < n; i++) yr[i] = xr[i] * scale * w[i];
    }
}
