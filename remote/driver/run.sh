#!/bin/sh
# Runs on the host, inside an unpacked kbench bundle: checks the CPU can run the build flags, builds the driver
# with the reference, the baseline and each candidate as separate translation units (symbols renamed so they link
# into one binary), and runs it. Everything the TypeScript side reads lands in out/.
#
# build.env sets: CC CFLAGS FUNCTION CANDIDATES NEED_FEATURES RUNNER OBJCOPY TIMEOUT_S TIME_PROCESSES ALLOWED_HEADERS, and
# with --upstream UP_INCLUDE UP_LIBS (a build shipped from here) or UP_SRC (a checkout on the host, built there)
# Exit: 0 ran (per-candidate status in out/<candidate>/), 86 CPU lacks a needed feature, 87 harness build failed,
# 88 the reference or baseline does not define the spec's function.
set -u
. ./build.env
# candidates build in obj/cand/: one named "base" or "ref" must not overwrite the harness's objects
mkdir -p out obj/cand

# The secret the driver stamps on its result lines (kb_driver.c): kept in this shell only and removed from the
# bundle before any candidate is compiled or run, so a candidate cannot read it from there. It reaches each driver
# on stdin (printf is a builtin: never on a command line).
nonce=$(cat nonce 2>/dev/null)
rm -f nonce

# A host without the instructions the flags ask for would die of SIGILL; refuse with a reason instead.
cpu_flags() {
  if [ -r /proc/cpuinfo ]; then
    grep -m1 -E '^(flags|Features)[[:space:]]*:' /proc/cpuinfo | cut -d: -f2
  else
    # no /proc (macOS, BSD): ask the compiler what the native target predefines
    $CC -march=native -dM -E - </dev/null 2>/dev/null | grep -o -E '__(AVX2|FMA|ARM_NEON)__' | tr -d _ | tr 'A-Z' 'a-z' | sed 's/armneon/asimd/'
  fi
}
if [ -n "$NEED_FEATURES" ]; then
  have=" $(cpu_flags | tr '\n' ' ') "
  for f in $NEED_FEATURES; do
    case "$have" in
      *" $f "*) ;;
      *) echo "kbench: this CPU lacks $f, which the build flags ($CFLAGS) need; use a host with $f or set cflags for this host" >&2
         exit 86 ;;
    esac
  done
fi

cc_version=$($CC --version 2>/dev/null | head -n 1)
echo "{\"event\":\"toolchain\",\"cc\":\"$CC\",\"version\":\"$(echo "$cc_version" | sed 's/["\\]//g')\"}"

# Keeps only the renamed entry point global, so helpers with the same name in two sources cannot clash at link.
localize() {
  if [ -n "$OBJCOPY" ] && command -v "$OBJCOPY" >/dev/null 2>&1; then "$OBJCOPY" --keep-global-symbol="$2" "$1"; fi
}

# The baseline and a candidate are often the same code at two addresses (A/A, small edits). Placed at different
# offsets within a cache line, identical loops were measured up to 25% apart; starting every variant on a 64-byte
# boundary removed that bias (A/A medians 0.99–1.02 where they were 0.74–1.0).
VARIANT_FLAGS="-falign-functions=64"

