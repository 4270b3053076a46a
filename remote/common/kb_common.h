/* What the native driver (remote/driver/kb_driver.c) and the upstream harness (remote/upstream/kb_up_main.c)
 * share: the parameter table their generated glue fills in, and the files and clock they both use. Both ship it
 * with kb_common.c (src/remote/bundle.ts copies them into every native bundle; src/upstream/harness.ts builds
 * them into the harness). */
#ifndef KB_COMMON_H
#define KB_COMMON_H

#include <stddef.h>
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

/* The kernel's parameters, from the generated glue. */
extern const kb_param KB_PARAMS[];
extern const int KB_NPARAMS;

/* Reports a harness error on the program's own result channel and exits with status 2; each program defines it. */
_Noreturn void kb_die(const char *what, const char *detail);

/* Creates `path` and its missing parents. */
void kb_mkdirs(const char *path);
/* Reads exactly `bytes` bytes of `path`: a missing file, or one shorter or longer, is a harness error. */
void kb_read_file(const char *path, unsigned char *dst, size_t bytes);
/* Writes <dir>/<name>.bin, creating dir. */
void kb_write_file(const char *dir, const char *name, const unsigned char *src, size_t bytes);
/* CLOCK_MONOTONIC in ns. */
uint64_t kb_now_ns(void);

#endif
