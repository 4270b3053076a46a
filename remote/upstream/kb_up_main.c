/* kbench upstream harness: runs the upstream adapter (the real ggml op), the reference, the baseline and
 * candidates on identical inputs (conform) or times them in interleaved rounds (time). The per-kernel half,
 * kb_up_glue.c, is generated from the spec (src/upstream/glue.ts).
 *
 *   kb_up conform <plan> <input dir> <output dir>
 *     plan lines: case <id> <arg...>  (args in spec order: buffer byte count, i32 decimal, f32 as 0x bits)
 *     inputs <input dir>/<id>/<param>.bin; outputs <output dir>/<id>/<variant>/<param>.bin
 *     stdout per variant: {"event":"ran","id":..,"variant":"..","inputsChanged":[..],"scratchWritten":[..]}
 *   kb_up time <plan> <input dir> <copies>
 *     plan lines: time <id> <nth> <rounds> <min batch ns> <seed> <arg...>
 *     stdout per variant, once: {"event":"batch","id":..,"variant":"..","copies":..,"reps":..} (ops per graph
 *     call, calls per batch); per round: {"event":"round","id":..,"ns":{"<variant>":ns per op,...}} (variants in a
 *     fresh random order each round; a sample is the fastest of 5 batches; graph variants run up to <copies> ops
 *     per call, fewer when <copies> ops would outlast the minimum batch time). */
#define _GNU_SOURCE
#include "kb_up_glue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int kb_upstream_copies;

_Noreturn void kb_die(const char *what, const char *detail) {
  printf("{\"event\":\"error\",\"message\":\"%s: %s\"}\n", what, detail);
  exit(2);
}

typedef struct {
  kb_arg args[64];
  size_t bytes[64];
  unsigned char *inputs[64]; /* pristine copy of each input */
} kb_case;

/* Parses "<arg...>" after the fixed fields; allocates buffers (64-byte aligned, one spare line). */
static void parse_args(kb_case *c, char **tok) {
  for (int i = 0; i < KB_NPARAMS; i++) {
    const char *t = tok[i];
    if (!t) kb_die("plan", "too few arguments");
    if (KB_PARAMS[i].kind == KB_I32) c->args[i].i = (int32_t)strtol(t, NULL, 10);
    else if (KB_PARAMS[i].kind == KB_F32) {
      uint32_t u = (uint32_t)strtoul(t, NULL, 16);
      memcpy(&c->args[i].f, &u, 4);
    } else {
      c->bytes[i] = (size_t)strtoull(t, NULL, 10);
      void *p = NULL;
      if (posix_memalign(&p, 64, c->bytes[i] + 64)) kb_die("alloc", t);
      c->args[i].p = p;
    }
  }
}

static void load_inputs(kb_case *c, const char *dir, int id) {
  char path[4096];
  for (int i = 0; i < KB_NPARAMS; i++) {
    if (KB_PARAMS[i].kind != KB_IN) continue;
    snprintf(path, sizeof path, "%s/%d/%s.bin", dir, id, KB_PARAMS[i].name);
    c->inputs[i] = malloc(c->bytes[i] + 1);
    kb_read_file(path, c->inputs[i], c->bytes[i]);
    memcpy(c->args[i].p, c->inputs[i], c->bytes[i]);
  }
}

static void poison(kb_case *c) {
  for (int i = 0; i < KB_NPARAMS; i++)
    if (KB_PARAMS[i].kind == KB_OUT || KB_PARAMS[i].kind == KB_SCRATCH) memset(c->args[i].p, 0xff, c->bytes[i]);
}

static void free_case(kb_case *c) {
  for (int i = 0; i < KB_NPARAMS; i++) {
    if (KB_PARAMS[i].kind == KB_I32 || KB_PARAMS[i].kind == KB_F32) continue;
    free(c->args[i].p);
    free(c->inputs[i]);
  }
}

static int tokenize(char *line, char **tok, int max) {
  int n = 0;
  for (char *t = strtok(line, " \t\n"); t && n < max - 1; t = strtok(NULL, " \t\n")) tok[n++] = t;
  tok[n] = NULL;
  return n;
}

static int conform(const char *plan, const char *in, const char *out) {
  FILE *f = fopen(plan, "r");
  if (!f) kb_die("cannot open", plan);
  char line[8192], *tok[128], path[4096];
  while (fgets(line, sizeof line, f)) {
    if (tokenize(line, tok, 128) < 2 || strcmp(tok[0], "case") != 0) continue;
    const int id = atoi(tok[1]);
    kb_case c;
    memset(&c, 0, sizeof c);
    parse_args(&c, tok + 2);
    load_inputs(&c, in, id);
    for (int v = 0; v < KB_NVARIANTS; v++) {
      poison(&c);
      kb_upstream_copies = 1;
      KB_VARIANTS[v].call(c.args, 1);
      snprintf(path, sizeof path, "%s/%d/%s", out, id, KB_VARIANTS[v].name);
      printf("{\"event\":\"ran\",\"id\":%d,\"variant\":\"%s\",\"inputsChanged\":[", id, KB_VARIANTS[v].name);
      int first = 1;
      for (int i = 0; i < KB_NPARAMS; i++) {
        if (KB_PARAMS[i].kind != KB_IN || memcmp(c.args[i].p, c.inputs[i], c.bytes[i]) == 0) continue;
        printf("%s\"%s\"", first ? "" : ",", KB_PARAMS[i].name);
        first = 0;
        memcpy(c.args[i].p, c.inputs[i], c.bytes[i]);
      }
      printf("],\"scratchWritten\":[");
      first = 1;
      for (int i = 0; i < KB_NPARAMS; i++) {
        if (KB_PARAMS[i].kind == KB_OUT) kb_write_file(path, KB_PARAMS[i].name, c.args[i].p, c.bytes[i]);
        if (KB_PARAMS[i].kind != KB_SCRATCH) continue;
        const unsigned char *p = c.args[i].p;
        size_t j = 0;
        while (j < c.bytes[i] && p[j] == 0xff) j++;
        if (j < c.bytes[i]) {
          printf("%s\"%s\"", first ? "" : ",", KB_PARAMS[i].name);
          first = 0;
        }
      }
      printf("]}\n");
      fflush(stdout);
    }
    free_case(&c);
  }
  fclose(f);
  printf("{\"event\":\"done\"}\n");
  return 0;
}

