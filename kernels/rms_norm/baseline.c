/* rms_norm baseline: the way ggml-cpu's rms_norm_f32 (ggml/src/ggml-cpu/ops.cpp) does it today, written here
 * from its description: per row a scalar loop that squares in float and accumulates in double (ggml_float),
 * then a copy of x into y (memcpy) and a separate pass scaling y by 1/sqrtf(mean + eps) (ggml_vec_scale_f32,
 * which is SIMD upstream: here a plain loop the compiler may vectorize). Rows interleaved across threads. */
#include <math.h>
#include <string.h>

void rms_norm(const float *x, float *y, int n, int rows, float eps, int ith, int nth) {
    for (int r = ith; r < rows; r += nth) {
        const float *xr = x + (long)r * n;
        float *yr = y + (long)r * n;
        double sum = 0.0;
        for (int i = 0; i < n; i++) sum += (double)(xr[i] * xr[i]);
        const float mean = (float)(sum / n);
        memcpy(yr, xr, (size_t)n * sizeof(float));
        const float scale = 1.0f / sqrtf(mean + eps);
        for (int i = 0; i < n; i++) yr[i] *= scale;
    }
}
