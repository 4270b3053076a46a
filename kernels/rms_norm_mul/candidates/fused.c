/* rms_norm_mul candidate fused: the graph fusion alone. The reduction stays ggml's (square in float, sum in
 * double, scalar), but the copy, the scale pass, the intermediate write/read and the MUL node collapse into one
 * pass y = (x * scale) * w (kb_simd.h: AVX2+FMA / NEON / WASM SIMD128 / scalar). This is what llama.cpp PR
 * #22423 did upstream (there as a scalar loop), so fused vs baseline isolates the fusion. */
#include "kb_simd.h"
#include <math.h>

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
        double sum = 0.0;
        for (int i = 0; i < n; i++) sum += (double)(xr[i] * xr[i]);
        const float scale = 1.0f / sqrtf((float)(sum / n) + eps);
        scale_mul_row(xr, w, y + (long)r * n, n, scale);
    }
}
