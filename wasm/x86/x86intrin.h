/* kbench: <x86intrin.h> on WASM SIMD for the avx2 screen model: the same intrinsics as kbench's <immintrin.h>. */
#include <immintrin.h>
