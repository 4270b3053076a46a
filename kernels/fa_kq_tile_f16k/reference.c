/* fa_kq_tile_f16k reference: plain C, dot products, exponentials and sums in double (ground truth, not speed).
 * fa_kq_tile (see ../fa_kq_tile/reference.c) with K stored as IEEE 754 binary16 (uint16_t, little-endian), the
 * way llama.cpp stores its KV cache; Q stays f32:
 *   S = scale * Q K^T;  S = softcap * tanh(S / softcap) if softcap != 0;  S += slope * mask
 *   m' = max(m_in, rowmax S);  P = exp(S - m');  rescale = exp(m_in - m');  l' = l_in * rescale + rowsum P
 * Each half is decoded exactly from its fields (integer arithmetic and ldexp, no float tricks), so the fast
 * conversions of the other variants are checked against an independent decoding.
 * A row with m' = -inf gives P = 0, rescale = 1, l' = l_in, m' = -inf (see ../fa_kq_tile/NOTES.md). */
#include <math.h>
#include <stdint.h>

/* binary16: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits */
static double half_to_double(uint16_t h) {
    int sign = h >> 15, e = (h >> 10) & 0x1f, f = h & 0x3ff;
    double v;
    if (e == 0x1f) v = f ? NAN : INFINITY;
    else if (e == 0) v = ldexp((double)f, -24); /* subnormal: f * 2^-24 */
    else v = ldexp((double)(f + 1024), e - 25); /* (1 + f/1024) * 2^(e-15) */
    return sign ? -v : v;
}

static double score(const float *qi, const uint16_t *kj, double mask, int d, float scale, float slope, float softcap) {
    double dot = 0.0;
    for (int t = 0; t < d; t++) dot += (double)qi[t] * half_to_double(kj[t]);
    double s = (double)scale * dot;
    if (softcap != 0.0f) s = (double)softcap * tanh(s / (double)softcap);
    return s + (double)slope * mask;
}

void fa_kq_tile_f16k(const float *q, const uint16_t *k, const float *mask, const float *m_in, const float *l_in,
                     float *p, float *m_out, float *l_out, float *rescale, int br, int bc, int d, float scale,
                     float slope, float softcap) {
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