/* ns per op of one batch of `reps` calls of `copies` ops each (copies: 1 unless a graph variant) */
static double batch(int v, kb_case *c, int nth, long reps, int copies) {
  kb_upstream_copies = copies;
  const uint64_t t0 = kb_now_ns();
  for (long r = 0; r < reps; r++) KB_VARIANTS[v].call(c->args, nth);
  const double dt = (double)(kb_now_ns() - t0);
  return dt / (double)reps / (double)copies;
}

/* ns per op of the fastest of 4 single calls (the first warms up; a preempted call is slower, never faster) */
static double fastest_call(int v, kb_case *c, int nth, int copies) {
  double best = 1e300;
  for (int k = 0; k < 4; k++) {
    const double t = batch(v, c, nth, 1, copies);
    if (t < best) best = t;
  }
  return best < 1 ? 1 : best;
}

/* Warms variant v up and sizes its batch: *copies ops per call, *reps calls, about min_ns in all. A graph call
 * holds at most as many ops as fit in min_ns, so every variant's batch runs about as long as every other's and
 * is as likely to be preempted by other load: a 16-op graph of a 275 µs op made each upstream batch 4.4 ms
 * against the baseline's 0.55 ms, and on a loaded machine all 5 batches of a sample often lost a time slice
 * (+4 ms per graph, ggml "2x slower" in whole rounds; kernels/softmax/NOTES.md). */
static void size_batch(int v, kb_case *c, int nth, int max_copies, double min_ns, int *copies, long *reps) {
  int cp = KB_VARIANTS[v].graph ? max_copies : 1;
  double op = fastest_call(v, c, nth, cp);
  if (cp > 1 && op * cp > min_ns) {
    cp = min_ns / op < 1 ? 1 : (int)(min_ns / op);
    op = fastest_call(v, c, nth, cp); /* the smaller graph, built and warmed up */
  }
  *copies = cp;
  *reps = (long)(min_ns / (op * cp)) + 1;
  batch(v, c, nth, *reps, cp);
}

static int time_plan(const char *plan, const char *in, int copies) {
  FILE *f = fopen(plan, "r");
  if (!f) kb_die("cannot open", plan);
  char line[8192], *tok[128];
  while (fgets(line, sizeof line, f)) {
    if (tokenize(line, tok, 128) < 6 || strcmp(tok[0], "time") != 0) continue;
    const int id = atoi(tok[1]), nth = atoi(tok[2]), rounds = atoi(tok[3]);
    const double min_ns = atof(tok[4]);
    uint64_t seed = strtoull(tok[5], NULL, 10);
    kb_case c;
    memset(&c, 0, sizeof c);
    parse_args(&c, tok + 6);
    load_inputs(&c, in, id);
    long reps[64];
    int cps[64];
    for (int v = 0; v < KB_NVARIANTS; v++) {
      size_batch(v, &c, nth, copies, min_ns, &cps[v], &reps[v]);
      printf("{\"event\":\"batch\",\"id\":%d,\"variant\":\"%s\",\"copies\":%d,\"reps\":%ld}\n", id, KB_VARIANTS[v].name, cps[v], reps[v]);
    }
    int order[64];
    for (int round = 0; round < rounds; round++) {
      for (int v = 0; v < KB_NVARIANTS; v++) order[v] = v;
      for (int v = KB_NVARIANTS - 1; v > 0; v--) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int j = (int)((seed >> 33) % (uint64_t)(v + 1)), t = order[v];
        order[v] = order[j];
        order[j] = t;
      }
      double ns[64];
      for (int k = 0; k < KB_NVARIANTS; k++) {
        const int v = order[k];
        double best = 1e300;
        for (int b = 0; b < 5; b++) {
          double t = batch(v, &c, nth, reps[v], cps[v]);
          if (t < best) best = t;
        }
        ns[v] = best;
      }
      /* one line built whole, then written at once */
      char out[8192];
      int len = snprintf(out, sizeof out, "{\"event\":\"round\",\"id\":%d,\"ns\":{", id);
      for (int v = 0; v < KB_NVARIANTS && len < (int)sizeof out - 128; v++)
        len += snprintf(out + len, sizeof out - (size_t)len, "%s\"%s\":%.3f", v ? "," : "", KB_VARIANTS[v].name, ns[v]);
      snprintf(out + len, sizeof out - (size_t)len, "}}");
      puts(out);
      fflush(stdout);
    }
    free_case(&c);
  }
  fclose(f);
  printf("{\"event\":\"done\"}\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 5 && strcmp(argv[1], "conform") == 0) return conform(argv[2], argv[3], argv[4]);
  if (argc >= 5 && strcmp(argv[1], "time") == 0) return time_plan(argv[2], argv[3], atoi(argv[4]));
  fprintf(stderr, "usage: kb_up conform <plan> <in> <out> | time <plan> <in> <copies>\n");
  return 2;
}
