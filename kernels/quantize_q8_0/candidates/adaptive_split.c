/* quantize_q8_0 candidate adaptive_split: the seed's change to the thread split, with a scalar quantizer (the
 * arithmetic of ggml's SIMD paths in plain C: q = x * (127/max) rounded to nearest, ties to even). Since the
 * baseline became ggml's per-architecture SIMD quantizer this candidate is slower than the baseline natively;
 * candidates/simd.c is the same split with the SIMD quantizer. With at least nth rows each thread takes a contiguous range of
 * whole rows (long sequential streams, no per-row partition arithmetic, and with one row per thread no two
 * threads write the same cache line at a slice boundary); with fewer rows (decode) it falls back to splitting
 * every row by blocks as the baseline does, so every thread still has work. */
#include <math.h>
#include <stdint.h>
#include <string.h>

/* IEEE half bits, round to nearest even (integer arithmetic on the float's bits; see ../baseline.c) */
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

static void quantize_blocks(const float *x, uint8_t *y, long nblocks) {
    for (long b = 0; b < nblocks; b++, x += 32, y += 34) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) {
            const float a = fabsf(x[j]);
            amax = a > amax ? a : amax; /* not fmaxf(): it may be a library call */
        }
        const uint16_t h = half_bits(amax / 127.0f);
        y[0] = (uint8_t)(h & 0xff);
        y[1] = (uint8_t)(h >> 8);
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        /* round to nearest even with the 1.5*2^23 trick (|x*id| <= 127, so it is exact), no libm call */
        for (int k = 0; k < 32; k++) {
            const float t = x[k] * id + 12582912.0f;
            y[2 + k] = (uint8_t)(int8_t)(int)(t - 12582912.0f);
        }
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
