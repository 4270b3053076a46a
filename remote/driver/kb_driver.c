/* kbench native driver: the generic half of every native run (the other half, kb_glue.c, is generated from the
 * kernel spec). TypeScript writes the plan and the input bytes and compares the outputs; this program only calls
 * the kernel under the check protocol (kb_protocol.h, generated from src/check/rules.ts) and times it.
 *
 *   echo <nonce> | kb_driver <plan.txt> <input dir> <output dir>  3><results file>  >stdout  2>stderr
 *
 * Result channel: every event is one JSON line written to fd 3 (opened by run.sh before this program starts),
 * never to stdout or stderr, which belong to the candidate (run.sh captures them). Each line ends with "seq" (0,
 * 1, 2, ... per process) and "mac", the HMAC-SHA256 of the text before it keyed with the nonce: the per-run secret
 * TypeScript generated, read from stdin (then pointed at /dev/null) before any candidate call and never written
 * anywhere. A line the candidate prints, or writes to fd 3 or the results file itself, has no valid tag. (The
 * candidate is linked into this process, so one that reads this process's memory can find the nonce; the channel
 * defends against printing, blind writes and copying lines, not against that.)
 *
 * Plan lines (one per case; arguments in spec parameter order: buffer byte count, i32 decimal, f32 as 0x bits):
 *   check <id> <nth> <nparts> <part nth...> <arg...>
 *   time  <id> <nth> <nsets> <pairs> <min batch ns> <warm-up ns> <seed> <arg...>  (a sample = best of KB_BATCHES)
 * Inputs:  <input dir>/<id>/<set>/<param>.bin, and <param>.alt: KB_REPLACEMENTS replacement elements (see perturb)
 * Outputs: check: <output dir>/<id>/<call>/<param>.bin: c1 (first call), r (reference), p<nth> (partition run
 *                  ith ascending, written only when it differs from c1), c3 (after perturbing the inputs, written
 *                  only when it differs from c1) and r3 (the reference on the perturbed inputs)
 *          time:  <output dir>/<id>/t<slot>/<param>.bin and r<slot>/<param>.bin: the candidate's outputs of its
 *                  last timed sample and the reference on the same (perturbed) inputs
 * Events (fd 3): start, case, ok, fail, time, done, error; exit 0 done, 3 candidate failed a check (see the fail
 * line), 2 harness error. A time line also carries this build's speed of light at the shape's footprint
 * (include/kb_speed_of_light.c, linked in by run.sh).
 *
 * Checks done here, byte for byte (TypeScript compares against the reference under the spec's tolerances):
 *  - guard zones of every buffer (canaries; PROT_NONE pages beyond them fault on far strays), inputs read-only
 *    during every call (mprotect; a write faults and the SIGSEGV handler names the buffer)
 *  - the second call on the same inputs at the same addresses, and a call on a copy at other addresses, give
 *    the first call's outputs; each partition count run ith ascending, descending and shuffled gives the same
 *    outputs, and the threaded call's when the nth is the same
 *  - timed outputs: the same within a sample; after each candidate sample an untimed call on a copy of the
 *    (perturbed) inputs at other addresses gives the timed outputs. */
#define _GNU_SOURCE
#include "kb_driver.h"
#include "kb_protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define KB_ALIGN 64
#define KB_MAX_THREADS 256
#define KB_MAX_PARAMS 32
#define KB_MAX_PARTS 16
#define KB_MAX_SETS 8
#define KB_SLOTS 2
#define KB_MAX_PAIRS 1000
#define KB_RESULTS_FD 3
#define KB_MAX_LIVE (KB_MAX_PARAMS * (KB_SLOTS + 1))

static const char *in_dir, *out_dir;

/* ---- result channel -------------------------------------------------------------------------------------- */

/* SHA-256 (FIPS 180-4) and HMAC (RFC 2104), written here from the standards: each result line carries the HMAC of
 * its text keyed with the nonce, so the lines prove the nonce without showing it (the results file is readable by
 * the candidate, which runs as the same user). */
typedef struct {
  uint32_t h[8];
  uint64_t bytes;
  unsigned char block[64];
  size_t used;
} kb_sha;

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
    0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
    0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
    0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
    0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
    0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t ror(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void sha_block(kb_sha *s, const unsigned char *p) {
  uint32_t w[64], v[8];
  for (int i = 0; i < 16; i++) w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (int i = 16; i < 64; i++)
    w[i] = w[i - 16] + (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3)) + w[i - 7] + (ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10));
  memcpy(v, s->h, sizeof v);
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = v[7] + (ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25)) + ((v[4] & v[5]) ^ (~v[4] & v[6])) + sha_k[i] + w[i];
    uint32_t t2 = (ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22)) + ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
    memmove(v + 1, v, 7 * sizeof v[0]);
    v[4] += t1;
    v[0] = t1 + t2;
  }
  for (int i = 0; i < 8; i++) s->h[i] += v[i];
}

static void sha_init(kb_sha *s) {
  static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(s->h, h0, sizeof h0);
  s->bytes = 0, s->used = 0;
}

static void sha_update(kb_sha *s, const void *data, size_t n) {
  const unsigned char *p = data;
  s->bytes += n;
  while (n) {
    size_t take = 64 - s->used < n ? 64 - s->used : n;
    memcpy(s->block + s->used, p, take);
    s->used += take, p += take, n -= take;
    if (s->used == 64) sha_block(s, s->block), s->used = 0;
  }
}

