/* kbench native driver: the generic half of every native run (the other half, kb_glue.c, is generated from the
 * kernel spec). TypeScript writes the plan and the input bytes and compares the outputs; this program only calls
 * the kernel under the check protocol and times it.
 *
 *   kb_driver <plan.txt> <input dir> <output dir>
 *
 * Plan lines (one per case; arguments in spec parameter order: buffer byte count, i32 decimal, f32 as 0x bits):
 *   check <id> <nth> <nparts> <part nth...> <arg...>
 *   time  <id> <nth> <nsets> <pairs> <min batch ns> <warm-up ns> <seed> <arg...>  (a sample = best of 5 batches)
 * Inputs:  <input dir>/<id>/<set>/<param>.bin
 * Outputs: check: <output dir>/<id>/<call>/<param>.bin  (call = c1, r, c2, p<nth>; c2 and p<nth> only when
 *                  they differ from c1)
 *          time:  <output dir>/<id>/r<set>/<param>.bin and <output dir>/<id>/t<set>/<param>.bin (first timed output)
 * stdout: one JSON object per line (start, case, ok, fail, time, done, error); exit 0 done, 3 candidate failed a
 * check (see the fail line), 2 harness error. A time line also carries this build's speed of light at the shape's
 * footprint (include/kb_speed_of_light.c, linked in by run.sh). */
#define _GNU_SOURCE
#include "kb_driver.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KB_ALIGN 64
#define KB_GUARD 64
#define KB_MAX_THREADS 256
#define KB_MAX_PARAMS 32
#define KB_MAX_PARTS 16
#define KB_MAX_SETS 8
#define KB_SLOTS 2
#define KB_MAX_PAIRS 1000

static const char *in_dir, *out_dir;

/* ---- output ---------------------------------------------------------------------------------------------- */

static void emit(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stdout, fmt, ap);
  va_end(ap);
  fputc('\n', stdout);
  fflush(stdout); /* a crash later must not lose the lines before it */
}

static void die(const char *what, const char *detail) {
  emit("{\"event\":\"error\",\"message\":\"%s: %s\"}", what, detail);
  exit(2);
}

static void mkdirs(const char *path) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    mkdir(buf, 0755);
    *p = '/';
  }
  if (mkdir(buf, 0755) != 0 && errno != EEXIST) die("mkdir", path);
}

static void read_file(const char *path, unsigned char *dst, size_t bytes) {
  FILE *f = fopen(path, "rb");
  if (!f) die("missing input", path);
  size_t got = bytes ? fread(dst, 1, bytes, f) : 0;
  int extra = fgetc(f);
  fclose(f);
  if (got != bytes || extra != EOF) die("input has the wrong size", path);
}

static void write_file(const char *dir, const char *name, const unsigned char *src, size_t bytes) {
  char path[4096];
  mkdirs(dir);
  snprintf(path, sizeof path, "%s/%s.bin", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || (bytes && fwrite(src, 1, bytes, f) != bytes) || fclose(f) != 0) die("cannot write", path);
}

/* ---- guarded buffers ------------------------------------------------------------------------------------- */

typedef struct {
  unsigned char *base, *data;
  size_t bytes, tail; /* tail: guard bytes after the data (alignment padding + KB_GUARD) */
  unsigned salt;      /* varies the canary between buffers */
} kb_buf;

/* Guard byte i of a buffer; `salt` (the parameter index) makes it differ between buffers, so an overrun that copies
 * past the end of one buffer into the end of another does not write the other's own canary. */
static unsigned char canary(unsigned salt, size_t i) { return (unsigned char)(0xA5 ^ (salt * 0x3B) ^ (i * 29)); }

static void buf_alloc(kb_buf *b, size_t bytes, unsigned salt) {
  b->salt = salt;
  b->bytes = bytes;
  b->tail = KB_GUARD + (KB_ALIGN - bytes % KB_ALIGN) % KB_ALIGN;
  void *mem = NULL;
  if (posix_memalign(&mem, KB_ALIGN, KB_GUARD + bytes + b->tail) != 0) die("out of memory", "buffer");
  b->base = mem;
  b->data = b->base + KB_GUARD;
  for (size_t i = 0; i < KB_GUARD; i++) b->base[i] = canary(salt, i);
  for (size_t i = 0; i < b->tail; i++) b->data[bytes + i] = canary(salt, KB_GUARD + i);
}

