/* The shared half of the native driver and the upstream harness: see kb_common.h. */
#define _GNU_SOURCE
#include "kb_common.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

void kb_mkdirs(const char *path) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    mkdir(buf, 0755);
    *p = '/';
  }
  if (mkdir(buf, 0755) != 0 && errno != EEXIST) kb_die("mkdir", path);
}

void kb_read_file(const char *path, unsigned char *dst, size_t bytes) {
  FILE *f = fopen(path, "rb");
  if (!f) kb_die("missing input", path);
  size_t got = bytes ? fread(dst, 1, bytes, f) : 0;
  int extra = fgetc(f);
  fclose(f);
  if (got != bytes || extra != EOF) kb_die("input has the wrong size", path);
}

void kb_write_file(const char *dir, const char *name, const unsigned char *src, size_t bytes) {
  char path[4096];
  kb_mkdirs(dir);
  snprintf(path, sizeof path, "%s/%s.bin", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || (bytes && fwrite(src, 1, bytes, f) != bytes) || fclose(f) != 0) kb_die("cannot write", path);
}

uint64_t kb_now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}
