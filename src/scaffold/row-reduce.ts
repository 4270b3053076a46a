// The row-reduction template: y[r] = sum of row r of x (rows × n), rows split across threads ggml style
// (trailing ith, nth). Replace the reduction (and the spec's cost) with the real operation.
import type { KernelFiles } from './kernel-files.js';

export function rowReduceKernel(name: string): KernelFiles {
  const spec = {
    name,
    description: `${name}: y[r] = sum over j of x[r, j], per row (scaffolded by kbench new; describe the real operation here)`,
    function: name,
    params: [
      { name: 'x', kind: 'buffer', dtype: 'f32', length: 'rows*n', role: 'in' },
      { name: 'y', kind: 'buffer', dtype: 'f32', length: 'rows', role: 'out' },
      { name: 'n', kind: 'scalar', type: 'i32', value: 'n' },
      { name: 'rows', kind: 'scalar', type: 'i32', value: 'rows' },
    ],
    threads: { counts: [1, 2, 3, 4] },
    shapes: {
      check: [
        { n: 1, rows: 1 }, { n: 3, rows: 2 }, { n: 15, rows: 3 }, { n: 17, rows: 1 }, { n: 33, rows: 5 },
        { n: 63, rows: 1 }, { n: 65, rows: 2 }, { n: 1023, rows: 1 }, { n: 1025, rows: 2 }, { n: 4096, rows: 2 },
      ],
      bench: [
        { name: 'decode 1x4096', n: 4096, rows: 1 },
        { name: 'prefill 64x4096', n: 4096, rows: 64 },
      ],
    },
    // the check's random cases: every residue of n and rows modulo 64, and the bench sizes ±1..3
    vary: { n: { min: 1, max: 16384 }, rows: { min: 1, max: 64 } },
    inputs: { x: { kind: 'uniform', min: -1, max: 1 } },
    distributions: { uniform: {}, normal: { x: { kind: 'normal', mean: 0, std: 1 } } },
    // A float sum of up to 16384 terms is off the double reference by ~1e-5..1e-4 absolute, and a row of zero-mean
    // inputs can sum to ~0, where any relative measure is unbounded (an NMSE over a one-row y is one relative error):
    // so the check is elementwise, atol for sums near 0 and rtol elsewhere. Add an nmse for operations that cannot
    // cancel.
    tolerance: { atol: 1e-3, rtol: 1e-4 },
    cost: { bytes: '4*rows*n + 4*rows', flops: 'rows*n' },
  };
  return {
    'kernel.json': JSON.stringify(spec, null, 2) + '\n',
    'reference.c': `/* ${name} reference: the ground truth, accumulated in double. */
void ${name}(const float *x, float *y, int n, int rows, int ith, int nth) {
    for (int r = ith; r < rows; r += nth) {
        double s = 0.0;
        for (int j = 0; j < n; j++) s += (double)x[(long)r * n + j];
        y[r] = (float)s;
    }
}
`,
    'baseline.c': `/* ${name} baseline: how it is done today (replace with the production code you want to beat, and cite it).
 * Here: a scalar loop with a double accumulator, as ggml's ggml_vec_sum_f32 does without SIMD. */
void ${name}(const float *x, float *y, int n, int rows, int ith, int nth) {
    for (int r = ith; r < rows; r += nth) {
        double s = 0.0;
        for (int j = 0; j < n; j++) s += x[(long)r * n + j];
        y[r] = (float)s;
    }
}
`,
    'candidates/simd.c': `/* ${name} candidate simd: kb_simd.h vectors with two independent float accumulators (hides the add latency),
 * a horizontal sum, then a scalar tail. Rows interleaved across threads like the baseline. */
#include "kb_simd.h"

void ${name}(const float *x, float *y, int n, int rows, int ith, int nth) {
    for (int r = ith; r < rows; r += nth) {
        const float *xr = x + (long)r * n;
        kb_f32v a0 = kb_zero(), a1 = kb_zero();
        int j = 0;
        for (; j + 2 * KB_LANES <= n; j += 2 * KB_LANES) {
            a0 = kb_add(a0, kb_loadu(xr + j));
            a1 = kb_add(a1, kb_loadu(xr + j + KB_LANES));
        }
        for (; j + KB_LANES <= n; j += KB_LANES) a0 = kb_add(a0, kb_loadu(xr + j));
        float s = kb_hsum(kb_add(a0, a1));
        for (; j < n; j++) s += xr[j];
        y[r] = s;
    }
}
`,
  };
}