/* 0 when both guard zones are intact; else the side and the offset (bytes before the data, or past its end). */
static int buf_guard_hit(const kb_buf *b, const char **side, size_t *offset) {
  for (size_t k = 0; k < KB_GUARD; k++)
    if (b->data[-1 - (long)k] != canary(b->salt, KB_GUARD - 1 - k)) return *side = "before", *offset = k, 1;
  for (size_t k = 0; k < b->tail; k++)
    if (b->data[b->bytes + k] != canary(b->salt, KB_GUARD + k)) return *side = "after", *offset = k, 1;
  return 0;
}

/* ---- threads: a persistent pool, ggml style (thread ith runs its share, the caller is ith 0) ------------- */

static pthread_t pool_threads[KB_MAX_THREADS];
static int pool_workers, pool_pinned;
static atomic_uint pool_generation;
static atomic_int pool_finished;
static kb_call job_fn;
static const kb_arg *job_args;
static int job_nth;

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

/* Spin briefly, then yield, so that more threads than cores still make progress. */
static void backoff(unsigned *spins) {
  if (++*spins < 2000) cpu_relax();
  else sched_yield();
}

static int pin_to_cpu(pthread_t t, int index) {
#if defined(__linux__)
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 2) return 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(index % cpus, &set);
  return pthread_setaffinity_np(t, sizeof set, &set) == 0;
#else
  (void)t, (void)index;
  return 0;
#endif
}

/* An idle worker spins briefly (a timed batch calls back within microseconds), then sleeps: a worker spinning
 * through the rest of the run would steal the core the next single-threaded measurement runs on. */
static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER;
static atomic_int pool_sleepers;

static unsigned pool_wait(unsigned seen) {
  unsigned gen;
  for (unsigned spins = 0; spins < 20000; spins++) {
    if ((gen = atomic_load(&pool_generation)) != seen) return gen;
    cpu_relax();
  }
  pthread_mutex_lock(&pool_mutex);
  atomic_fetch_add(&pool_sleepers, 1);
  while ((gen = atomic_load(&pool_generation)) == seen) pthread_cond_wait(&pool_wake, &pool_mutex);
  atomic_fetch_sub(&pool_sleepers, 1);
  pthread_mutex_unlock(&pool_mutex);
  return gen;
}

static void *pool_worker(void *arg) {
  int ith = (int)(intptr_t)arg;
  unsigned seen = 0;
  for (;;) {
    seen = pool_wait(seen);
    if (ith < job_nth) job_fn(job_args, ith, job_nth);
    atomic_fetch_add(&pool_finished, 1);
  }
  return NULL;
}

/* nth <= 0 in the plan means every online CPU of this host. */
static int resolve_nth(int nth) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  return nth > 0 ? nth : (cpus > 0 ? (int)cpus : 1);
}

static void pool_ensure(int nth) {
  if (nth > KB_MAX_THREADS) die("too many threads", "nth > 256");
  if (nth > 1 && pool_workers == 0) pool_pinned = pin_to_cpu(pthread_self(), 0);
  while (pool_workers < nth - 1) {
    int ith = pool_workers + 1;
    if (pthread_create(&pool_threads[ith], NULL, pool_worker, (void *)(intptr_t)ith) != 0) die("pthread_create", "failed");
    pool_pinned &= pin_to_cpu(pool_threads[ith], ith);
    pool_workers++;
  }
}

/* One call of the kernel with nth real threads (a plain call when the kernel is not threaded or nth is 1). */
static void call_threaded(kb_call fn, const kb_arg *args, int nth) {
  if (fn == KB_UP && KB_UP_GRAPH) { /* a ggml graph: one call, ggml runs its own nth threads */
    fn(args, 0, nth);
    return;
  }
  if (!KB_THREADED || nth <= 1) {
    fn(args, 0, 1);
    return;
  }
  job_fn = fn, job_args = args, job_nth = nth;
  atomic_store(&pool_finished, 0);
  atomic_fetch_add(&pool_generation, 1);
  /* seq_cst on both sides: either the worker sees the new generation or we see it counted as a sleeper. */
  if (atomic_load(&pool_sleepers) > 0) {
    pthread_mutex_lock(&pool_mutex);
    pthread_cond_broadcast(&pool_wake);
    pthread_mutex_unlock(&pool_mutex);
  }
  fn(args, 0, nth);
  unsigned spins = 0;
  while (atomic_load(&pool_finished) < pool_workers) backoff(&spins);
}

