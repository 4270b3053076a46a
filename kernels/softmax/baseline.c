/* softmax baseline: the way ggml's CPU soft_max does a row today (ops.cpp, soft_max_f32), rewritten here from the
 * description of the algorithm: six passes over the row, using y as the workspace.
 *   1 copy x into y          2 y *= scale (vectorized)    3 y += slope*mask (scalar)
 *   4 max (scalar)           5 y = exp(y - max) with a vectorized exp, each vector's lanes added into a double
 *   6 y *= 1/sum (vectorized)
 * Rows are interleaved across threads (row = ith, ith + nth, ...), as ggml does.
 * A fully masked row (max = -inf) gives all zeros (see reference.c). */
#include <math.h>
#include <string.h>
#include "kb_simd.h"

static void scale_row(float *v, int n, float s) {
    const kb_f32v sv = kb_splat(s);
    int j = 0;
    for (; j + KB_LANES <= n; j += KB_LANES) kb_storeu(v + j, kb_mul(kb_loadu(v + j), sv));
    for (; j < n; j++) v[j] *= s;
}

/* y[j] = exp(y[j] - max); returns the sum, each vector reduced horizontally into a double as ggml does */
static double exp_and_sum(float *v, int n, float max) {
    const kb_f32v mv = kb_splat(max);
    double sum = 0.0;
    int j = 0;
    for (; j + KB_LANES <= n; j += KB_LANES) {
        kb_f32v e = kb_exp(kb_sub(kb_loadu(v + j), mv));
        kb_storeu(v + j, e);
        sum += (double)kb_hsum(e);
    }
    if (j < n) { /* tail through a padded vector so it uses the same exp; -inf pads give 0 */
        float buf[KB_LANES];
        for (int k = 0; k < KB_LANES; k++) buf[k] = j + k < n ? v[j + k] : -INFINITY;
        kb_f32v e = kb_exp(kb_sub(kb_loadu(buf), mv));
        kb_storeu(buf, e);
        for (int k = 0; j + k < n; k++) v[j + k] = buf[k];
        sum += (double)kb_hsum(e);
    }
    return sum;
}

void softmax(const float *x, const float *mask, float *y, int n, int rows, int mask_rows, float scale, float slope,
             int ith, int nth) {
    for (int r = ith; r < rows; r += nth) {
        float *yr = y + (long)r * n;
        memcpy(yr, x + (long)r * n, (size_t)n * sizeof(float));
        scale_row(yr, n, scale);
        if (mask_rows > 0) {
            const float *mr = mask + (long)(r % mask_rows) * n;
            for (int j = 0; j < n; j++) yr[j] += slope * mr[j];
        }
        float max = -INFINITY;
        for (int j = 0; j < n; j++) max = yr[j] > max ? yr[j] : max;
        if (max == -INFINITY) {
            memset(yr, 0, (size_t)n * sizeof(float));
            continue;
        }
        double sum = exp_and_sum(yr, n, max);
        scale_row(yr, n, (float)(1.0 / sum));
    }
}
