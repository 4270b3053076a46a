/* rms_norm upstream adapter: ggml's RMS_NORM op (ggml_rms_norm) as llama.cpp's CPU backend runs it, through ggml's
 * public API: x and y wrapped as [n, rows] f32 tensors, kb_upstream_copies copies of the op in one planned graph,
 * every copy reading x and writing y, computed at nth threads. Only ith 0 calls (call: graph). */
#include "kb_upstream.h"

void rms_norm(const float *x, float *y, int n, int rows, float eps, int ith, int nth) {
  static kb_up_cache cache;
  int fresh;
  if (ith != 0) return;
  const uint64_t key[] = {(uintptr_t)x, (uintptr_t)y, (uint64_t)n, (uint64_t)rows, (uint64_t)kb_upstream_copies, (uint64_t)nth, kb_up_bits(eps)};
  kb_up_graph *g = kb_up_get(&cache, key, sizeof key, 2 + 2 * kb_upstream_copies, 2 * kb_upstream_copies + 8, &fresh);
  if (fresh) {
    struct ggml_tensor *tx = kb_up_wrap(g, GGML_TYPE_F32, (void *)x, n, rows, 1);
    for (int c = 0; c < kb_upstream_copies; c++) {
      struct ggml_tensor *out = ggml_rms_norm(g->ctx, tx, eps);
      out->data = y;
      kb_up_expand(g, out);
    }
    kb_up_plan(g, nth);
  }
  kb_up_compute(g);
}