/* ith = 0..nth−1 one after another on this thread: checks the partition without any concurrency. */
static void call_sequential(kb_call fn, const kb_arg *args, int nth) {
  for (int ith = 0; ith < nth; ith++) fn(args, ith, nth);
}

/* ---- one case's buffers ---------------------------------------------------------------------------------- */

typedef struct {
  kb_buf buf[KB_MAX_PARAMS];
  kb_arg args[KB_MAX_PARAMS];
} kb_slot;

static size_t arg_bytes[KB_MAX_PARAMS];
static kb_arg arg_scalar[KB_MAX_PARAMS];

static int is_buffer(int p) { return KB_PARAMS[p].kind == KB_IN || KB_PARAMS[p].kind == KB_OUT || KB_PARAMS[p].kind == KB_SCRATCH; }

static void parse_args(FILE *plan) {
  char tok[64];
  for (int p = 0; p < KB_NPARAMS; p++) {
    if (fscanf(plan, "%63s", tok) != 1) die("plan", "too few arguments");
    if (is_buffer(p)) arg_bytes[p] = strtoull(tok, NULL, 10);
    else if (KB_PARAMS[p].kind == KB_I32) arg_scalar[p].i = (int32_t)strtol(tok, NULL, 10);
    else {
      uint32_t bits = (uint32_t)strtoul(tok, NULL, 16);
      memcpy(&arg_scalar[p].f, &bits, sizeof bits);
    }
  }
}

static void slot_alloc(kb_slot *s) {
  for (int p = 0; p < KB_NPARAMS; p++) {
    if (!is_buffer(p)) {
      s->args[p] = arg_scalar[p];
      continue;
    }
    buf_alloc(&s->buf[p], arg_bytes[p], (unsigned)p);
    s->args[p].p = s->buf[p].data;
  }
}

static void slot_free(kb_slot *s) {
  for (int p = 0; p < KB_NPARAMS; p++)
    if (is_buffer(p)) free(s->buf[p].base);
}

/* NaN-poison outputs (0xFF bytes are a NaN in f32 and f16; for integers, an unlikely pattern), and scratch
 * buffers, so nothing one call leaves there can be read back by the next. */
static void slot_poison(kb_slot *s) {
  for (int p = 0; p < KB_NPARAMS; p++)
    if (KB_PARAMS[p].kind == KB_OUT || KB_PARAMS[p].kind == KB_SCRATCH) memset(s->buf[p].data, 0xFF, s->buf[p].bytes);
}

static void load_inputs(int id, int set, unsigned char **pristine) {
  char path[4096];
  for (int p = 0; p < KB_NPARAMS; p++) {
    if (KB_PARAMS[p].kind != KB_IN) continue;
    pristine[p] = malloc(arg_bytes[p] ? arg_bytes[p] : 1);
    if (!pristine[p]) die("out of memory", "inputs");
    snprintf(path, sizeof path, "%s/%d/%d/%s.bin", in_dir, id, set, KB_PARAMS[p].name);
    read_file(path, pristine[p], arg_bytes[p]);
  }
}

static void slot_fill(kb_slot *s, unsigned char **pristine) {
  for (int p = 0; p < KB_NPARAMS; p++)
    if (KB_PARAMS[p].kind == KB_IN) memcpy(s->buf[p].data, pristine[p], arg_bytes[p]);
}

/* Guards of every buffer and immutability of every input; prints the fail line and exits on the first problem. */
static void slot_verify(const kb_slot *s, unsigned char **pristine, int id, const char *call, const char *phase) {
  for (int p = 0; p < KB_NPARAMS; p++) {
    if (!is_buffer(p)) continue;
    const char *side;
    size_t offset;
    if (buf_guard_hit(&s->buf[p], &side, &offset)) {
      emit("{\"event\":\"fail\",\"id\":%d,\"call\":\"%s\",\"phase\":\"%s\",\"status\":\"out-of-bounds\",\"buffer\":\"%s\","
           "\"side\":\"%s\",\"offset\":%zu}", id, call, phase, KB_PARAMS[p].name, side, offset);
      exit(3);
    }
    if (KB_PARAMS[p].kind != KB_IN) continue;
    for (size_t i = 0; i < arg_bytes[p]; i++) {
      if (s->buf[p].data[i] == pristine[p][i]) continue;
      emit("{\"event\":\"fail\",\"id\":%d,\"call\":\"%s\",\"phase\":\"%s\",\"status\":\"input-mutated\",\"buffer\":\"%s\","
           "\"index\":%zu}", id, call, phase, KB_PARAMS[p].name, i / KB_PARAMS[p].elementBytes);
      exit(3);
    }
  }
}

