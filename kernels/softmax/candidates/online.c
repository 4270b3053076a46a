/* softmax candidate online: online normalizer calculation (M. Milakov and N. Gimelshein, "Online normalizer
 * calculation for softmax", arXiv:1805.02867, 2018). Two passes over x and the mask instead of six over the row:
 *   1 running max m and running sum s per lane: when the max grows from m to m', s becomes s*exp(m - m') + ...
 *     To pay one rescale exp per block of 4 vectors rather than one per element, the block max is taken first,
 *     then s is rescaled once and the block's 4 exps are added against the new max.
 *     The lanes are combined at the end: M = max of lanes, S = sum of s_lane*exp(m_lane - M).
 *   2 y = exp(v - M) * (1/S), v recomputed from x and mask (one FMA), so y is written once and never read.
 * The running max starts at -FLT_MAX instead of -inf so a lane that has seen only -inf gives exp(-inf) = 0 and
 * exp(0) = 1 instead of exp(-inf - -inf) = NaN. A row whose sum stays 0 is fully masked and gives all zeros
 * (see reference.c). The cost is ~2.25 exps per element (1.25 in pass 1, 1 in pass 2) against 1 for fused_max:
 * the trade is memory traffic for arithmetic. */
#include <float.h>
#include <math.h>
#include <string.h>
#include "kb_simd.h"

static inline kb_f32v values_at(const float *xr, const float *mr, int j, kb_f32v sv, kb_f32v slv) {
    kb_f32v xs = kb_mul(kb_loadu(xr + j), sv);
    return mr ? kb_fma(kb_loadu(mr + j), slv, xs) : xs;
}

/* v for lanes j..j+k-1 (k < KB_LANES), lanes past k set to -inf */
static inline kb_f32v tail_values(const float *xr, const float *mr, int j, int k, kb_f32v sv, kb_f32v slv) {
    float bx[KB_LANES], bm[KB_LANES];
    for (int i = 0; i < KB_LANES; i++) {
        bx[i] = i < k ? xr[j + i] : 0.0f;
        bm[i] = i < k && mr ? mr[j + i] : 0.0f;
    }
    kb_f32v v = mr ? kb_fma(kb_loadu(bm), slv, kb_mul(kb_loadu(bx), sv)) : kb_mul(kb_loadu(bx), sv);
    kb_storeu(bx, v);
    for (int i = k; i < KB_LANES; i++) bx[i] = -INFINITY;
    return kb_loadu(bx);
}

/* one online step: fold the values v (one vector) into the lane state (m, s) */
static inline void fold1(kb_f32v v, kb_f32v *m, kb_f32v *s) {
    kb_f32v mn = kb_max(*m, v);
    *s = kb_fma(*s, kb_exp(kb_sub(*m, mn)), kb_exp(kb_sub(v, mn)));
    *m = mn;
}

static void max_and_sum(const float *xr, const float *mr, int n, float scale, float slope, float *max, float *sum) {
    const kb_f32v sv = kb_splat(scale), slv = kb_splat(slope);
    kb_f32v m = kb_splat(-FLT_MAX), s = kb_zero();
    int j = 0;
    for (; j + 4 * KB_LANES <= n; j += 4 * KB_LANES) {
        kb_f32v v0 = values_at(xr, mr, j, sv, slv);
        kb_f32v v1 = values_at(xr, mr, j + KB_LANES, sv, slv);
        kb_f32v v2 = values_at(xr, mr, j + 2 * KB_LANES, sv, slv);
        kb_f32v v3 = values_at(xr, mr, j + 3 * KB_LANES, sv, slv);
        kb_f32v mn = kb_max(m, kb_max(kb_max(v0, v1), kb_max(v2, v3)));
        kb_f32v e = kb_add(kb_add(kb_exp(kb_sub(v0, mn)), kb_exp(kb_sub(v1, mn))),
                           kb_add(kb_exp(kb_sub(v2, mn)), kb_exp(kb_sub(v3, mn))));
        s = kb_fma(s, kb_exp(kb_sub(m, mn)), e);
        m = mn;
    }
    for (; j + KB_LANES <= n; j += KB_LANES) fold1(values_at(xr, mr, j, sv, slv), &m, &s);
    if (j < n) fold1(tail_values(xr, mr, j, n - j, sv, slv), &m, &s);
    float mx = kb_hmax(m);
    *max = mx;
    *sum = kb_hsum(kb_mul(s, kb_exp(kb_sub(m, kb_splat(mx)))));
}

void softmax(const float *x, const float *mask, float *y, int n, int rows, int mask_rows, float scale, float slope,
             int ith, int nth) {
    for (int r = ith; r < rows; r += nth) {
        const float *xr = x + (long)r * n;
        const float *mr = mask_rows > 0 ? mask + (long)(r % mask_rows) * n : 0;
        float *yr = y + (long)r * n;
        float max, sum;
        max_and_sum(xr, mr, n, scale, slope, &max, &sum);
        if (sum == 0.0f) {
            memset(yr, 0, (size_t)n * sizeof(float));
            continue;
        }
        const kb_f32v mv = kb_splat(max), inv = kb_splat(1.0f / sum);
        const kb_f32v sv = kb_splat(scale), slv = kb_splat(slope);
        int j = 0;
        for (; j + KB_LANES <= n; j += KB_LANES)
            kb_storeu(yr + j, kb_mul(kb_exp(kb_sub(values_at(xr, mr, j, sv, slv), mv)), inv));
        if (j < n) {
            float buf[KB_LANES];
            kb_storeu(buf, kb_mul(kb_exp(kb_sub(tail_values(xr, mr, j, n - j, sv, slv), mv)), inv));
            for (int i = 0; j + i < n; i++) yr[j + i] = buf[i];
        }
    }
}
