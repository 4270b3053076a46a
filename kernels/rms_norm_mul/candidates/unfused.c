/* rms_norm_mul candidate unfused: the previous baseline, kept to show what the fusion is worth: the two ggml
 * graph nodes unfused (what ggml runs with GGML_CPU_DISABLE_FUSION=1), written from their description.
 * Node 1, RMS_NORM (ggml-cpu ops.cpp rms_norm_f32): per row, square in float and sum in double, memcpy x into the
 * output, scale it by 1/sqrtf(mean + eps). Node 2, MUL (binary op, ggml_vec_mul_f32): the
 * normalized rows times w. Each thread runs node 1 over all its rows before node 2, as the graph does (there
 * is a barrier between nodes; both split rows the same way here, so no thread reads another's rows).
 * The normalized tensor is written to the scratch buffer t (rows x n, a separate tensor as in the graph) and node 2
 * reads it back: the memory traffic of the unfused graph (read x, write t, read t, read w, write y). */
#include <math.h>
#include <string.h>

static void rms_norm_node(const float *x, float *t, int n, int rows, float eps, int ith, int nth) {
    for (int r = ith; r < rows; r += nth) {
        const float *xr = x + (long)r * n;
        float *tr = t + (long)r * n;
        double sum = 0.0;
        for (int i = 0; i < n; i++) sum += (double)(xr[i] * xr[i]);
        const float mean = (float)(sum / n);
        memcpy(tr, xr, (size_t)n * sizeof(float));
        const float scale = 1.0f / sqrtf(mean + eps);
        for (int i = 0; i < n; i++) tr[i] *= scale;
    }
}

static void mul_node(const float *t, const float *w, float *y, int n, int rows, int ith, int nth) {
    for (int r = ith; r < rows; r += nth) {
        const float *tr = t + (long)r * n;
        float *yr = y + (long)r * n;
        for (int i = 0; i < n; i++) yr[i] = tr[i] * w[i];
    }
}

void rms_norm_mul(const float *x, const float *w, float *y, float *t, int n, int rows, float eps, int ith, int nth) {
    rms_norm_node(x, t, n, rows, eps, ith, nth);
    mul_node(t, w, y, n, rows, ith, nth);
}