/* Writes the outputs of one call; with `same_as`, an output byte-identical to it is not written (the reader
 * falls back to the earlier file), which keeps the repeated candidate calls from multiplying the data shipped. */
static void slot_save_outputs(const kb_slot *s, int id, const char *call, unsigned char **same_as) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/%d/%s", out_dir, id, call);
  for (int p = 0; p < KB_NPARAMS; p++) {
    if (KB_PARAMS[p].kind != KB_OUT) continue;
    if (same_as && memcmp(same_as[p], s->buf[p].data, s->buf[p].bytes) == 0) continue;
    write_file(dir, KB_PARAMS[p].name, s->buf[p].data, s->buf[p].bytes);
  }
}

static void copy_outputs(const kb_slot *s, unsigned char **dst) {
  for (int p = 0; p < KB_NPARAMS; p++) {
    if (KB_PARAMS[p].kind != KB_OUT) continue;
    dst[p] = malloc(s->buf[p].bytes ? s->buf[p].bytes : 1);
    if (!dst[p]) die("out of memory", "outputs");
    memcpy(dst[p], s->buf[p].data, s->buf[p].bytes);
  }
}

/* ---- check: candidate → reference → candidate, then the sequential partition for each nth --------------- */

static void run_check(FILE *plan, int id) {
  int nth, nparts, parts[KB_MAX_PARTS];
  if (fscanf(plan, "%d %d", &nth, &nparts) != 2 || nparts < 0 || nparts > KB_MAX_PARTS) die("plan", "bad check line");
  for (int i = 0; i < nparts; i++)
    if (fscanf(plan, "%d", &parts[i]) != 1 || parts[i] < 1 || parts[i] > KB_MAX_THREADS) die("plan", "bad partition count");
  parse_args(plan);
  nth = resolve_nth(nth);
  emit("{\"event\":\"case\",\"id\":%d,\"nth\":%d}", id, nth);
  pool_ensure(nth);

  unsigned char *pristine[KB_MAX_PARAMS] = {0};
  kb_slot s;
  slot_alloc(&s);
  load_inputs(id, 0, pristine);
  slot_fill(&s, pristine);

  unsigned char *first[KB_MAX_PARAMS] = {0};
  static const struct { const char *name; int ref; } order[] = {{"c1", 0}, {"r", 1}, {"c2", 0}};
  for (int k = 0; k < 3; k++) {
    slot_poison(&s);
    call_threaded(order[k].ref ? KB_REF : KB_CAND, s.args, order[k].ref ? 1 : nth);
    slot_verify(&s, pristine, id, order[k].name, "check");
    slot_save_outputs(&s, id, order[k].name, k == 2 ? first : NULL);
    if (k == 0) copy_outputs(&s, first);
  }
  for (int i = 0; KB_THREADED && i < nparts; i++) {
    char call[16];
    snprintf(call, sizeof call, "p%d", parts[i]);
    slot_poison(&s);
    call_sequential(KB_CAND, s.args, parts[i]);
    slot_verify(&s, pristine, id, call, "check");
    slot_save_outputs(&s, id, call, first);
  }
  slot_free(&s);
  for (int p = 0; p < KB_NPARAMS; p++) free(pristine[p]), free(first[p]);
  emit("{\"event\":\"ok\",\"id\":%d}", id);
}

/* ---- timing ----------------------------------------------------------------------------------------------- */

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t rng_state;
static uint64_t rng_next(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ull;
}

typedef struct {
  kb_call fn;
  const char *name;                            /* "base" or "cand" */
  unsigned char *first[KB_MAX_SETS][KB_MAX_PARAMS]; /* outputs of the first timed sample on each input set */
} kb_timed;

/* ---- speed of light (include/kb_speed_of_light.c, built with the same flags as the kernels) ----------------- */

void kb_speed_of_light(const float *x, float *out, int n, int iters);
#define KB_SOL_FMA_ITERS 4096

