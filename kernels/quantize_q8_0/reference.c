/* quantize_q8_0 reference (ground truth), ggml block_q8_0 layout: per 32 floats, d = max|x| / 127 (computed
 * in float as ggml does, stored as IEEE half, round to nearest even, little-endian), then 32 int8
 * q = round(x * 127 / max|x|) computed in double, ties to even (nearbyint in the default rounding mode), as
 * ggml's production quantizers round (AVX2 and NEON; its portable reference rounds ties away from zero, see
 * NOTES.md); all zero when max|x| = 0. The thread split is the simplest one: whole rows interleaved. */
#include <math.h>
#include <stdint.h>

/* IEEE half from a float, round to nearest even, written for clarity (sign, then the value in units of the
 * half's last place, rounded, then assembled: a carry out of the mantissa correctly bumps the exponent). */
static uint16_t half_from_float(float f) {
    uint16_t sign = signbit(f) ? 0x8000 : 0;
    double a = fabs((double)f);
    if (isnan(a)) return sign | 0x7e00;
    if (a >= 65520.0) return sign | 0x7c00; /* at or past the midpoint above 65504: inf */
    int e = 15;                            /* biased exponent of a as a normal half */
    double s = a;
    if (s < 0x1p-14) {
        /* subnormal: units of 2^-24; nearbyint rounds to even in the default mode; 1024 becomes the smallest normal */
        return sign | (uint16_t)nearbyint(a * 0x1p24);
    }
    while (s >= 2.0) { s /= 2.0; e++; }
    while (s < 1.0) { s *= 2.0; e--; }
    double m = nearbyint((s - 1.0) * 1024.0);
    return sign | (uint16_t)((e << 10) + (int)m); /* m = 1024 carries into the exponent */
}

static void quantize_block(const float *x, uint8_t *out) {
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
    uint16_t d = half_from_float(amax / 127.0f);
    out[0] = (uint8_t)(d & 0xff);
    out[1] = (uint8_t)(d >> 8);
    for (int j = 0; j < 32; j++) {
        double v = amax > 0.0f ? (double)x[j] * 127.0 / (double)amax : 0.0;
        double q = nearbyint(v); /* ties to even, as ggml's x86 (AVX2) and ARM (NEON) quantizers */
        out[2 + j] = (uint8_t)(int8_t)q;
    }
}

void quantize_q8_0(const float *x, uint8_t *y, int n, int rows, int ith, int nth) {
    const int nb = n / 32;
    for (int r = ith; r < rows; r += nth)
        for (int b = 0; b < nb; b++) quantize_block(x + (long)r * n + b * 32, y + ((long)r * nb + b) * 34);
}
