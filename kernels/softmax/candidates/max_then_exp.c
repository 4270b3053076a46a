/* softmax candidate max_then_exp: three passes, but the first one only reads.
 *   1 max of v = x*scale + slope*mask (one FMA), 4 vector accumulators, nothing stored
 *   2 y = exp(v - max) with v recomputed from x and mask, stored, sum in 4 vector accumulators
 *   3 y *= 1/sum
 * Against fused_max it trades one store pass and one reload of y for a second read of x and mask and one more
 * FMA per element; against online it keeps one exp per element. The tail goes through a padded vector whose
 * extra lanes are -inf. A fully masked row (max = -inf) gives all zeros (see reference.c). */
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

static float row_max(const float *xr, const float *mr, int n, kb_f32v sv, kb_f32v slv) {
    kb_f32v m0 = kb_splat(-INFINITY), m1 = m0, m2 = m0, m3 = m0;
    int j = 0;
    for (; j + 4 * KB_LANES <= n; j += 4 * KB_LANES) {
        m0 = kb_max(m0, values_at(xr, mr, j, sv, slv));
        m1 = kb_max(m1, values_at(xr, mr, j + KB_LANES, sv, slv));
        m2 = kb_max(m2, values_at(xr, mr, j + 2 * KB_LANES, sv, slv));
        m3 = kb_max(m3, values_at(xr, mr, j + 3 * KB_LANES, sv, slv));
    }
    for (; j + KB_LANES <= n; j += KB_LANES) m0 = kb_max(m0, values_at(xr, mr, j, sv, slv));
    if (j < n) m0 = kb_max(m0, tail_values(xr, mr, j, n - j, sv, slv));
    return kb_hmax(kb_max(kb_max(m0, m1), kb_max(m2, m3)));
}

static float exp_store_sum(const float *xr, const float *mr, float *yr, int n, kb_f32v sv, kb_f32v slv, float max) {
    const kb_f32v mv = kb_splat(max);
    kb_f32v s0 = kb_zero(), s1 = s0, s2 = s0, s3 = s0;
    int j = 0;
    for (; j + 4 * KB_LANES <= n; j += 4 * KB_LANES) {
        kb_f32v e0 = kb_exp(kb_sub(values_at(xr, mr, j, sv, slv), mv));
        kb_f32v e1 = kb_exp(kb_sub(values_at(xr, mr, j + KB_LANES, sv, slv), mv));
        kb_f32v e2 = kb_exp(kb_sub(values_at(xr, mr, j + 2 * KB_LANES, sv, slv), mv));
        kb_f32v e3 = kb_exp(kb_sub(values_at(xr, mr, j + 3 * KB_LANES, sv, slv), mv));
        kb_storeu(yr + j, e0);
        kb_storeu(yr + j + KB_LANES, e1);
        kb_storeu(yr + j + 2 * KB_LANES, e2);
        kb_storeu(yr + j + 3 * KB_LANES, e3);
        s0 = kb_add(s0, e0); s1 = kb_add(s1, e1); s2 = kb_add(s2, e2); s3 = kb_add(s3, e3);
    }
    for (; j + KB_LANES <= n; j += KB_LANES) {
        kb_f32v e = kb_exp(kb_sub(values_at(xr, mr, j, sv, slv), mv));
        kb_storeu(yr + j, e);
        s0 = kb_add(s0, e);
    }
    if (j < n) {
        float buf[KB_LANES];
        kb_f32v e = kb_exp(kb_sub(tail_values(xr, mr, j, n - j, sv, slv), mv));
        kb_storeu(buf, e);
        for (int i = 0; j + i < n; i++) yr[j + i] = buf[i];
        s0 = kb_add(s0, e);
    }
    return kb_hsum(kb_add(kb_add(s0, s1), kb_add(s2, s3)));
}

void softmax(const float *x, const float *mask, float *y, int n, int rows, int mask_rows, float scale, float slope,
             int ith, int nth) {
    const kb_f32v sv = kb_splat(scale), slv = kb_splat(slope);
    for (int r = ith; r < rows; r += nth) {
        const float *xr = x + (long)r * n;
        const float *mr = mask_rows > 0 ? mask + (long)(r % mask_rows) * n : 0;
        float *yr = y + (long)r * n;
        float max = row_max(xr, mr, n, sv, slv);
        if (max == -INFINITY) {
            memset(yr, 0, (size_t)n * sizeof(float));
            continue;
        }
        const float inv = 1.0f / exp_store_sum(xr, mr, yr, n, sv, slv, max);
        const kb_f32v invv = kb_splat(inv);
        int j = 0;
        for (; j + KB_LANES <= n; j += KB_LANES) kb_storeu(yr + j, kb_mul(kb_loadu(yr + j), invv));
        for (; j < n; j++) yr[j] *= inv;
    }
}
