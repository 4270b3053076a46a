/* fa_kq_tile reference: plain C, dot products, exponentials and sums in double (ground truth, not speed).
 * One KV-tile step of the tiled flash-attention path (ggml FLASH_ATTN_EXT, f32 K):
 *   S = scale * Q K^T;  S = softcap * tanh(S / softcap) if softcap != 0;  S += slope * mask
 *   m' = max(m_in, rowmax S);  P = exp(S - m');  rescale = exp(m_in - m');  l' = l_in * rescale + rowsum P
 * m_in = -inf, l_in = 0 on the first tile. A row with m' = -inf (every S of the row -inf and no earlier finite
 * max: a fully masked row on the first tile) would give exp(-inf - -inf) = NaN; kbench defines it as P = 0,
 * rescale = 1, l' = l_in, m' = -inf, i.e. "nothing seen, nothing changes" (the same result the formulas give when
 * a fully masked row meets a finite m_in). slope must be > 0 so slope * -inf = -inf. */
#include <math.h>

static double score(const float *qi, const float *kj, double mask, int d, float scale, float slope, float softcap) {
    double dot = 0.0;
    for (int t = 0; t < d; t++) dot += (double)qi[t] * (double)kj[t];
    double s = (double)scale * dot;
    if (softcap != 0.0f) s = (double)softcap * tanh(s / (double)softcap);
    return s + (double)slope * mask;
}

void fa_kq_tile(const float *q, const float *k, const float *mask, const float *m_in, const float *l_in, float *p,
                float *m_out, float *l_out, float *rescale, int br, int bc, int d, float scale, float slope,
                float softcap) {
    for (int i = 0; i < br; i++) {
        const float *qi = q + (long)i * d, *mi = mask + (long)i * bc;
        float *pi = p + (long)i * bc;
        double m = m_in[i];
        for (int j = 0; j < bc; j++) {
            double s = score(qi, k + (long)j * d, mi[j], d, scale, slope, softcap);
            if (s > m) m = s;
        }
        if (m == -INFINITY) {
            for (int j = 0; j < bc; j++) pi[j] = 0.0f;
            m_out[i] = -INFINITY;
            rescale[i] = 1.0f;
            l_out[i] = l_in[i];
            continue;
        }
        double sum = 0.0;
        for (int j = 0; j < bc; j++) {
            double e = exp(score(qi, k + (long)j * d, mi[j], d, scale, slope, softcap) - m);
            sum += e;
            pi[j] = (float)e;
        }
        double r = exp((double)m_in[i] - m);
        m_out[i] = (float)m;
        rescale[i] = (float)r;
        l_out[i] = (float)((double)l_in[i] * r + sum);
    }
}
