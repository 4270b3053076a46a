/* kbench's speed-of-light probe, built with the kernels' own compiler and flags on every target (WASM, AVX2,
 * NEON). It measures the fastest this build can stream a buffer in (eight independent vector sums: the loop a
 * kernel that must at least read its bytes cannot beat) and do vector FMAs (eight independent chains, enough to
 * cover the FMA latency on every core kbench targets). A kernel timed well past either did not do the work its
 * spec counts, or the timing is broken: its result is flagged suspect.
 *
 * out[0] keeps the sums alive; out[1] is the number of flops the FMA loop did (2 per lane per FMA). */
#include "kb_simd.h"

void kb_speed_of_light(const float *x, float *out, int n, int iters) {
  kb_f32v a0 = kb_zero(), a1 = kb_zero(), a2 = kb_zero(), a3 = kb_zero();
  kb_f32v a4 = kb_zero(), a5 = kb_zero(), a6 = kb_zero(), a7 = kb_zero();
  int i = 0;
  for (; i + 8 * KB_LANES <= n; i += 8 * KB_LANES) {
    a0 = kb_add(a0, kb_loadu(x + i + 0 * KB_LANES));
    a1 = kb_add(a1, kb_loadu(x + i + 1 * KB_LANES));
    a2 = kb_add(a2, kb_loadu(x + i + 2 * KB_LANES));
    a3 = kb_add(a3, kb_loadu(x + i + 3 * KB_LANES));
    a4 = kb_add(a4, kb_loadu(x + i + 4 * KB_LANES));
    a5 = kb_add(a5, kb_loadu(x + i + 5 * KB_LANES));
    a6 = kb_add(a6, kb_loadu(x + i + 6 * KB_LANES));
    a7 = kb_add(a7, kb_loadu(x + i + 7 * KB_LANES));
  }
  float tail = 0.0f;
  for (; i < n; i++) tail += x[i];

  const kb_f32v m = kb_splat(0.999f), c = kb_splat(0.001f);
  for (int k = 0; k < iters; k++) {
    a0 = kb_fma(a0, m, c);
    a1 = kb_fma(a1, m, c);
    a2 = kb_fma(a2, m, c);
    a3 = kb_fma(a3, m, c);
    a4 = kb_fma(a4, m, c);
    a5 = kb_fma(a5, m, c);
    a6 = kb_fma(a6, m, c);
    a7 = kb_fma(a7, m, c);
  }
  kb_f32v s = kb_add(kb_add(kb_add(a0, a1), kb_add(a2, a3)), kb_add(kb_add(a4, a5), kb_add(a6, a7)));
  out[0] = kb_hsum(s) + tail;
  out[1] = 16.0f * (float)KB_LANES * (float)iters;
}