static void sha_final(kb_sha *s, unsigned char out[32]) {
  uint64_t bits = s->bytes * 8;
  unsigned char pad = 0x80, zero = 0, len[8];
  sha_update(s, &pad, 1);
  while (s->used != 56) sha_update(s, &zero, 1);
  for (int i = 0; i < 8; i++) len[i] = (unsigned char)(bits >> (56 - 8 * i));
  sha_update(s, len, 8);
  for (int i = 0; i < 32; i++) out[i] = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

/* HMAC-SHA256 with a key of at most 64 bytes (the nonce). */
static void hmac_sha256(const char *key, const void *msg, size_t n, unsigned char out[32]) {
  unsigned char k[64] = {0}, ipad[64], opad[64], inner[32];
  memcpy(k, key, strlen(key) < 64 ? strlen(key) : 64);
  for (int i = 0; i < 64; i++) ipad[i] = k[i] ^ 0x36, opad[i] = k[i] ^ 0x5c;
  kb_sha s;
  sha_init(&s), sha_update(&s, ipad, 64), sha_update(&s, msg, n), sha_final(&s, inner);
  sha_init(&s), sha_update(&s, opad, 64), sha_update(&s, inner, 32), sha_final(&s, out);
}

static char nonce[65];
static int results_fd = -1;
static char line_buf[1 << 16];
static size_t line_len;
static unsigned long line_seq;

static void line_add(const char *fmt, ...) {
  if (line_len >= sizeof line_buf - 2) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line_buf + line_len, sizeof line_buf - 1 - line_len, fmt, ap);
  va_end(ap);
  if (n > 0) line_len = line_len + (size_t)n < sizeof line_buf - 2 ? line_len + (size_t)n : sizeof line_buf - 2;
}

static void line_begin(void) {
  line_len = 0;
  line_add("{");
}

/* Closes the line with its sequence number (no line can be dropped, replayed or reordered unseen) and the tag,
 * the HMAC of everything before it keyed with the nonce; one write per line, so a crash later cannot lose the
 * lines before it, nor cut one in two. */
static void line_send(void) {
  if (line_len && line_buf[line_len - 1] == '}') line_len--;
  line_add(",\"seq\":%lu", line_seq++);
  unsigned char tag[32];
  hmac_sha256(nonce, line_buf, line_len, tag);
  line_add(",\"mac\":\"");
  for (int i = 0; i < 32; i++) line_add("%02x", tag[i]);
  line_add("\"}");
  line_buf[line_len++] = '\n';
  int fd = results_fd >= 0 ? results_fd : 2;
  for (size_t off = 0; off < line_len;) {
    ssize_t w = write(fd, line_buf + off, line_len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += (size_t)w;
  }
  line_len = 0;
}

/* fmt: the fields of the line, closing brace included. */
static void emit(const char *fmt, ...) {
  line_begin();
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line_buf + line_len, sizeof line_buf - 1 - line_len, fmt, ap);
  va_end(ap);
  if (n > 0) line_len = line_len + (size_t)n < sizeof line_buf - 2 ? line_len + (size_t)n : sizeof line_buf - 2;
  line_send();
}

_Noreturn void kb_die(const char *what, const char *detail) {
  emit("\"event\":\"error\",\"message\":\"%s: %s\"}", what, detail);
  exit(2);
}

/* The nonce arrives on stdin (a pipe from run.sh, which removed the bundle's copy): read, checked, the buffer
 * wiped and stdin pointed at /dev/null, all before the first candidate call. fd 3 must be open already. */
static void open_channel(void) {
  if (fcntl(KB_RESULTS_FD, F_GETFD) < 0) {
    fputs("kb_driver: fd 3 (the result channel) is not open; run it through run.sh\n", stderr);
    exit(2);
  }
  results_fd = KB_RESULTS_FD;
  fcntl(results_fd, F_SETFD, FD_CLOEXEC);
  char buf[128];
  size_t got = 0;
  for (ssize_t r; got < sizeof buf - 1 && (r = read(0, buf + got, sizeof buf - 1 - got)) != 0;) {
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    got += (size_t)r;
  }
  size_t len = 0;
  while (len < got && len < sizeof nonce - 1 && ((buf[len] >= '0' && buf[len] <= '9') || (buf[len] >= 'a' && buf[len] <= 'f'))) len++;
  memcpy(nonce, buf, len);
  nonce[len] = 0;
  memset(buf, 0, sizeof buf);
  int null = open("/dev/null", O_RDONLY);
  if (null >= 0) dup2(null, 0), close(null);
  if (len < 16) kb_die("no nonce", "stdin must carry the run's nonce (16-64 hex digits)");
}

/* On ELF targets the channel opens (and the nonce is read) in a constructor of the highest priority user code
 * can ask for without a warning: driver.o is linked first, so this runs before any constructor the candidate
 * declares at that priority or the default one. */
#if defined(__ELF__)
__attribute__((constructor(101))) static void open_channel_early(void) { open_channel(); }
#endif

/* A seed only this run knows (the nonce), so a candidate cannot predict perturbed positions or shuffles. */
static uint64_t nonce_seed(void) {
  uint64_t h = 1469598103934665603ull;
  for (const char *c = nonce; *c; c++) h = (h ^ (unsigned char)*c) * 1099511628211ull;
  return h;
}

static uint64_t rng_state;
static uint64_t rng_next(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ull;
}
static void rng_seed(uint64_t seed) { rng_state = seed ? seed : 0x9E3779B97F4A7C15ull; }

/* ---- guarded buffers ------------------------------------------------------------------------------------- */

/* One mapping per buffer: [PROT_NONE page][canaries | data | canaries][PROT_NONE page]. The data is placed at the
 * end of the middle pages (64-byte aligned), so the canaries after it are KB_GUARD..KB_GUARD+63 bytes and a stray
 * write further than that faults; a write into the canaries is found by the check after the call. */
typedef struct {
  unsigned char *map, *lo, *data; /* lo: first byte of the middle pages */
  size_t map_bytes, inner, bytes; /* inner: size of the middle pages */
  int param, readonly;
} kb_buf;

static size_t page_bytes;
static kb_buf *live[KB_MAX_LIVE]; /* buffers the fault handler can name */

/* Guard byte at offset j from lo; the parameter index makes it differ between buffers, so an overrun that copies
 * the end of one buffer into another does not write the other's own canary. */
static unsigned char canary(int param, size_t j) { return (unsigned char)(0xA5 ^ ((unsigned)param * 0x3B) ^ (j * 29)); }

static int is_buffer(int p) { return KB_PARAMS[p].kind == KB_IN || KB_PARAMS[p].kind == KB_OUT || KB_PARAMS[p].kind == KB_SCRATCH; }

static void buf_protect(kb_buf *b, int readonly) {
  if (b->readonly == readonly) return;
  if (mprotect(b->lo, b->inner, readonly ? PROT_READ : PROT_READ | PROT_WRITE) != 0) kb_die("mprotect", KB_PARAMS[b->param].name);
  b->readonly = readonly;
}

