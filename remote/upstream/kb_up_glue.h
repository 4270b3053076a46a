/* The contract between the upstream harness (kb_up_main.c) and the glue kbench generates per kernel
 * (kb_up_glue.c, src/upstream/glue.ts): the parameter table and one call wrapper per variant. */
#ifndef KB_UP_GLUE_H
#define KB_UP_GLUE_H

#include "kb_common.h" /* kb_param, kb_arg, KB_PARAMS */

typedef struct {
  const char *name;
  /* 1: one call runs kb_upstream_copies copies of the op at nth threads (an upstream graph adapter) */
  int graph;
  /* calls the variant once; non-graph variants run single-threaded (ith 0 of 1) */
  void (*call)(const kb_arg *args, int nth);
} kb_variant;

extern const kb_variant KB_VARIANTS[];
extern const int KB_NVARIANTS;

#endif
