/* The WASM side's runtime, built into every module beside the candidate (src/build/compiler.ts): the exports the
 * sandbox drives (src/sandbox/instance.ts). kb_batch is the WASM twin of the native driver's timed loop
 * (remote/driver/kb_driver.c), poisoning the same output element before each call. The per-kernel half is the
 * generated kb_glue.h; the protocol's constants come from the generated kb_protocol.h (src/check/rules.ts). */
#include <stdint.h>

#include "kb_glue.h"
#include "kb_protocol.h"

extern unsigned char __heap_base;

/* First byte past the module's static data and stack: the sandbox lays buffers out from here. */
__attribute__((export_name("kb_heap_base"))) uint32_t kb_heap_base(void) { return (uint32_t)(uintptr_t)&__heap_base; }

/* One call on one argument set of KB_NSLOTS slots. */
__attribute__((export_name("kb_call"))) void kb_call(const uint32_t *a) { kb_call_kernel(a); }

/* Before every timed call one output element, a different one each call, is poisoned: a call skipped because its
 * output already looks computed leaves it poisoned. out_elements: the element count of each output. */
static void kb_poison_one(const uint32_t *a, uint64_t call, const uint32_t *out_elements) {
#if KB_POISON_ONE_PER_CALL
  for (int o = 0; o < KB_NOUTPUTS; o++) {
    if (!out_elements[o]) continue;
    const uint32_t bytes = KB_OUTPUTS[o].elementBytes;
    const uint32_t k = (uint32_t)(((call * 0x9E3779B97F4A7C15ull) >> 17) % out_elements[o]);
    volatile unsigned char *e = (volatile unsigned char *)(uintptr_t)a[KB_OUTPUTS[o].slot] + k * bytes;
    for (uint32_t b = 0; b < bytes; b++) e[b] = KB_POISON_FIRST;
  }
#else
  (void)a, (void)call, (void)out_elements;
#endif
}

/* The timed loop: reps rounds over nsets argument sets, so inputs rotate between calls. */
__attribute__((export_name("kb_batch"))) void kb_batch(const uint32_t *sets, int nsets, int reps, const uint32_t *out_elements) {
  uint64_t call = 0;
  for (int r = 0; r < reps; r++)
    for (int s = 0; s < nsets; s++, call++) {
      kb_poison_one(sets + s * KB_NSLOTS, call, out_elements);
      kb_call(sets + s * KB_NSLOTS);
    }
}
