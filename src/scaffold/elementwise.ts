// The elementwise template: y[i] = x[i] * scale + shift over one flat buffer. The smallest kernel that shows
// every part of a kernel folder; replace the arithmetic (in the spec's cost too) with the real operation.
import type { KernelFiles } from './kernel-files.js';

export function elementwiseKernel(name: string): KernelFiles {
  const spec = {
    name,
    description: `${name}: y = x * scale + shift, elementwise (scaffolded by kbench new; describe the real operation here)`,
    function: name,
    params: [
      { name: 'x', kind: 'buffer', dtype: 'f32', length: 'n', role: 'in' },
      { name: 'y', kind: 'buffer', dtype: 'f32', length: 'n', role: 'out' },
      { name: 'n', kind: 'scalar', type: 'i32', value: 'n' },
      { name: 'scale', kind: 'scalar', type: 'f32', value: 0.5 },
      { name: 'shift', kind: 'scalar', type: 'f32', value: 0.25 },
    ],
    shapes: {
      // Odd lengths around every vector width catch tail bugs; the bench shapes are decode- and prefill-sized.
      check: [1, 3, 7, 15, 17, 33, 63, 65, 1023, 1025, 4096].map((n) => ({ n })),
      bench: [
        { name: 'decode 4096', n: 4096 },
        { name: 'prefill 64x4096', n: 262144 },
      ],
    },
    // the check's random cases: every residue of n modulo 64, and the bench sizes ±1..3
    vary: { n: { min: 1, max: 1 << 20 } },
    inputs: { x: { kind: 'uniform', min: -10, max: 10 } },
    distributions: { uniform: {}, normal: { x: { kind: 'normal', mean: 0, std: 1 } } },
    tolerance: { nmse: 1e-10, atol: 1e-5, rtol: 1e-5 },
    cost: { bytes: '8*n', flops: '2*n' },
  };
  return {
    'kernel.json': JSON.stringify(spec, null, 2) + '\n',
    'reference.c': `/* ${name} reference: the ground truth, in double, as plain as possible. */
void ${name}(const float *x, float *y, int n, float scale, float shift) {
    for (int i = 0; i < n; i++) y[i] = (float)((double)x[i] * (double)scale + (double)shift);
}
`,
    'baseline.c': `/* ${name} baseline: how it is done today (replace with the production code you want to beat, and cite it). */
void ${name}(const float *x, float *y, int n, float scale, float shift) {
    for (int i = 0; i < n; i++) y[i] = x[i] * scale + shift;
}
`,
    'candidates/simd.c': `/* ${name} candidate simd: kb_simd.h vectors (AVX2+FMA / NEON / WASM SIMD128 / scalar), two vectors per step,
 * then one vector at a time, then a scalar tail for the last n % KB_LANES elements. */
#include "kb_simd.h"

void ${name}(const float *x, float *y, int n, float scale, float shift) {
    const kb_f32v vs = kb_splat(scale), vb = kb_splat(shift);
    int i = 0;
    for (; i + 2 * KB_LANES <= n; i += 2 * KB_LANES) {
        kb_storeu(y + i, kb_fma(kb_loadu(x + i), vs, vb));
        kb_storeu(y + i + KB_LANES, kb_fma(kb_loadu(x + i + KB_LANES), vs, vb));
    }
    for (; i + KB_LANES <= n; i += KB_LANES) kb_storeu(y + i, kb_fma(kb_loadu(x + i), vs, vb));
    for (; i < n; i++) y[i] = x[i] * scale + shift;
}
`,
  };
}
