/* quantize_q8_0 candidate adaptive_split: the seed's change to the thread split, quantizer unchanged
 * (ggml's portable one, as in the baseline). With at least nth rows each thread takes a contiguous range of
 * whole rows (long sequential streams, no per-row partition arithmetic, and with one row per thread no two
 * threads write the same cache line at a slice boundary); with fewer rows (decode) it falls back to splitting
 * every row by blocks as the baseline does, so every thread still has work. */
#include <math.h>
#include <stdint.h>
#include <string.h>

/* IEEE half bits, round to nearest even (integer arithmetic on the float's bits; see baseline.c) */
static uint16_t half_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    u &= 0x7fffffff;
    if (u > 0x7f800000) return sign | 0x7e00;
    if (u >= 0x477ff000) return sign | 0x7c00;
    if (u < 0x38800000) {
        float a, half = 0.5f;
        memcpy(&a, &u, 4);
        a += half;
        memcpy(&u, &a, 4);
        return sign | (uint16_t)(u - 0x3f000000);
    }
    u += 0xfff + ((u >> 13) & 1);
    return sign | (uint16_t)((u >> 13) - (112 << 10));
}

/* roundf (ties away from zero) without a library call or a branch (gcc turned a compare-and-select into a
 * branch that random data mispredicted every other element: 4x slower). Adding the float just below 0.5 then
 * truncating is exact for |v| < 2^23: a true tie v = k + 0.5 reaches k + 1 - 2^-25·…, which rounds up to k + 1. */
static inline float round_away(float v) {
    return truncf(v + copysignf(0.49999997f, v));
}

static void quantize_blocks(const float *x, uint8_t *y, long nblocks) {
    for (long b = 0; b < nblocks; b++, x += 32, y += 34) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) {
            const float a = fabsf(x[j]);
            amax = a > amax ? a : amax; /* not fmaxf(): it may be a library call */
        }
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        const uint16_t h = half_bits(d);
        y[0] = (uint8_t)(h & 0xff);
        y[1] = (uint8_t)(h >> 8);
        for (int j = 0; j < 32; j++) y[2 + j] = (uint8_t)(int8_t)round_away(x[j] * id);
    }
}

void quantize_q8_0(const float *x, uint8_t *y, int n, int rows, int ith, int nth) {
    const long nb = n / 32;
    if (rows >= nth) {
        /* rows are contiguous in memory, so a range of rows is one range of blocks */
        const long r0 = (long)ith * rows / nth, r1 = (long)(ith + 1) * rows / nth;
        quantize_blocks(x + r0 * n, y + r0 * nb * 34, (r1 - r0) * nb);
        return;
    }
    const long b0 = (long)ith * nb / nth, b1 = (long)(ith + 1) * nb / nth;
    for (long r = 0; r < rows; r++) quantize_blocks(x + r * n + b0 * 32, y + (r * nb + b0) * 34, b1 - b0);
}
