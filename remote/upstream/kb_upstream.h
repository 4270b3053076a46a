/* What a kernel's upstream adapter (kernels/<k>/upstream.c) includes: ggml's public headers and a few helpers to
 * call an op the way ggml runs it. An adapter defines the kernel's own function (same signature as reference.c);
 * kbench compiles it with the symbol renamed, like every variant.
 *
 * "graph" adapters: one call computes a planned ggml graph of kb_upstream_copies copies of the op on tensors that
 * wrap the caller's buffers (inputs shared, every copy's output at the same buffer); the harness divides the time
 * by the number of copies. The graph is rebuilt only when the arguments change (kb_up_begin's key). */
#ifndef KB_UPSTREAM_H
#define KB_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include "ggml.h"
#include "ggml-cpu.h"

/* a float's bits, for graph keys (arrays of uint64_t: no padding to compare) */
static inline uint64_t kb_up_bits(float f) {
  union { float f; uint32_t u; } v = {f};
  return v.u;
}

/* copies of the op per graph call; set by the harness (1 in checks) */
extern int kb_upstream_copies;

typedef struct {
  struct ggml_context *ctx;
  struct ggml_cgraph *graph;
  struct ggml_cplan plan;
  void *work;
  int nth;
  size_t keylen;
  unsigned char key[512];
} kb_up_graph;

/* Returns 1 when the graph must be (re)built for this key (then ctx is a fresh no_alloc context with room for
 * `tensors` tensors and a graph of `nodes` nodes); 0 when the cached graph already matches. */
int kb_up_begin(kb_up_graph *g, const void *key, size_t keylen, int tensors, int nodes);
/* Several planned graphs, one per argument set (the native driver rotates input slots): kb_up_get returns the
 * graph for this key, *fresh = 1 when it was just (re)started and must be built (least recently started slot). */
typedef struct {
  kb_up_graph g[4];
  int next;
} kb_up_cache;
kb_up_graph *kb_up_get(kb_up_cache *c, const void *key, size_t keylen, int tensors, int nodes, int *fresh);
/* A tensor over caller memory (no copy): ne0 fastest, then ne1, ne2. */
struct ggml_tensor *kb_up_wrap(kb_up_graph *g, enum ggml_type type, void *data, int64_t ne0, int64_t ne1, int64_t ne2);
/* Adds `t` (and what it depends on) to the graph. */
void kb_up_expand(kb_up_graph *g, struct ggml_tensor *t);
/* Plans the graph for nth threads (a persistent threadpool per nth, as llama.cpp keeps one). */
void kb_up_plan(kb_up_graph *g, int nth);
void kb_up_compute(kb_up_graph *g);

#endif
