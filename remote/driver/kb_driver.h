/* The contract between the generic native driver (kb_driver.c) and the glue kbench generates from a kernel spec
 * (kb_glue.c): the parameter table and one call wrapper per compiled variant. Nothing here is per-kernel. */
#ifndef KB_DRIVER_H
#define KB_DRIVER_H

#include <stdint.h>

enum kb_kind { KB_IN = 0, KB_OUT = 1, KB_I32 = 2, KB_F32 = 3, KB_SCRATCH = 4 };

typedef struct {
  const char *name;
  int kind;         /* enum kb_kind */
  int elementBytes; /* buffers: size of one element, to report element indexes */
} kb_param;

/* One argument: a buffer pointer or a scalar, in the spec's parameter order. */
typedef union {
  void *p;
  int32_t i;
  float f;
} kb_arg;

/* Calls one variant with the arguments; ith/nth are passed through when the kernel is threaded. */
typedef void (*kb_call)(const kb_arg *args, int ith, int nth);

extern const kb_param KB_PARAMS[];
extern const int KB_NPARAMS;
extern const int KB_THREADED;
extern const kb_call KB_REF, KB_BASE, KB_CAND;
/* The upstream variant (the real ggml op, kbench run --upstream), timed beside baseline and candidate; 0 when not
 * built in. KB_UP_GRAPH: one call with ith 0 runs KB_UP_COPIES ops at nth ggml threads. */
extern const kb_call KB_UP;
extern const int KB_UP_GRAPH, KB_UP_COPIES;

#endif