# The upstream variant (kbench run --upstream): the kernel's adapter and its helper built against ggml's headers
# (UP_INCLUDE), linked with ggml's static CPU backend (UP_LIBS, C++: -lstdc++). Absent: nothing to build.
UP_OBJS=""
UP_LINK=""
build_upstream() {
  if [ -z "${UP_INCLUDE:-}" ]; then return 0; fi
  # shellcheck disable=SC2086 # UP_INCLUDE is a word list on purpose
  $CC $CFLAGS $VARIANT_FLAGS -Iupstream $UP_INCLUDE "-D$FUNCTION=kb_up_$FUNCTION" -c upstream/upstream.c -o obj/up.o &&
  $CC $CFLAGS -Iupstream $UP_INCLUDE -c upstream/kb_upstream.c -o obj/kb_upstream.o
}
# UP_SRC: a llama.cpp checkout on this host (kbench run --on <ssh host> --upstream DIR): ggml's CPU backend is built
# here with cmake (static, GGML_NATIVE=OFF with the instruction sets of kbench's builds, no OpenMP), cached per
# commit, options and compiler under ~/.cache/kbench/upstream/host-builds/.
if [ -n "${UP_SRC:-}" ]; then
  case "$UP_SRC" in "~/"*) UP_SRC="$HOME/${UP_SRC#"~/"}" ;; esac
  if [ ! -f "$UP_SRC/ggml/include/ggml.h" ]; then
    echo "kbench: --upstream $UP_SRC: not a llama.cpp checkout on this host (no ggml/include/ggml.h)" >&2
    exit 87
  fi
  up_commit=$(git -C "$UP_SRC" rev-parse HEAD 2>/dev/null || echo unknown)
  case "$(uname -m)" in
    x86_64) up_opts="-DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON" ;;
    aarch64) up_opts="-DGGML_CPU_ARM_ARCH=native" ;;
    *) up_opts="" ;;
  esac
  up_opts="-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=OFF -DGGML_OPENMP=OFF -DGGML_BACKEND_DL=OFF -DGGML_LLAMAFILE=OFF -DGGML_CCACHE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_COMMON=OFF -DLLAMA_CURL=OFF $up_opts"
  up_key=$(printf '%s\n' "$UP_SRC" "$up_commit" "$up_opts" "$($CC --version 2>/dev/null | head -n 1)" | cksum | cut -d' ' -f1)
  up_dir="${XDG_CACHE_HOME:-$HOME/.cache}/kbench/upstream/host-builds/$up_key"
  if [ ! -f "$up_dir/ggml/src/libggml-cpu.a" ] || [ ! -f "$up_dir/ggml/src/libggml-base.a" ]; then
    echo '{"event":"upstream","stage":"build"}'
    mkdir -p "$up_dir"
    # shellcheck disable=SC2086 # up_opts is a word list on purpose
    if ! { cmake -S "$UP_SRC" -B "$up_dir" $up_opts && cmake --build "$up_dir" -j 2 --target ggml-base ggml-cpu; } >"$up_dir/build.log" 2>&1; then
      echo "kbench: building upstream ggml from $UP_SRC failed on this host (cmake and a C++ compiler are needed):" >&2
      tail -c 3000 "$up_dir/build.log" >&2
      rm -f "$up_dir/ggml/src/libggml-cpu.a"
      exit 87
    fi
  fi
  echo "{\"event\":\"upstream\",\"commit\":\"$up_commit\"}"
  UP_INCLUDE="-I$UP_SRC/ggml/include"
  UP_LIBS="$up_dir/ggml/src/libggml-cpu.a $up_dir/ggml/src/libggml-base.a"
fi
if [ -n "${UP_INCLUDE:-}" ]; then
  UP_OBJS="obj/up.o obj/kb_upstream.o"
  UP_LINK="$UP_LIBS -lstdc++"
fi

build_harness() {
  { $CC $CFLAGS -Iinclude -c kb_driver.c -o obj/driver.o && $CC $CFLAGS -c kb_common.c -o obj/common.o &&
    $CC $CFLAGS -Iinclude -c include/kb_speed_of_light.c -o obj/sol.o; } & driver=$!
  { $CC $CFLAGS -Iinclude -c kb_glue.c -o obj/glue.o &&
    $CC $CFLAGS $VARIANT_FLAGS -Iinclude "-D$FUNCTION=kb_ref_$FUNCTION" -c reference.c -o obj/ref.o &&
    localize obj/ref.o "kb_ref_$FUNCTION"; } & ref=$!
  $CC $CFLAGS $VARIANT_FLAGS -Iinclude "-D$FUNCTION=kb_base_$FUNCTION" -c baseline.c -o obj/base.o &&
  localize obj/base.o "kb_base_$FUNCTION" &&
  build_upstream &&
  wait "$driver" && wait "$ref"
}
if ! build_harness 2>out/harness.log; then
  echo "kbench: building the driver, reference or baseline failed on this host:" >&2
  head -c 4000 out/harness.log >&2
  exit 87
fi

# A reference or baseline that does not define the spec's function is a spec error, not every candidate's failure:
# link each alone against a caller of the renamed symbol.
for v in ref:reference base:baseline; do
  printf 'void kb_%s_%s(void);\nint main(void) { kb_%s_%s(); return 0; }\n' "${v%%:*}" "$FUNCTION" "${v%%:*}" "$FUNCTION" >obj/probe.c
  if ! $CC $CFLAGS -o obj/probe obj/probe.c "obj/${v%%:*}.o" -lm >/dev/null 2>&1; then
    echo "kbench: ${v#*:}.c does not define $FUNCTION(), the \"function\" of the spec" >&2
    exit 88
  fi
done

