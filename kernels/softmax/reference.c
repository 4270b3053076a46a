/* softmax reference: plain C, every sum and exponent in double (ground truth, not speed).
 * Semantics (ggml soft_max_ext with an f32 mask): for x row r, v[j] = x[j]*scale + slope*mask[r % mask_rows][j]
 * (no mask term when mask_rows = 0), y = exp(v - max v) / sum exp(v - max v).
 * A fully masked row (every v = -inf) has no defined softmax (ggml computes -inf - -inf = NaN); kbench defines it
 * as all zeros: the row attends to nothing. slope must be > 0 (ALiBi slopes are), so slope * -inf = -inf. */
#include <math.h>

static double masked_value(const float *xr, const float *mr, int j, float scale, float slope) {
    double v = (double)xr[j] * (double)scale;
    if (mr) v += (double)slope * (double)mr[j];
    return v;
}

void softmax(const float *x, const float *mask, float *y, int n, int rows, int mask_rows, float scale, float slope,
             int ith, int nth) {
    for (int r = ith; r < rows; r += nth) {
        const float *xr = x + (long)r * n;
        const float *mr = mask_rows > 0 ? mask + (long)(r % mask_rows) * n : 0;
        float *yr = y + (long)r * n;
        double max = -INFINITY;
        for (int j = 0; j < n; j++) {
            double v = masked_value(xr, mr, j, scale, slope);
            if (v > max) max = v;
        }
        if (max == -INFINITY) {
            for (int j = 0; j < n; j++) yr[j] = 0.0f;
            continue;
        }
        double sum = 0.0;
        for (int j = 0; j < n; j++) sum += exp(masked_value(xr, mr, j, scale, slope) - max);
        for (int j = 0; j < n; j++) yr[j] = (float)(exp(masked_value(xr, mr, j, scale, slope) - max) / sum);
    }
}
