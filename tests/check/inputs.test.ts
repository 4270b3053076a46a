import { describe, expect, it } from 'vitest';
import { generateInputs } from '../../src/check/inputs.js';
import { KernelSpec } from '../../src/spec/schema.js';

// a mask of `rows` rows by `cols` columns from a spec whose only input is that mask
function mask(gen: Record<string, unknown>, rows: number, cols: number, seed = 1): number[][] {
  const spec = KernelSpec.parse({
    name: 'm',
    function: 'm',
    params: [
      { name: 'mask', kind: 'buffer', dtype: 'f32', length: 'rows*cols', role: 'in' },
      { name: 'y', kind: 'buffer', dtype: 'f32', length: '1', role: 'out' },
    ],
    shapes: { check: [{ rows, cols }], bench: [{ rows, cols }] },
    inputs: { mask: { kind: 'mask', cols: 'cols', ...gen } },
    cost: { bytes: '0', flops: '0' },
  });
  const bytes = generateInputs(spec, { rows, cols }, 'default', seed).get('mask')!;
  const values = [...new Float32Array(bytes.buffer, bytes.byteOffset, rows * cols)];
  return Array.from({ length: rows }, (_, r) => values.slice(r * cols, (r + 1) * cols));
}

const I = -Infinity;

describe('the mask generator', () => {
  it('hides the future of each query, the last row seeing every key (queries at the end of the key range)', () => {
    expect(mask({ causal: true }, 2, 4)).toEqual([
      [0, 0, 0, I],
      [0, 0, 0, 0],
    ]);
  });

  it('fills ALiBi distances −|i − j| where visible, as llama.cpp does for ALiBi models', () => {
    expect(mask({ causal: true, alibi: true }, 3, 4)).toEqual([
      [-1, -0, I, I],
      [-2, -1, -0, I],
      [-3, -2, -1, -0],
    ]);
  });

  it('masks whole rows and a seeded share of elements at random', () => {
    const m = mask({ maskedRows: [1], pMasked: 0.5, value: 2 }, 3, 400);
    expect(m[1].every((v) => v === I)).toBe(true);
    const others = [...m[0], ...m[2]];
    expect(new Set(others)).toEqual(new Set([2, I]));
    const share = others.filter((v) => v === I).length / others.length;
    expect(share).toBeGreaterThan(0.4);
    expect(share).toBeLessThan(0.6);
    expect(mask({ maskedRows: [1], pMasked: 0.5, value: 2 }, 3, 400)).toEqual(m);
    expect(mask({ maskedRows: [1], pMasked: 0.5, value: 2 }, 3, 400, 2)).not.toEqual(m);
  });
});
