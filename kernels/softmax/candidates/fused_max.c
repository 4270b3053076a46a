/* softmax candidate fused_max: three passes instead of six.
 *   1 v = x*scale + slope*mask (one FMA) stored into y, running max kept in 4 vector accumulators
 *   2 y = exp(y - max) stored, sum kept in 4 vector accumulators (one horizontal add per row, not per vector)
 *   3 y *= 1/sum
 * The copy, scale, mask add and max of the baseline become one read of x and mask. Four accumulators decouple
 * the max/add chains from the exp latency (on AVX2 it measured the same as one: the exp bounds the loop).
 * The tail goes through a padded vector whose extra lanes are -inf (they add exp(-inf) = 0).
 * A fully masked row (max = -inf) gives all zeros (see reference.c). */
#include <math.h>
#include <string.h>
#include "kb_simd.h"

/* v for lanes j..j+k-1 (k < KB_LANES) computed with the same vector ops; lanes past k set to -inf */
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

static float scale_mask_max(const float *xr, const float *mr, float *yr, int n, float scale, float slope) {
    const kb_f32v sv = kb_splat(scale), slv = kb_splat(slope);
    kb_f32v m0 = kb_splat(-INFINITY), m1 = m0, m2 = m0, m3 = m0;
    int j = 0;
    if (mr) {
        for (; j + 4 * KB_LANES <= n; j += 4 * KB_LANES) {
            kb_f32v v0 = kb_fma(kb_loadu(mr + j), slv, kb_mul(kb_loadu(xr + j), sv));
            kb_f32v v1 = kb_fma(kb_loadu(mr + j + KB_LANES), slv, kb_mul(kb_loadu(xr + j + KB_LANES), sv));
            kb_f32v v2 = kb_fma(kb_loadu(mr + j + 2 * KB_LANES), slv, kb_mul(kb_loadu(xr + j + 2 * KB_LANES), sv));
            kb_f32v v3 = kb_fma(kb_loadu(mr + j + 3 * KB_LANES), slv, kb_mul(kb_loadu(xr + j + 3 * KB_LANES), sv));
            kb_storeu(yr + j, v0);
            kb_storeu(yr + j + KB_LANES, v1);
            kb_storeu(yr + j + 2 * KB_LANES, v2);
            kb_storeu(yr + j + 3 * KB_LANES, v3);
            m0 = kb_max(m0, v0); m1 = kb_max(m1, v1); m2 = kb_max(m2, v2); m3 = kb_max(m3, v3);
        }
        for (; j + KB_LANES <= n; j += KB_LANES) {
            kb_f32v v = kb_fma(kb_loadu(mr + j), slv, kb_mul(kb_loadu(xr + j), sv));
            kb_storeu(yr + j, v);
            m0 = kb_max(m0, v);
        }
    } else {
        for (; j + 4 * KB_LANES <= n; j += 4 * KB_LANES) {
            kb_f32v v0 = kb_mul(kb_loadu(xr + j), sv);
            kb_f32v v1 = kb_mul(kb_loadu(xr + j + KB_LANES), sv);
            kb_f32v v2 = kb_mul(kb_loadu(xr + j + 2 * KB_LANES), sv);
            kb_f32v v3 = kb_mul(kb_loadu(xr + j + 3 * KB_LANES), sv);
            kb_storeu(yr + j, v0);
            kb_storeu(yr + j + KB_LANES, v1);
            kb_storeu(yr + j + 2 * KB_LANES, v2);
            kb_storeu(yr + j + 3 * KB_LANES, v3);
            m0 = kb_max(m0, v0); m1 = kb_max(m1, v1); m2 = kb_max(m2, v2); m3 = kb_max(m3, v3);
        }
        for (; j + KB_LANES <= n; j += KB_LANES) {
            kb_f32v v = kb_mul(kb_loadu(xr + j), sv);
            kb_storeu(yr + j, v);
            m0 = kb_max(m0, v);
        }
    }
    if (j < n) {
        float buf[KB_LANES];
        kb_f32v v = tail_values(xr, mr, j, n - j, sv, slv);
        kb_storeu(buf, v);
        for (int i = 0; j + i < n; i++) yr[j + i] = buf[i];
        m0 = kb_max(m0, v);
    }
    return kb_hmax(kb_max(kb_max(m0, m1), kb_max(m2, m3)));
}

static float exp_and_sum(float *yr, int n, float max) {
    const kb_f32v mv = kb_splat(max);
    kb_f32v s0 = kb_zero(), s1 = s0, s2 = s0, s3 = s0;
    int j = 0;
    for (; j + 4 * KB_LANES <= n; j += 4 * KB_LANES) {
        kb_f32v e0 = kb_exp(kb_sub(kb_loadu(yr + j), mv));
        kb_f32v e1 = kb_exp(kb_sub(kb_loadu(yr + j + KB_LANES), mv));
        kb_f32v e2 = kb_exp(kb_sub(kb_loadu(yr + j + 2 * KB_LANES), mv));
        kb_f32v e3 = kb_exp(kb_sub(kb_loadu(yr + j + 3 * KB_LANES), mv));
        kb_storeu(yr + j, e0);
        kb_storeu(yr + j + KB_LANES, e1);
        kb_storeu(yr + j + 2 * KB_LANES, e2);
        kb_storeu(yr + j + 3 * KB_LANES, e3);
        s0 = kb_add(s0, e0); s1 = kb_add(s1, e1); s2 = kb_add(s2, e2); s3 = kb_add(s3, e3);
    }
    for (; j + KB_LANES <= n; j += KB_LANES) {
        kb_f32v e = kb_exp(kb_sub(kb_loadu(yr + j), mv));
        kb_storeu(yr + j, e);
        s0 = kb_add(s0, e);
    }
    if (j < n) {
        float buf[KB_LANES];
        for (int i = 0; i < KB_LANES; i++) buf[i] = j + i < n ? yr[j + i] : -INFINITY;
        kb_f32v e = kb_exp(kb_sub(kb_loadu(buf), mv));
        kb_storeu(buf, e);
        for (int i = 0; j + i < n; i++) yr[j + i] = buf[i];
        s0 = kb_add(s0, e);
    }
    return kb_hsum(kb_add(kb_add(s0, s1), kb_add(s2, s3)));
}

static void scale_row(float *yr, int n, float s) {
    const kb_f32v sv = kb_splat(s);
    int j = 0;
    for (; j + KB_LANES <= n; j += KB_LANES) kb_storeu(yr + j, kb_mul(kb_loadu(yr + j), sv));
    for (; j < n; j++) yr[j] *= s;
}

void softmax(const float *x, const float *mask, float *y, int n, int rows, int mask_rows, float scale, float slope,
             int ith, int nth) {
    for (int r = ith; r < rows; r += nth) {
        const float *mr = mask_rows > 0 ? mask + (long)(r % mask_rows) * n : 0;
        float *yr = y + (long)r * n;
        float max = scale_mask_max(x + (long)r * n, mr, yr, n, scale, slope);
        if (max == -INFINITY) {
            memset(yr, 0, (size_t)n * sizeof(float));
            continue;
        }
        scale_row(yr, n, 1.0f / exp_and_sum(yr, n, max));
    }
}
