/* quantize_q8_0 upstream adapter: the function ggml calls to quantize activations for a Q8_0 mul_mat, the
 * from_float of GGML_TYPE_Q8_0 in the CPU type traits (ggml_get_type_traits_cpu), i.e. the per-architecture path
 * of this build (AVX2 on x86, NEON on ARM). Called directly on each thread's slice of every row, the way mul_mat
 * splits from_float work across threads (blocks [ith*nb/nth, (ith+1)*nb/nth) of each row) (call: direct). */
#include "kb_upstream.h"

void quantize_q8_0(const float *x, uint8_t *y, int n, int rows, int ith, int nth) {
  static ggml_from_float_t from_float;
  if (!from_float) {
    ggml_cpu_init();
    from_float = ggml_get_type_traits_cpu(GGML_TYPE_Q8_0)->from_float;
  }
  const int nb = n / 32;
  const int b0 = (int)((long)ith * nb / nth), b1 = (int)((long)(ith + 1) * nb / nth);
  if (b1 <= b0) return;
  for (int r = 0; r < rows; r++) from_float(x + (long)r * n + b0 * 32, y + ((long)r * nb + b0) * 34, (int64_t)(b1 - b0) * 32);
}
