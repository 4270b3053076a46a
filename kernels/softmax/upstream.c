/* softmax upstream adapter: ggml's SOFT_MAX op (ggml_soft_max_ext) as llama.cpp's CPU backend runs it, through
 * ggml's public API. kbench's row r uses mask row r % mask_rows; ggml broadcasts a [n, mask_rows] mask over the
 * heads of x viewed as [n, mask_rows, rows/mask_rows]. ggml derives the ALiBi slope from max_bias and the head
 * index; for one head the slope is 2^-max_bias, so slope s is passed as max_bias = -log2(s) (exact for powers of
 * two). When rows is not a multiple of mask_rows, or s != 1 with several heads, each group of mask_rows rows is
 * its own op (one head each). mask_rows = 0: no mask. kb_upstream_copies copies in one planned graph, every copy
 * writing y; only ith 0 calls (call: graph). */
#include <math.h>
#include "kb_upstream.h"

void softmax(const float *x, const float *mask, float *y, int n, int rows, int mask_rows, float scale, float slope, int ith,
             int nth) {
  static kb_up_cache cache;
  int fresh;
  if (ith != 0) return;
  const uint64_t key[] = {(uintptr_t)x, (uintptr_t)mask, (uintptr_t)y, (uint64_t)n, (uint64_t)rows, (uint64_t)mask_rows, (uint64_t)kb_upstream_copies, (uint64_t)nth, kb_up_bits(scale), kb_up_bits(slope)};
  const float max_bias = slope == 1.0f ? 0.0f : -log2f(slope);
  const int whole = mask_rows == 0 || (rows % mask_rows == 0 && (slope == 1.0f || rows == mask_rows));
  const int groups = whole ? 1 : (rows + mask_rows - 1) / mask_rows;
  kb_up_graph *g = kb_up_get(&cache, key, sizeof key, 4 + groups * 6 * kb_upstream_copies, groups * kb_upstream_copies + 8, &fresh);
  if (fresh) {
    struct ggml_tensor *tm = mask_rows ? kb_up_wrap(g, GGML_TYPE_F32, (void *)mask, n, mask_rows, 1) : NULL;
    for (int c = 0; c < kb_upstream_copies; c++) {
      for (int q = 0; q < groups; q++) {
        const int r0 = whole ? 0 : q * mask_rows;
        const int nr = whole ? rows : (rows - r0 < mask_rows ? rows - r0 : mask_rows);
        const int per = mask_rows && whole ? mask_rows : nr;
        struct ggml_tensor *tx = kb_up_wrap(g, GGML_TYPE_F32, (void *)(x + (long)r0 * n), n, per, nr / per);
        struct ggml_tensor *out = ggml_soft_max_ext(g->ctx, tx, tm, scale, max_bias);
        out->data = y + (long)r0 * n;
        kb_up_expand(g, out);
      }
    }
    kb_up_plan(g, nth);
  }
  kb_up_compute(g);
}
