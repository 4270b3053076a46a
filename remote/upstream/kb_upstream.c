/* Helpers for upstream adapters (see kb_upstream.h): contexts over caller memory, planned graphs, threadpools. */
#include "kb_upstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kb_upstream_copies = 1;

static struct ggml_threadpool *pools[257];

int kb_up_begin(kb_up_graph *g, const void *key, size_t keylen, int tensors, int nodes) {
  static int inited;
  if (!inited) {
    ggml_cpu_init();
    inited = 1;
  }
  if (keylen > sizeof g->key) {
    fprintf(stderr, "kb_upstream: key too long\n");
    abort();
  }
  if (g->ctx && g->keylen == keylen && memcmp(g->key, key, keylen) == 0) return 0;
  if (g->ctx) ggml_free(g->ctx);
  free(g->work);
  g->work = NULL;
  memcpy(g->key, key, keylen);
  g->keylen = keylen;
  size_t size = (size_t)tensors * ggml_tensor_overhead() + ggml_graph_overhead_custom((size_t)nodes, false) + 4096;
  struct ggml_init_params p = {size, NULL, true};
  g->ctx = ggml_init(p);
  if (!g->ctx) {
    fprintf(stderr, "kb_upstream: ggml_init failed\n");
    abort();
  }
  g->graph = ggml_new_graph_custom(g->ctx, (size_t)nodes, false);
  return 1;
}

kb_up_graph *kb_up_get(kb_up_cache *c, const void *key, size_t keylen, int tensors, int nodes, int *fresh) {
  for (int i = 0; i < 4; i++) {
    kb_up_graph *g = &c->g[i];
    if (g->ctx && g->keylen == keylen && memcmp(g->key, key, keylen) == 0) {
      *fresh = 0;
      return g;
    }
  }
  kb_up_graph *g = &c->g[c->next];
  c->next = (c->next + 1) % 4;
  *fresh = kb_up_begin(g, key, keylen, tensors, nodes);
  return g;
}

struct ggml_tensor *kb_up_wrap(kb_up_graph *g, enum ggml_type type, void *data, int64_t ne0, int64_t ne1, int64_t ne2) {
  struct ggml_tensor *t = ggml_new_tensor_3d(g->ctx, type, ne0, ne1, ne2);
  t->data = data;
  return t;
}

void kb_up_expand(kb_up_graph *g, struct ggml_tensor *t) { ggml_build_forward_expand(g->graph, t); }

void kb_up_plan(kb_up_graph *g, int nth) {
  if (nth < 1) nth = 1;
  if (nth > 256) nth = 256;
  if (!pools[nth]) {
    struct ggml_threadpool_params tp = ggml_threadpool_params_default(nth);
    /* No polling between graphs: idle ggml workers sleep instead of spinning, so they do not steal cores from
     * the baseline and candidate timed in between (inside a graph ggml synchronizes as it always does). */
    tp.poll = 0;
    pools[nth] = ggml_threadpool_new(&tp);
  }
  g->nth = nth;
  g->plan = ggml_graph_plan(g->graph, nth, pools[nth]);
  free(g->work);
  g->work = g->plan.work_size ? malloc(g->plan.work_size) : NULL;
  g->plan.work_data = g->work;
}

void kb_up_compute(kb_up_graph *g) {
  if (ggml_graph_compute(g->graph, &g->plan) != GGML_STATUS_SUCCESS) {
    fprintf(stderr, "kb_upstream: ggml_graph_compute failed\n");
    abort();
  }
}
