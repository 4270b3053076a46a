/* quantize_q8_0 baseline: ggml mul_mat's from_float split today (ggml-cpu ggml_compute_forward_mul_mat),
 * written from its description: every thread quantizes its slice of *every* row, blocks
 * [ith*nb/nth, (ith+1)*nb/nth), so each row is cut into nth pieces. The quantizer is ggml's portable one
 * (quantize_row_q8_0_ref): scalar max|x|, d = max/127, id = 1/d, q = roundf(x*id). (On AVX2/NEON/WASM ggml's
 * production quantize_row_q8_0 is SIMD; candidates/simd.c measures that difference.) */
#include <math.h>
#include <stdint.h>
#include <string.h>

/* IEEE half bits from a float, round to nearest even, by integer arithmetic on the float's bits (the classic
 * approach, e.g. F. Giesen, "Float->half variations", 2013). */
static uint16_t half_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    u &= 0x7fffffff;
    if (u > 0x7f800000) return sign | 0x7e00;  /* NaN */
    if (u >= 0x477ff000) return sign | 0x7c00; /* >= 65520 (and inf): inf */
    if (u < 0x38800000) {                      /* below 2^-14: subnormal half (or 0) */
        /* adding 0.5 puts the value's units of 2^-24 in the low mantissa bits; the FPU rounds to even */
        float a, half = 0.5f;
        memcpy(&a, &u, 4);
        a += half;
        memcpy(&u, &a, 4);
        return sign | (uint16_t)(u - 0x3f000000);
    }
    u += 0xfff + ((u >> 13) & 1); /* round to nearest even at bit 13 */
    return sign | (uint16_t)((u >> 13) - (112 << 10));
}

/* roundf (ties away from zero) without a library call or a branch (gcc turned a compare-and-select into a
 * branch that random data mispredicted every other element: 4x slower). Adding the float just below 0.5 then
 * truncating is exact for |v| < 2^23: a true tie v = k + 0.5 reaches k + 1 - 2^-25·…, which rounds up to k + 1. */
static inline float round_away(float v) {
    return truncf(v + copysignf(0.49999997f, v));
}

static void quantize_blocks(const float *x, uint8_t *y, int nblocks) {
    for (int b = 0; b < nblocks; b++, x += 32, y += 34) {
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
    const int nb = n / 32;
    const int b0 = (int)((long)ith * nb / nth), b1 = (int)((long)(ith + 1) * nb / nth);
    for (int r = 0; r < rows; r++)
        quantize_blocks(x + (long)r * n + b0 * 32, y + ((long)r * nb + b0) * 34, b1 - b0);
}