/* The fastest of 7 batches of at least 1 ms, per call. */
static double sol_fastest_ns(const float *x, float *out, int n, int iters) {
  long reps = 1;
  for (;;) {
    uint64_t t0 = now_ns();
    for (long r = 0; r < reps; r++) kb_speed_of_light(x, out, n, iters);
    uint64_t t = now_ns() - t0;
    if (t >= 1000000u || reps >= (1L << 24)) break;
    reps *= t ? (long)(1.2e6 / (double)t) + 1 : 16;
  }
  double best = 0;
  for (int k = 0; k < 7; k++) {
    uint64_t t0 = now_ns();
    for (long r = 0; r < reps; r++) kb_speed_of_light(x, out, n, iters);
    double t = (double)(now_ns() - t0) / (double)reps;
    if (k == 0 || t < best) best = t;
  }
  return best;
}

/* Streams `bytes` (the inputs and outputs of one call) and runs the FMA chains; prints the JSON fields of the time line. */
static void emit_speed_of_light(size_t bytes) {
  int n = (int)((bytes + 3) / 4);
  if (n < 64) n = 64;
  float *x = aligned_alloc(KB_ALIGN, ((size_t)n * 4 + KB_ALIGN - 1) / KB_ALIGN * KB_ALIGN);
  float out[2];
  if (!x) die("out of memory", "speed of light");
  memset(x, 0, (size_t)n * 4);
  double read_ns = sol_fastest_ns(x, out, n, 0);
  double fma_ns = sol_fastest_ns(x, out, 64, KB_SOL_FMA_ITERS);
  printf(",\"speedOfLight\":{\"footprintBytes\":%zu,\"readNs\":%.3f,\"peakGflops\":%.3f}", bytes, read_ns, (double)out[1] / fma_ns);
  free(x);
}

/* Before every timed call, one output element (a different one each call) is poisoned: a candidate that skips
 * a call because its output still looks computed leaves that element poisoned, and the check after the batch
 * sees it. One store per call, the same for baseline and candidate. */
static void poison_one(kb_slot *s, uint64_t call) {
  for (int p = 0; p < KB_NPARAMS; p++) {
    if (KB_PARAMS[p].kind != KB_OUT) continue;
    size_t elements = s->buf[p].bytes / (size_t)KB_PARAMS[p].elementBytes;
    if (!elements) continue;
    size_t k = (size_t)((call * 0x9E3779B97F4A7C15ull) >> 17) % elements;
    memset(s->buf[p].data + k * (size_t)KB_PARAMS[p].elementBytes, 0xFF, (size_t)KB_PARAMS[p].elementBytes);
  }
}

/* One batch: fresh input sets copied into the slots and outputs poisoned (untimed), `calls` calls rotating over
 * the slots (timed), then every slot re-checked (untimed). Returns the mean time per call. */
static double timed_batch(kb_timed *v, kb_slot *slots, unsigned char *sets[][KB_MAX_PARAMS], int nsets, int nth,
                          long calls, unsigned long sample, int id) {
  int set_of[KB_SLOTS];
  for (int k = 0; k < KB_SLOTS; k++) {
    set_of[k] = (int)((sample + (unsigned long)k) % (unsigned long)nsets);
    slot_fill(&slots[k], sets[set_of[k]]);
    slot_poison(&slots[k]);
  }
  uint64_t t0 = now_ns();
  for (long i = 0; i < calls; i++) {
    poison_one(&slots[i % KB_SLOTS], (uint64_t)i);
    call_threaded(v->fn, slots[i % KB_SLOTS].args, nth);
  }
  uint64_t elapsed = now_ns() - t0;

  for (int k = 0; k < KB_SLOTS; k++) {
    slot_verify(&slots[k], sets[set_of[k]], id, v->name, "timed");
    for (int p = 0; p < KB_NPARAMS; p++) {
      if (KB_PARAMS[p].kind != KB_OUT) continue;
      unsigned char **first = &v->first[set_of[k]][p];
      size_t bytes = arg_bytes[p];
      if (!*first) {
        *first = malloc(bytes ? bytes : 1);
        if (!*first) die("out of memory", "timed outputs");
        memcpy(*first, slots[k].buf[p].data, bytes);
        continue;
      }
      /* Same inputs, same output: a later sample that differs skipped or cached work. */
      for (size_t i = 0; i < bytes; i++) {
        if (slots[k].buf[p].data[i] == (*first)[i]) continue;
        emit("{\"event\":\"fail\",\"id\":%d,\"call\":\"%s\",\"phase\":\"timed\",\"status\":\"wrong\",\"buffer\":\"%s\","
             "\"index\":%zu,\"reason\":\"output of a timed call differs from an earlier timed call on the same inputs\"}",
             id, v->name, KB_PARAMS[p].name, i / KB_PARAMS[p].elementBytes);
        exit(3);
      }
    }
  }
  return (double)elapsed / (double)calls;
}

