/* The contract between the generic native driver (kb_driver.c) and the glue kbench generates from a kernel spec
 * (kb_glue.c): the parameter table and one call wrapper per compiled variant. Nothing here is per-kernel. */
#ifndef KB_DRIVER_H
#define KB_DRIVER_H

#include "kb_common.h" /* kb_param, kb_arg, KB_PARAMS */

/* Calls one variant with the arguments; ith/nth are passed through when the kernel is threaded. */
typedef void (*kb_call)(const kb_arg *args, int ith, int nth);

extern const int KB_THREADED;
extern const kb_call KB_REF, KB_BASE, KB_CAND;
/* The upstream variant (the real ggml op, kbench run --upstream), timed beside baseline and candidate; 0 when not
 * built in. KB_UP_GRAPH: one call with ith 0 runs kb_up_copies ops at nth ggml threads: KB_UP_COPIES, or fewer
 * where the driver keeps an upstream batch as short as the others. */
extern const kb_call KB_UP;
extern const int KB_UP_GRAPH, KB_UP_COPIES;
extern int kb_up_copies;

#endif
