/* The contract between the WASM runtime (kb_wasm.c) and the glue kbench generates from a kernel spec (kb_glue.h,
 * src/build/glue.ts), as remote/driver/kb_driver.h is for the native driver. Nothing here is per-kernel. */
#ifndef KB_WASM_H
#define KB_WASM_H

#include <stdint.h>
#include <string.h>

/* An output buffer: the argument slot holding its address, and the bytes of one element. */
typedef struct {
  uint32_t slot;
  uint32_t elementBytes;
} kb_output;

/* An f32 scalar travels as its bits in a 32-bit argument slot. */
static inline float kb_bits_to_f32(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* The generated kb_glue.h defines, as static constants so that the runtime's loops over them fold away:
 *   KB_NSLOTS                 32-bit argument slots of one call (the spec's parameters, then ith/nth if threaded)
 *   KB_NOUTPUTS, KB_OUTPUTS[] the output buffers, in the spec's order
 *   kb_call_kernel(a)         the kernel called with its arguments unpacked from the slots a[0 .. KB_NSLOTS) */

#endif