# --foreground keeps the driver in this script's process group, so stopping the run's group (cancel) stops it too.
limit=""
if [ -n "$TIMEOUT_S" ] && command -v timeout >/dev/null 2>&1; then
  if timeout --foreground 5 true 2>/dev/null; then limit="timeout --foreground -k 2 $TIMEOUT_S"; else limit="timeout -k 2 $TIMEOUT_S"; fi
fi

# The include policy (kb_policy.awk, the same check as the WASM builds'): before a candidate is compiled, the real
# preprocessor reports what it reads; anything but kb_simd.h and the compiler's own headers is a compile error.
$CC $CFLAGS -Iinclude -x c -E -v - </dev/null >/dev/null 2>obj/search.log
check_policy() {
  $CC $CFLAGS -Iinclude "-D$FUNCTION=kb_cand_$FUNCTION" -E -MD -MF "obj/cand/$1.d" "candidates/$1.c" -o "obj/cand/$1.i" 2>"out/$1/compile.log" || return 1
  why=$(awk -f kb_policy.awk -v search=obj/search.log -v deps="obj/cand/$1.d" -v pre="obj/cand/$1.i" -v cand="candidates/$1.c" -v own= \
    -v local=include/kb_simd.h -v idir=include -v allowed="$ALLOWED_HEADERS" obj/search.log "obj/cand/$1.d" "obj/cand/$1.i" 2>&1) && return 0
  printf 'candidates/%s.c: refused by the include policy: %s\n' "$1" "$why" >"out/$1/compile.log"
  return 1
}

build_candidate() {
  c=$1
  if ! check_policy "$c" ||
     ! $CC $CFLAGS $VARIANT_FLAGS -Iinclude "-D$FUNCTION=kb_cand_$FUNCTION" -c "candidates/$c.c" -o "obj/cand/$c.o" 2>"out/$c/compile.log" ||
     ! localize "obj/cand/$c.o" "kb_cand_$FUNCTION" 2>>"out/$c/compile.log" ||
     ! $CC $CFLAGS obj/driver.o obj/common.o obj/sol.o obj/glue.o obj/ref.o obj/base.o "obj/cand/$c.o" $UP_OBJS -o "obj/cand/$c.bin" $UP_LINK -lm -lpthread 2>>"out/$c/compile.log"; then
    echo compile-error >"out/$c/status"
  fi
}

# Candidates build two at a time (compiles dominate a run); they run one at a time, so timings see a quiet host.
for c in $CANDIDATES; do
  mkdir -p "out/$c"
  echo "{\"event\":\"candidate\",\"name\":\"$c\",\"stage\":\"build\"}"
  build_candidate "$c" &
  if [ -n "${previous:-}" ]; then wait "$previous"; fi
  previous=$!
done
wait

for c in $CANDIDATES; do
  if [ -f "out/$c/status" ]; then continue; fi
  echo "{\"event\":\"candidate\",\"name\":\"$c\",\"stage\":\"run\"}"
  # Results go to fd 3 (out/$c/results.jsonl); the candidate's own stdout and stderr are kept apart. Files the
  # driver process writes are capped at 1 GiB (in 512-byte blocks), so a candidate printing forever cannot fill
  # the host's disk before its timeout (SIGXFSZ ends it instead).
  # shellcheck disable=SC2086 # RUNNER and limit are word lists on purpose
  (ulimit -f 2097152 2>/dev/null; printf '%s\n' "$nonce" | $limit $RUNNER "./obj/cand/$c.bin" plan.txt in "out/$c" 3>"out/$c/results.jsonl" >"out/$c/stdout.txt" 2>"out/$c/stderr.txt")
  status=$?
  # Timing runs in several fresh processes: code and data addresses change with each (ASLR), and a layout that
  # happens to favour one side then biases one process's pairs, not the verdict.
  k=1
  while [ "$status" -eq 0 ] && [ -s plan-time.txt ] && [ "$k" -le "$TIME_PROCESSES" ]; do
    mkdir -p "out/$c/p$k"
    # shellcheck disable=SC2086
    (ulimit -f 2097152 2>/dev/null; printf '%s\n' "$nonce" | $limit $RUNNER "./obj/cand/$c.bin" plan-time.txt in "out/$c/p$k" 3>"out/$c/p$k/results.jsonl" >>"out/$c/stdout.txt" 2>>"out/$c/stderr.txt")
    status=$?
    k=$((k + 1))
  done
  echo "exit $status" >"out/$c/status"
done
echo '{"event":"bundle-done"}'
