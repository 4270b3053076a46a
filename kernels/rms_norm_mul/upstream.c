/* rms_norm_mul upstream adapter: the graph llama.cpp builds for a norm layer, ggml_mul(ggml_rms_norm(x, eps), w),
 * which ggml's CPU backend fuses into one pass (RMS_NORM + MUL fusion; GGML_CPU_DISABLE_FUSION=1 turns it off).
 * The RMS_NORM node's tensor is placed on the scratch buffer t: kbench poisons t before every call and the
 * conformance run checks it is still poisoned afterwards, which proves the intermediate was never written (fused).
 * kb_upstream_copies copies of the pair in one planned graph; only ith 0 calls (call: graph). */
#include "kb_upstream.h"

void rms_norm_mul(const float *x, const float *w, float *y, float *t, int n, int rows, float eps, int ith, int nth) {
  static kb_up_cache cache;
  int fresh;
  if (ith != 0) return;
  const uint64_t key[] = {(uintptr_t)x, (uintptr_t)w, (uintptr_t)y, (uintptr_t)t, (uint64_t)n, (uint64_t)rows, (uint64_t)kb_upstream_copies, (uint64_t)nth, kb_up_bits(eps)};
  kb_up_graph *g = kb_up_get(&cache, key, sizeof key, 2 + 3 * kb_upstream_copies, 2 * kb_upstream_copies + 8, &fresh);
  if (fresh) {
    struct ggml_tensor *tx = kb_up_wrap(g, GGML_TYPE_F32, (void *)x, n, rows, 1);
    struct ggml_tensor *tw = kb_up_wrap(g, GGML_TYPE_F32, (void *)w, n, 1, 1);
    for (int c = 0; c < kb_upstream_copies; c++) {
      struct ggml_tensor *norm = ggml_rms_norm(g->ctx, tx, eps);
      norm->data = t;
      struct ggml_tensor *out = ggml_mul(g->ctx, norm, tw);
      out->data = y;
      kb_up_expand(g, out);
    }
    kb_up_plan(g, nth);
  }
  kb_up_compute(g);
}