/* One sample: the fastest of KB_BATCHES batches. On a shared machine a batch that was preempted or interrupted is
 * slower, never faster, so the minimum is the estimate least disturbed by other load. */
#define KB_BATCHES 5
static unsigned long batch_counter;
static double timed_sample(kb_timed *v, kb_slot *slots, unsigned char *sets[][KB_MAX_PARAMS], int nsets, int nth,
                           long calls, int id) {
  double best = 0;
  for (int k = 0; k < KB_BATCHES; k++) {
    double t = timed_batch(v, slots, sets, nsets, nth, calls, batch_counter++, id);
    if (k == 0 || t < best) best = t;
  }
  return best;
}

static void run_time(FILE *plan, int id) {
  int nth, nsets, pairs;
  unsigned long long min_sample_ns, warmup_ns, seed;
  if (fscanf(plan, "%d %d %d %llu %llu %llu", &nth, &nsets, &pairs, &min_sample_ns, &warmup_ns, &seed) != 6 ||
      nsets < 1 || nsets > KB_MAX_SETS || pairs < 1 || pairs > KB_MAX_PAIRS)
    die("plan", "bad time line");
  parse_args(plan);
  nth = resolve_nth(nth);
  emit("{\"event\":\"case\",\"id\":%d,\"nth\":%d}", id, nth);
  pool_ensure(nth);
  rng_state = seed ? seed : 0x9E3779B97F4A7C15ull;

  unsigned char *sets[KB_MAX_SETS][KB_MAX_PARAMS] = {{0}};
  for (int k = 0; k < nsets; k++) load_inputs(id, k, sets[k]);
  kb_slot slots[KB_SLOTS];
  for (int k = 0; k < KB_SLOTS; k++) slot_alloc(&slots[k]);

  /* Reference outputs of every input set, so TypeScript can judge the timed outputs. */
  for (int k = 0; k < nsets; k++) {
    char call[16];
    snprintf(call, sizeof call, "r%d", k);
    slot_fill(&slots[0], sets[k]);
    slot_poison(&slots[0]);
    call_threaded(KB_REF, slots[0].args, 1);
    slot_verify(&slots[0], sets[k], id, "r", "timed");
    slot_save_outputs(&slots[0], id, call, NULL);
  }

  kb_timed base = {KB_BASE, "base", {{0}}}, cand = {KB_CAND, "cand", {{0}}}, up = {KB_UP, "upstream", {{0}}};
  /* Warm-up: caches, branch predictors, page faults, CPU frequency. */
  uint64_t t0 = now_ns();
  do {
    call_threaded(KB_BASE, slots[0].args, nth);
    call_threaded(KB_CAND, slots[1].args, nth);
    if (KB_UP) call_threaded(KB_UP, slots[0].args, nth);
  } while (now_ns() - t0 < warmup_ns);

  /* Batch size: enough calls that the faster of the two takes at least min_sample_ns per sample, unless the
   * slower would then take more than 20 times that (a candidate that skips its work must not stall the run). */
  long calls = KB_SLOTS;
  for (;;) {
    uint64_t a = now_ns();
    for (long i = 0; i < calls; i++) call_threaded(KB_BASE, slots[i % KB_SLOTS].args, nth);
    uint64_t b = now_ns();
    for (long i = 0; i < calls; i++) call_threaded(KB_CAND, slots[i % KB_SLOTS].args, nth);
    uint64_t c = now_ns();
    uint64_t fastest = (b - a) < (c - b) ? (b - a) : (c - b);
    uint64_t slowest = (b - a) < (c - b) ? (c - b) : (b - a);
    if (fastest >= min_sample_ns || slowest >= 20 * min_sample_ns || calls >= (1L << 24)) break;
    double scale = fastest ? (double)min_sample_ns / (double)fastest * 1.2 : 16.0;
    double room = slowest ? 20.0 * (double)min_sample_ns / (double)slowest : 16.0;
    if (scale > room) scale = room > 1.0 ? room : 1.0;
    long next = (long)((double)calls * (scale < 16.0 ? scale : 16.0)) + KB_SLOTS;
    calls = next - next % KB_SLOTS;
  }

  /* The upstream variant runs KB_UP_COPIES ops per call: fewer calls per batch, time divided per op. */
  long up_calls = calls / KB_UP_COPIES;
  up_calls = up_calls < KB_SLOTS ? KB_SLOTS : up_calls - up_calls % KB_SLOTS;

  double base_ns[KB_MAX_PAIRS], cand_ns[KB_MAX_PAIRS], up_ns[KB_MAX_PAIRS];
  for (int i = 0; i < pairs; i++) {
    if (KB_UP) { /* baseline, candidate and upstream in a random order each round */
      kb_timed *who[3] = {&base, &cand, &up};
      double *dst[3] = {&base_ns[i], &cand_ns[i], &up_ns[i]};
      int idx[3] = {0, 1, 2};
      for (int k = 2; k > 0; k--) {
        int j = (int)(rng_next() % (uint64_t)(k + 1)), t = idx[k];
        idx[k] = idx[j], idx[j] = t;
      }
      for (int k = 0; k < 3; k++) *dst[idx[k]] = timed_sample(who[idx[k]], slots, sets, nsets, nth, idx[k] == 2 ? up_calls : calls, id);
      up_ns[i] /= KB_UP_COPIES;
      continue;
    }
    /* Random order inside each pair, so drift (thermal, other load) does not favour either side. */
    if (rng_next() >> 63) {
      base_ns[i] = timed_sample(&base, slots, sets, nsets, nth, calls, id);
      cand_ns[i] = timed_sample(&cand, slots, sets, nsets, nth, calls, id);
    } else {
      cand_ns[i] = timed_sample(&cand, slots, sets, nsets, nth, calls, id);
      base_ns[i] = timed_sample(&base, slots, sets, nsets, nth, calls, id);
    }
  }

  for (int k = 0; k < nsets; k++) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%d/t%d", out_dir, id, k);
    for (int p = 0; p < KB_NPARAMS; p++)
      if (KB_PARAMS[p].kind == KB_OUT && cand.first[k][p]) write_file(dir, KB_PARAMS[p].name, cand.first[k][p], arg_bytes[p]);
  }

  printf("{\"event\":\"time\",\"id\":%d,\"nth\":%d,\"callsPerSample\":%ld,\"baselineNs\":[", id, nth, calls);
  for (int i = 0; i < pairs; i++) printf("%s%.3f", i ? "," : "", base_ns[i]);
  printf("],\"candidateNs\":[");
  for (int i = 0; i < pairs; i++) printf("%s%.3f", i ? "," : "", cand_ns[i]);
  printf("]");
  if (KB_UP) {
    printf(",\"upstreamCopies\":%d,\"upstreamNs\":[", KB_UP_COPIES);
    for (int i = 0; i < pairs; i++) printf("%s%.3f", i ? "," : "", up_ns[i]);
    printf("]");
  }
  size_t footprint = 0;
  for (int p = 0; p < KB_NPARAMS; p++)
    if (KB_PARAMS[p].kind == KB_IN || KB_PARAMS[p].kind == KB_OUT) footprint += arg_bytes[p];
  emit_speed_of_light(footprint);
  emit("}");
  for (int k = 0; k < KB_SLOTS; k++) slot_free(&slots[k]);
}

int main(int argc, char **argv) {
  if (argc != 4) die("usage", "kb_driver <plan> <input dir> <output dir>");
  in_dir = argv[2];
  out_dir = argv[3];
  FILE *plan = fopen(argv[1], "r");
  if (!plan) die("cannot open plan", argv[1]);
  emit("{\"event\":\"start\",\"cpus\":%ld}", sysconf(_SC_NPROCESSORS_ONLN));
  char kind[16];
  int id;
  while (fscanf(plan, "%15s %d", kind, &id) == 2) {
    if (strcmp(kind, "check") == 0) run_check(plan, id);
    else if (strcmp(kind, "time") == 0) run_time(plan, id);
    else die("plan", "unknown line kind");
  }
  emit("{\"event\":\"done\",\"pinned\":%s}", pool_pinned ? "true" : "false");
  return 0;
}