static void buf_alloc(kb_buf *b, size_t bytes, int param) {
  size_t body = (bytes + KB_ALIGN - 1) / KB_ALIGN * KB_ALIGN;
  b->param = param;
  b->bytes = bytes;
  b->readonly = 0;
  b->inner = (2 * (size_t)KB_GUARD + body + page_bytes - 1) / page_bytes * page_bytes;
  b->map_bytes = b->inner + 2 * page_bytes;
  b->map = mmap(NULL, b->map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (b->map == MAP_FAILED) kb_die("out of memory", "buffer");
  b->lo = b->map + page_bytes;
  b->data = b->lo + b->inner - KB_GUARD - body;
  if (mprotect(b->map, page_bytes, PROT_NONE) != 0 || mprotect(b->lo + b->inner, page_bytes, PROT_NONE) != 0) kb_die("mprotect", "guard page");
  for (unsigned char *q = b->lo; q < b->data; q++) *q = canary(param, (size_t)(q - b->lo));
  for (unsigned char *q = b->data + bytes; q < b->lo + b->inner; q++) *q = canary(param, (size_t)(q - b->lo));
  for (int k = 0; k < KB_MAX_LIVE; k++)
    if (!live[k]) {
      live[k] = b;
      return;
    }
  kb_die("too many buffers", KB_PARAMS[param].name);
}

static void buf_free(kb_buf *b) {
  for (int k = 0; k < KB_MAX_LIVE; k++)
    if (live[k] == b) live[k] = NULL;
  munmap(b->map, b->map_bytes);
}

/* 0 when both guard zones are intact; else the side and the offset (bytes before the data, or past its end). */
static int buf_guard_hit(const kb_buf *b, const char **side, size_t *offset) {
  size_t head = (size_t)(b->data - b->lo);
  for (size_t k = 0; k < head; k++)
    if (b->data[-1 - (long)k] != canary(b->param, head - 1 - k)) return *side = "before", *offset = k, 1;
  for (size_t k = 0; head + b->bytes + k < b->inner; k++)
    if (b->data[b->bytes + k] != canary(b->param, head + b->bytes + k)) return *side = "after", *offset = k, 1;
  return 0;
}

/* ---- faults: a write to a read-only input or into a guard page, named ------------------------------------ */

static volatile int cur_id = -1, cur_nth = 1;
static const char *volatile cur_call = "", *volatile cur_phase = "check";

/* What the candidate is running, for fail lines (nth: the threads of that call, or of the partition). */
static void at(int id, const char *call, const char *phase, int nth) { cur_id = id, cur_call = call, cur_phase = phase, cur_nth = nth; }

/* Runs on the faulting thread, inside candidate code (the driver holds no lock then): formats into the line
 * buffer, one write, _exit. An address outside every buffer is the candidate's own crash: the default action. */
static void on_fault(int sig, siginfo_t *info, void *context) {
  (void)context;
  uintptr_t a = (uintptr_t)info->si_addr;
  for (int k = 0; k < KB_MAX_LIVE; k++) {
    const kb_buf *b = live[k];
    if (!b || a < (uintptr_t)b->map || a >= (uintptr_t)b->map + b->map_bytes) continue;
    /* The first faulting thread reports; any other waits for the _exit (one fail line, never two). */
    static atomic_int reported;
    if (atomic_exchange(&reported, 1)) for (;;) pause();
    const char *name = KB_PARAMS[b->param].name;
    uintptr_t start = (uintptr_t)b->data, end = start + b->bytes;
    if (a >= start && a < end)
      emit("\"event\":\"fail\",\"id\":%d,\"call\":\"%s\",\"phase\":\"%s\",\"status\":\"input-mutated\",\"buffer\":\"%s\","
           "\"index\":%zu,\"nth\":%d,\"fault\":true}", cur_id, cur_call, cur_phase, name, (size_t)(a - start) / (size_t)KB_PARAMS[b->param].elementBytes, cur_nth);
    else
      emit("\"event\":\"fail\",\"id\":%d,\"call\":\"%s\",\"phase\":\"%s\",\"status\":\"out-of-bounds\",\"buffer\":\"%s\","
           "\"side\":\"%s\",\"offset\":%zu,\"nth\":%d,\"fault\":true}", cur_id, cur_call, cur_phase, name, a < start ? "before" : "after",
           a < start ? (size_t)(start - 1 - a) : (size_t)(a - end), cur_nth);
    _exit(3);
  }
  signal(sig, SIG_DFL); /* returning re-runs the access under the default action */
}

static void install_fault_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
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
  if (nth > KB_MAX_THREADS) kb_die("too many threads", "nth > 256");
  if (nth > 1 && pool_workers == 0) pool_pinned = pin_to_cpu(pthread_self(), 0);
  while (pool_workers < nth - 1) {
    int ith = pool_workers + 1;
    if (pthread_create(&pool_threads[ith], NULL, pool_worker, (void *)(intptr_t)ith) != 0) kb_die("pthread_create", "failed");
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

/* The ith of one partition one after another on this thread, in `order`: checks the partition without any
 * concurrency; orders other than ascending show state one ith leaves for another (thread 0 "preparing" for
 * the rest works ascending only). */
static void call_sequential(kb_call fn, const kb_arg *args, const int *order, int nth) {
  for (int k = 0; k < nth; k++) fn(args, order[k], nth);
}

/* ---- one case's buffers ---------------------------------------------------------------------------------- */

typedef struct {
  kb_buf buf[KB_MAX_PARAMS];
  kb_arg args[KB_MAX_PARAMS];
} kb_slot;

static size_t arg_bytes[KB_MAX_PARAMS];
static kb_arg arg_scalar[KB_MAX_PARAMS];

static void parse_args(FILE *plan) {
  char tok[64];
  for (int p = 0; p < KB_NPARAMS; p++) {
    if (fscanf(plan, "%63s", tok) != 1) kb_die("plan", "too few arguments");
    if (is_buffer(p)) arg_bytes[p] = strtoull(tok, NULL, 10);
    else if (KB_PARAMS[p].kind == KB_I32) arg_scalar[p].i = (int32_t)strtol(tok, NULL, 10);
    else {
      uint32_t bits = (uint32_t)strtoul(tok, NULL, 16);
      memcpy(&arg_scalar[p].f, &bits, sizeof bits);
    }
  }
}

/* Inputs are read-only from here on, except while the driver itself writes them (slot_fill). */
static void slot_alloc(kb_slot *s) {
  for (int p = 0; p < KB_NPARAMS; p++) {
    if (!is_buffer(p)) {
      s->args[p] = arg_scalar[p];
      continue;
    }
    buf_alloc(&s->buf[p], arg_bytes[p], p);
    if (KB_PARAMS[p].kind == KB_IN) buf_protect(&s->buf[p], 1);
    s->args[p].p = s->buf[p].data;
  }
}

static void slot_free(kb_slot *s) {
  for (int p = 0; p < KB_NPARAMS; p++)
    if (is_buffer(p)) buf_free(&s->buf[p]);
}

/* Poison outputs (KB_POISON_FIRST 0xFF is NaN in f32 and f16; for integers, an unlikely pattern) and scratch
 * buffers, so nothing one call leaves there can be read back by the next. */
static void slot_poison(kb_slot *s, int value) {
  for (int p = 0; p < KB_NPARAMS; p++)
    if (KB_PARAMS[p].kind == KB_OUT || KB_PARAMS[p].kind == KB_SCRATCH) memset(s->buf[p].data, value, s->buf[p].bytes);
}

/* An input's bytes, followed in the same allocation by its KB_REPLACEMENTS replacement elements (<param>.alt). */
static void load_inputs(int id, int set, unsigned char **pristine) {
  char path[4096];
  for (int p = 0; p < KB_NPARAMS; p++) {
    if (KB_PARAMS[p].kind != KB_IN) continue;
    size_t alt = arg_bytes[p] ? (size_t)KB_REPLACEMENTS * (size_t)KB_PARAMS[p].elementBytes : 0;
    pristine[p] = malloc(arg_bytes[p] + alt ? arg_bytes[p] + alt : 1);
    if (!pristine[p]) kb_die("out of memory", "inputs");
    snprintf(path, sizeof path, "%s/%d/%d/%s.bin", in_dir, id, set, KB_PARAMS[p].name);
    kb_read_file(path, pristine[p], arg_bytes[p]);
    snprintf(path, sizeof path, "%s/%d/%d/%s.alt", in_dir, id, set, KB_PARAMS[p].name);
    if (alt) kb_read_file(path, pristine[p] + arg_bytes[p], alt);
  }
}

static void slot_fill(kb_slot *s, unsigned char **pristine) {
  for (int p = 0; p < KB_NPARAMS; p++) {
    if (KB_PARAMS[p].kind != KB_IN) continue;
    buf_protect(&s->buf[p], 0);
    memcpy(s->buf[p].data, pristine[p], arg_bytes[p]);
    buf_protect(&s->buf[p], 1);
  }
}

/* Rewrites KB_PERTURBED_PER_SAMPLE elements of every input at fresh random positions, each with one of the input's
 * replacements (draws the host made from the input's own distribution, as the sandbox draws them; an element left as
 * it was is tried again a few times): a cache keyed on addresses or on a sample of the contents returns outputs of
 * the old inputs, which the reference on the new ones shows. Copying another element of the buffer instead broke
 * what a distribution promises (q8_0's `ties` blocks each hold ±127) and failed honest quantizers. */
static void perturb(unsigned char **pristine) {
  for (int p = 0; p < KB_NPARAMS; p++) {
    if (KB_PARAMS[p].kind != KB_IN) continue;
    size_t size = (size_t)KB_PARAMS[p].elementBytes, elements = arg_bytes[p] / size;
    const unsigned char *pool = pristine[p] + arg_bytes[p];
    for (int k = 0; elements > 0 && k < KB_PERTURBED_PER_SAMPLE; k++) {
      for (int attempt = 0; attempt < 4; attempt++) {
        unsigned char *to = pristine[p] + (size_t)(rng_next() % elements) * size;
        const unsigned char *value = pool + (size_t)(rng_next() % KB_REPLACEMENTS) * size;
        if (memcmp(to, value, size) == 0) continue;
        memcpy(to, value, size);
        break;
      }
    }
  }
}

static void fail_line(int id, const char *call, const char *phase, int p, size_t byte, const char *reason) {
  emit("\"event\":\"fail\",\"id\":%d,\"call\":\"%s\",\"phase\":\"%s\",\"status\":\"wrong\",\"buffer\":\"%s\","
       "\"index\":%zu,\"nth\":%d,\"reason\":\"%s\"}", id, call, phase, KB_PARAMS[p].name, byte / (size_t)KB_PARAMS[p].elementBytes, cur_nth, reason);
  exit(3);
}

/* Guards of every buffer and immutability of every input; prints the fail line and exits on the first problem. */
static void slot_verify(const kb_slot *s, unsigned char **pristine, int id, const char *call, const char *phase) {
  for (int p = 0; p < KB_NPARAMS; p++) {
    if (!is_buffer(p)) continue;
    const char *side;
    size_t offset;
    if (buf_guard_hit(&s->buf[p], &side, &offset)) {
      emit("\"event\":\"fail\",\"id\":%d,\"call\":\"%s\",\"phase\":\"%s\",\"status\":\"out-of-bounds\",\"buffer\":\"%s\","
           "\"side\":\"%s\",\"offset\":%zu}", id, call, phase, KB_PARAMS[p].name, side, offset);
      exit(3);
    }
    if (KB_PARAMS[p].kind != KB_IN) continue;
    for (size_t i = 0; i < arg_bytes[p]; i++) {
      if (s->buf[p].data[i] == pristine[p][i]) continue;
      emit("\"event\":\"fail\",\"id\":%d,\"call\":\"%s\",\"phase\":\"%s\",\"status\":\"input-mutated\",\"buffer\":\"%s\","
           "\"index\":%zu}", id, call, phase, KB_PARAMS[p].name, i / (size_t)KB_PARAMS[p].elementBytes);
      exit(3);
    }
  }
}

static int is_poison(const unsigned char *element, size_t size) {
  int first = 1, second = 1;
  for (size_t k = 0; k < size; k++) first &= element[k] == KB_POISON_FIRST, second &= element[k] == KB_POISON_SECOND;
  return first || second;
}

/* The outputs of `s` must be byte-identical to `want` (an earlier call on the same inputs). */
static void require_same(const kb_slot *s, unsigned char **want, int id, const char *call, const char *phase, const char *reason) {
  for (int p = 0; p < KB_NPARAMS; p++) {
    if (KB_PARAMS[p].kind != KB_OUT) continue;
    size_t size = (size_t)KB_PARAMS[p].elementBytes;
    for (size_t i = 0; i < arg_bytes[p]; i++) {
      if (s->buf[p].data[i] == want[p][i]) continue;
      /* The two calls saw different poisons: an element one of them left unwritten shows as a difference. */
      size_t e = i / size * size;
      char why[320];
      int unwritten = is_poison(s->buf[p].data + e, size) || is_poison(want[p] + e, size);
      snprintf(why, sizeof why, "%s%s", reason, unwritten ? " (one of them still holds the poison there: an element never written)" : "");
      fail_line(id, call, phase, p, i, why);
    }
  }
}

/* ith ascending one after another, as call_sequential, with each output byte owned by the one ith that wrote it
 * (the WASM check's rule): before each later ith, the bytes earlier ones wrote are re-poisoned (and restored after),
 * so a second writer shows even when it writes the same value. */
static void call_sequential_owned(kb_slot *s, int nth, int id, const char *call) {
  short *owner[KB_MAX_PARAMS] = {0};
  unsigned char *saved[KB_MAX_PARAMS] = {0};
  for (int p = 0; p < KB_NPARAMS; p++) {
    if (KB_PARAMS[p].kind != KB_OUT) continue;
    owner[p] = malloc(arg_bytes[p] * sizeof(short) + 1), saved[p] = malloc(arg_bytes[p] + 1);
    if (!owner[p] || !saved[p]) kb_die("out of memory", "partition owners");
    for (size_t i = 0; i < arg_bytes[p]; i++) owner[p][i] = -1;
  }
  for (int ith = 0; ith < nth; ith++) {
    for (int p = 0; p < KB_NPARAMS; p++) {
      if (!owner[p]) continue;
      unsigned char *d = s->buf[p].data;
      memcpy(saved[p], d, arg_bytes[p]);
      for (size_t i = 0; i < arg_bytes[p]; i++)
        if (owner[p][i] >= 0) d[i] = KB_POISON_FIRST;
    }
    KB_CAND(s->args, ith, nth);
    for (int p = 0; p < KB_NPARAMS; p++) {
      if (!owner[p]) continue;
      unsigned char *d = s->buf[p].data;
      for (size_t i = 0; i < arg_bytes[p]; i++) {
        int earlier = owner[p][i] >= 0;
        if (d[i] == (earlier ? KB_POISON_FIRST : saved[p][i])) {
          if (earlier) d[i] = saved[p][i];
        } else if (earlier) {
          char why[160];
          snprintf(why, sizeof why, "written by both ith=%d and ith=%d of nth=%d", owner[p][i], ith, nth);
          fail_line(id, call, "check", p, i, why);
        } else owner[p][i] = (short)ith;
      }
    }
  }
  for (int p = 0; p < KB_NPARAMS; p++) free(owner[p]), free(saved[p]);
}

/* Writes the outputs of one call; with `same_as`, an output byte-identical to it is not written (the reader
 * falls back to the earlier file), which keeps the repeated candidate calls from multiplying the data shipped. */
static void slot_save_outputs(const kb_slot *s, int id, const char *call, unsigned char **same_as) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/%d/%s", out_dir, id, call);
  for (int p = 0; p < KB_NPARAMS; p++) {
    if (KB_PARAMS[p].kind != KB_OUT) continue;
    if (same_as && memcmp(same_as[p], s->buf[p].data, s->buf[p].bytes) == 0) continue;
    kb_write_file(dir, KB_PARAMS[p].name, s->buf[p].data, s->buf[p].bytes);
  }
}

static void copy_outputs(const kb_slot *s, unsigned char **dst) {
  for (int p = 0; p < KB_NPARAMS; p++) {
    if (KB_PARAMS[p].kind != KB_OUT) continue;
    if (!dst[p] && !(dst[p] = malloc(s->buf[p].bytes ? s->buf[p].bytes : 1))) kb_die("out of memory", "outputs");
    memcpy(dst[p], s->buf[p].data, s->buf[p].bytes);
  }
}

static void free_all(unsigned char **a) {
  for (int p = 0; p < KB_MAX_PARAMS; p++) free(a[p]), a[p] = NULL;
}

/* ---- check ------------------------------------------------------------------------------------------------ */

static const char *const partition_orders[KB_PARTITION_ORDERS] = KB_PARTITION_ORDER_NAMES;

static void make_order(const char *how, int *order, int nth) {
  for (int k = 0; k < nth; k++) order[k] = k;
  if (strcmp(how, "descending") == 0) {
    for (int k = 0; k < nth; k++) order[k] = nth - 1 - k;
  } else if (strcmp(how, "shuffled") == 0) {
    for (int k = nth - 1; k > 0; k--) {
      int j = (int)(rng_next() % (uint64_t)(k + 1)), t = order[k];
      order[k] = order[j], order[j] = t;
    }
  } else if (strcmp(how, "ascending") != 0) {
    kb_die("protocol", "unknown partition order");
  }
}

/* c1 (candidate) → r (reference) → c2 (again, same addresses) → a copy at other addresses → each partition count
 * in every order → the inputs perturbed: c3 and r3 at the same addresses. */
static void run_check(FILE *plan, int id) {
  int nth, nparts, parts[KB_MAX_PARTS];
  if (fscanf(plan, "%d %d", &nth, &nparts) != 2 || nparts < 0 || nparts > KB_MAX_PARTS) kb_die("plan", "bad check line");
  for (int i = 0; i < nparts; i++)
    if (fscanf(plan, "%d", &parts[i]) != 1 || parts[i] < 1 || parts[i] > KB_MAX_THREADS) kb_die("plan", "bad partition count");
  parse_args(plan);
  nth = resolve_nth(nth);
  emit("\"event\":\"case\",\"id\":%d,\"nth\":%d}", id, nth);
  pool_ensure(nth);
  rng_seed(nonce_seed() ^ ((uint64_t)(id + 1) * 0x9E3779B97F4A7C15ull));

  unsigned char *pristine[KB_MAX_PARAMS] = {0}, *first[KB_MAX_PARAMS] = {0}, *asc[KB_MAX_PARAMS] = {0};
  kb_slot s, copy;
  slot_alloc(&s);
  load_inputs(id, 0, pristine);
  slot_fill(&s, pristine);

  at(id, "c1", "check", nth);
  slot_poison(&s, KB_POISON_FIRST);
  call_threaded(KB_CAND, s.args, nth);
  slot_verify(&s, pristine, id, "c1", "check");
  slot_save_outputs(&s, id, "c1", NULL);
  copy_outputs(&s, first);

  at(id, "r", "check", 1);
  slot_poison(&s, KB_POISON_FIRST);
  call_threaded(KB_REF, s.args, 1);
  slot_verify(&s, pristine, id, "r", "check");
  slot_save_outputs(&s, id, "r", NULL);

  at(id, "c2", "check", nth);
  slot_poison(&s, KB_POISON_SECOND);
  call_threaded(KB_CAND, s.args, nth);
  slot_verify(&s, pristine, id, "c2", "check");
  require_same(&s, first, id, "c2", "check", "a second call on the same inputs at the same addresses differs from the first call");

  /* Outputs that depend on where the buffers are (or a cache keyed on addresses) show on a copy elsewhere. */
  at(id, "copy", "check", nth);
  slot_alloc(&copy);
  slot_fill(&copy, pristine);
  slot_poison(&copy, KB_POISON_FIRST);
  call_threaded(KB_CAND, copy.args, nth);
  slot_verify(&copy, pristine, id, "copy", "check");
  require_same(&copy, first, id, "copy", "check", "a call on a copy of the inputs at other addresses differs from the first call");
  slot_free(&copy);

  for (int i = 0; KB_THREADED && i < nparts; i++) {
    char call[16], reason[160];
    int order[KB_MAX_THREADS];
    snprintf(call, sizeof call, "p%d", parts[i]);
    at(id, call, "check", parts[i]);
    for (int o = 0; o < KB_PARTITION_ORDERS; o++) {
      make_order(partition_orders[o], order, parts[i]);
      slot_poison(&s, KB_POISON_FIRST);
      if (o == 0) call_sequential_owned(&s, parts[i], id, call);
      else call_sequential(KB_CAND, s.args, order, parts[i]);
      slot_verify(&s, pristine, id, call, "check");
      if (o == 0) {
        slot_save_outputs(&s, id, call, first);
        copy_outputs(&s, asc);
        snprintf(reason, sizeof reason, "the partition run ith ascending one after another differs from the threaded call with nth=%d", parts[i]);
        if (parts[i] == nth) require_same(&s, first, id, call, "check", reason);
      } else {
        snprintf(reason, sizeof reason, "the partition run ith %s one after another differs from ith ascending (state left by one ith for another)", partition_orders[o]);
        require_same(&s, asc, id, call, "check", reason);
      }
    }
  }

  /* The outputs must follow the inputs: TypeScript compares c3 with r3 (and c3 absent means "same as c1"). */
  perturb(pristine);
  slot_fill(&s, pristine);
  at(id, "c3", "check", nth);
  slot_poison(&s, KB_POISON_FIRST);
  call_threaded(KB_CAND, s.args, nth);
  slot_verify(&s, pristine, id, "c3", "check");
  slot_save_outputs(&s, id, "c3", first);
  at(id, "r3", "check", 1);
  slot_poison(&s, KB_POISON_FIRST);
  call_threaded(KB_REF, s.args, 1);
  slot_verify(&s, pristine, id, "r3", "check");
  slot_save_outputs(&s, id, "r3", NULL);

  slot_free(&s);
  free_all(pristine), free_all(first), free_all(asc);
  emit("\"event\":\"ok\",\"id\":%d}", id);
}

/* ---- timing ----------------------------------------------------------------------------------------------- */

typedef struct {
  kb_call fn;
  const char *name;                                 /* "base" or "cand" */
  unsigned char *first[KB_MAX_SETS][KB_MAX_PARAMS]; /* outputs of the sample's first batch on each input set */
  int have[KB_MAX_SETS];                            /* first[set] holds this sample's outputs */
  int set_of[KB_SLOTS];                             /* the input set in each slot during the last batch */
} kb_timed;

/* ---- speed of light (include/kb_speed_of_light.c, built with the same flags as the kernels) ----------------- */

void kb_speed_of_light(const float *x, float *out, int n, int iters);

/* The fastest of KB_SOL_BATCHES batches of at least KB_SOL_MIN_BATCH_NS, per call. */
static double sol_fastest_ns(const float *x, float *out, int n, int iters) {
  long reps = 1;
  for (;;) {
    uint64_t t0 = kb_now_ns();
    for (long r = 0; r < reps; r++) kb_speed_of_light(x, out, n, iters);
    uint64_t t = kb_now_ns() - t0;
    if (t >= (uint64_t)KB_SOL_MIN_BATCH_NS || reps >= (1L << 24)) break;
    reps *= t ? (long)(1.2 * KB_SOL_MIN_BATCH_NS / (double)t) + 1 : 16;
  }
  double best = 0;
  for (int k = 0; k < KB_SOL_BATCHES; k++) {
    uint64_t t0 = kb_now_ns();
    for (long r = 0; r < reps; r++) kb_speed_of_light(x, out, n, iters);
    double t = (double)(kb_now_ns() - t0) / (double)reps;
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
  if (!x) kb_die("out of memory", "speed of light");
  memset(x, 0, (size_t)n * 4);
  double read_ns = sol_fastest_ns(x, out, n, 0);
  double fma_ns = sol_fastest_ns(x, out, 64, KB_SOL_FMA_ITERS);
  line_add(",\"speedOfLight\":{\"footprintBytes\":%zu,\"readNs\":%.3f,\"peakGflops\":%.3f}", bytes, read_ns, (double)out[1] / fma_ns);
  free(x);
}

/* Before every timed call, one output element (a different one each call) is poisoned: a candidate that skips
 * a call because its output still looks computed leaves that element poisoned, and the check after the batch
 * sees it. One store per call, the same for baseline and candidate. */
static void poison_one(kb_slot *s, uint64_t call) {
#if KB_POISON_ONE_PER_CALL
  for (int p = 0; p < KB_NPARAMS; p++) {
    if (KB_PARAMS[p].kind != KB_OUT) continue;
    size_t elements = s->buf[p].bytes / (size_t)KB_PARAMS[p].elementBytes;
    if (!elements) continue;
    size_t k = (size_t)((call * 0x9E3779B97F4A7C15ull) >> 17) % elements;
    memset(s->buf[p].data + k * (size_t)KB_PARAMS[p].elementBytes, KB_POISON_FIRST, (size_t)KB_PARAMS[p].elementBytes);
  }
#else
  (void)s, (void)call;
#endif
}

/* One batch: fresh input sets copied into the slots and outputs poisoned (untimed), `calls` calls rotating over
 * the slots (timed), then every slot re-checked (untimed). Returns the mean time per call. */
static double timed_batch(kb_timed *v, kb_slot *slots, unsigned char *sets[][KB_MAX_PARAMS], int nsets, int nth,
                          long calls, unsigned long batch, int id) {
  for (int k = 0; k < KB_SLOTS; k++) {
    v->set_of[k] = (int)((batch + (unsigned long)k) % (unsigned long)nsets);
    slot_fill(&slots[k], sets[v->set_of[k]]);
    slot_poison(&slots[k], KB_POISON_FIRST);
  }
  at(id, v->name, "timed", nth);
  uint64_t t0 = kb_now_ns();
  for (long i = 0; i < calls; i++) {
    poison_one(&slots[i % KB_SLOTS], (uint64_t)i);
    call_threaded(v->fn, slots[i % KB_SLOTS].args, nth);
  }
  uint64_t elapsed = kb_now_ns() - t0;

  for (int k = 0; k < KB_SLOTS; k++) {
    int set = v->set_of[k];
    slot_verify(&slots[k], sets[set], id, v->name, "timed");
    if (!v->have[set]) {
      copy_outputs(&slots[k], v->first[set]);
      v->have[set] = 1;
      continue;
    }
    /* Same inputs (no perturbation inside a sample), same output: a later batch that differs skipped work. */
    require_same(&slots[k], v->first[set], id, v->name, "timed", "output of a timed call differs from an earlier timed call on the same inputs");
  }
  return (double)elapsed / (double)calls;
}

/* After a candidate sample: each slot's timed outputs against an untimed call on a copy of the same (perturbed)
 * inputs at other addresses. A cache keyed on addresses, or on contents the perturbation did not touch, returns
 * outputs the fresh call does not, or (at the end) outputs the reference on the same inputs does not. */
static void verify_sample(kb_timed *v, kb_slot *slots, kb_slot *spare, unsigned char *sets[][KB_MAX_PARAMS], int nth, int id) {
  for (int k = 0; k < KB_SLOTS; k++) {
    unsigned char *timed[KB_MAX_PARAMS] = {0};
    copy_outputs(&slots[k], timed);
    slot_fill(spare, sets[v->set_of[k]]);
    slot_poison(spare, KB_POISON_SECOND); /* the other poison: outputs neither call wrote differ */
    at(id, v->name, "timed", nth);
    call_threaded(v->fn, spare->args, nth);
    slot_verify(spare, sets[v->set_of[k]], id, v->name, "timed");
    require_same(spare, timed, id, v->name, "timed", "output of a timed call differs from an untimed call on a copy of the same inputs at other addresses");
    free_all(timed);
  }
}

/* The candidate's last sample: its outputs (t<slot>) and the reference on the same inputs (r<slot>), for
 * TypeScript to compare under the spec's tolerances. */
static void save_final(kb_timed *v, kb_slot *slots, kb_slot *spare, unsigned char *sets[][KB_MAX_PARAMS], int id) {
  for (int k = 0; k < KB_SLOTS; k++) {
    char call[16];
    snprintf(call, sizeof call, "t%d", k);
    slot_save_outputs(&slots[k], id, call, NULL);
    slot_fill(spare, sets[v->set_of[k]]);
    slot_poison(spare, KB_POISON_FIRST);
    at(id, "r", "timed", 1);
    call_threaded(KB_REF, spare->args, 1);
    slot_verify(spare, sets[v->set_of[k]], id, "r", "timed");
    snprintf(call, sizeof call, "r%d", k);
    slot_save_outputs(spare, id, call, NULL);
  }
}

/* One sample: the inputs perturbed, then the fastest of KB_BATCHES batches. On a shared machine a batch that was
 * preempted or interrupted is slower, never faster, so the minimum is the estimate least disturbed by other load. */
static unsigned long batch_counter;
static double timed_sample(kb_timed *v, kb_slot *slots, unsigned char *sets[][KB_MAX_PARAMS], int nsets, int nth,
                           long calls, int id) {
  for (int k = 0; k < nsets; k++) perturb(sets[k]), v->have[k] = 0;
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
    kb_die("plan", "bad time line");
  parse_args(plan);
  nth = resolve_nth(nth);
  emit("\"event\":\"case\",\"id\":%d,\"nth\":%d}", id, nth);
  pool_ensure(nth);
  rng_seed(seed ^ nonce_seed());

  unsigned char *sets[KB_MAX_SETS][KB_MAX_PARAMS] = {{0}};
  for (int k = 0; k < nsets; k++) load_inputs(id, k, sets[k]);
  kb_slot slots[KB_SLOTS], spare;
  for (int k = 0; k < KB_SLOTS; k++) slot_alloc(&slots[k]), slot_fill(&slots[k], sets[k % nsets]);
  slot_alloc(&spare);

  static kb_timed base, cand, up;
  memset(&base, 0, sizeof base), memset(&cand, 0, sizeof cand), memset(&up, 0, sizeof up);
  base.fn = KB_BASE, base.name = "base", cand.fn = KB_CAND, cand.name = "cand", up.fn = KB_UP, up.name = "upstream";
  /* Warm-up: caches, branch predictors, page faults, CPU frequency. */
  at(id, "warm-up", "timed", nth);
  uint64_t t0 = kb_now_ns();
  do {
    call_threaded(KB_BASE, slots[0].args, nth);
    call_threaded(KB_CAND, slots[1].args, nth);
    if (KB_UP) call_threaded(KB_UP, slots[0].args, nth);
  } while (kb_now_ns() - t0 < warmup_ns);

  /* Batch size: enough calls that the faster of the two takes at least min_sample_ns per batch, unless the
   * slower would then take more than KB_SLOWEST_BATCH_FACTOR times that (a candidate that skips its work must not
   * stall the run). */
  long calls = KB_SLOTS;
  for (;;) {
    uint64_t a = kb_now_ns();
    for (long i = 0; i < calls; i++) call_threaded(KB_BASE, slots[i % KB_SLOTS].args, nth);
    uint64_t b = kb_now_ns();
    for (long i = 0; i < calls; i++) call_threaded(KB_CAND, slots[i % KB_SLOTS].args, nth);
    uint64_t c = kb_now_ns();
    uint64_t fastest = (b - a) < (c - b) ? (b - a) : (c - b);
    uint64_t slowest = (b - a) < (c - b) ? (c - b) : (b - a);
    if (fastest >= min_sample_ns || slowest >= KB_SLOWEST_BATCH_FACTOR * min_sample_ns || calls >= (1L << 24)) break;
    double scale = fastest ? (double)min_sample_ns / (double)fastest * 1.2 : 16.0;
    double room = slowest ? (double)KB_SLOWEST_BATCH_FACTOR * (double)min_sample_ns / (double)slowest : 16.0;
    if (scale > room) scale = room > 1.0 ? room : 1.0;
    long next = (long)((double)calls * (scale < 16.0 ? scale : 16.0)) + KB_SLOTS;
    calls = next - next % KB_SLOTS;
  }

  /* The upstream variant runs kb_up_copies ops per call (fewer calls per batch, time divided per op): at most
   * KB_UP_COPIES and at most calls / KB_SLOTS, so its batch runs about as many ops, as long, as the others' and is
   * as likely to be preempted by other load (16-op graphs of a long op made upstream's batches up to 16x longer
   * and ggml read 2x slower on a loaded machine: kernels/softmax/NOTES.md). The smaller graph is warmed up. */
  kb_up_copies = calls / KB_SLOTS < KB_UP_COPIES ? (int)(calls / KB_SLOTS) : KB_UP_COPIES;
  if (kb_up_copies < 1) kb_up_copies = 1;
  long up_calls = calls / kb_up_copies;
  up_calls = up_calls < KB_SLOTS ? KB_SLOTS : up_calls - up_calls % KB_SLOTS;
  if (KB_UP)
    for (int k = 0; k < KB_SLOTS; k++) call_threaded(KB_UP, slots[k].args, nth);

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
      for (int k = 0; k < 3; k++) {
        *dst[idx[k]] = timed_sample(who[idx[k]], slots, sets, nsets, nth, idx[k] == 2 ? up_calls : calls, id);
        if (idx[k] != 1) continue;
        /* the candidate's outputs are verified before the next variant overwrites the slots */
        verify_sample(&cand, slots, &spare, sets, nth, id);
        if (i == pairs - 1) save_final(&cand, slots, &spare, sets, id);
      }
      up_ns[i] /= kb_up_copies;
      continue;
    }
    /* Random order inside each pair, so drift (thermal, other load) does not favour either side. */
    int base_first = (int)(rng_next() >> 63);
    if (base_first) base_ns[i] = timed_sample(&base, slots, sets, nsets, nth, calls, id);
    cand_ns[i] = timed_sample(&cand, slots, sets, nsets, nth, calls, id);
    verify_sample(&cand, slots, &spare, sets, nth, id);
    if (i == pairs - 1) save_final(&cand, slots, &spare, sets, id);
    if (!base_first) base_ns[i] = timed_sample(&base, slots, sets, nsets, nth, calls, id);
  }

  line_begin();
  line_add("\"event\":\"time\",\"id\":%d,\"nth\":%d,\"callsPerSample\":%ld,\"baselineNs\":[", id, nth, calls);
  for (int i = 0; i < pairs; i++) line_add("%s%.3f", i ? "," : "", base_ns[i]);
  line_add("],\"candidateNs\":[");
  for (int i = 0; i < pairs; i++) line_add("%s%.3f", i ? "," : "", cand_ns[i]);
  line_add("]");
  if (KB_UP) {
    line_add(",\"upstreamCopies\":%d,\"upstreamNs\":[", kb_up_copies);
    for (int i = 0; i < pairs; i++) line_add("%s%.3f", i ? "," : "", up_ns[i]);
    line_add("]");
  }
  size_t footprint = 0;
  for (int p = 0; p < KB_NPARAMS; p++)
    if (KB_PARAMS[p].kind == KB_IN || KB_PARAMS[p].kind == KB_OUT) footprint += arg_bytes[p];
  emit_speed_of_light(footprint);
  line_add("}");
  line_send();
  for (int k = 0; k < KB_SLOTS; k++) slot_free(&slots[k]);
  slot_free(&spare);
  for (int k = 0; k < nsets; k++) free_all(sets[k]);
  for (int k = 0; k < KB_MAX_SETS; k++) free_all(base.first[k]), free_all(cand.first[k]);
}

int main(int argc, char **argv) {
  if (results_fd < 0) open_channel();
  if (argc != 4) kb_die("usage", "kb_driver <plan> <input dir> <output dir>");
  in_dir = argv[2];
  out_dir = argv[3];
  long page = sysconf(_SC_PAGESIZE);
  page_bytes = page > 0 ? (size_t)page : 4096;
  install_fault_handler();
  FILE *plan = fopen(argv[1], "r");
  if (!plan) kb_die("cannot open plan", argv[1]);
  emit("\"event\":\"start\",\"cpus\":%ld}", sysconf(_SC_NPROCESSORS_ONLN));
  char kind[16];
  int id;
  while (fscanf(plan, "%15s %d", kind, &id) == 2) {
    if (strcmp(kind, "check") == 0) run_check(plan, id);
    else if (strcmp(kind, "time") == 0) run_time(plan, id);
    else kb_die("plan", "unknown line kind");
  }
  emit("\"event\":\"done\",\"pinned\":%s}", pool_pinned ? "true" : "false");
  return 0;
}
