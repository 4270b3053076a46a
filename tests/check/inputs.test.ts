import { describe, expect, it } from 'vitest';
import { checkCases, generateInputs, partitionOrder, perturbInputs, randomShapes, RESIDUES, scalarValues } from '../../src/check/inputs.js';
import { createRng } from '../../src/rng.js';
import { KernelSpec } from '../../src/spec/schema.js';
import { BUILTIN_KERNELS_DIR, findKernel } from '../../src/spec/suite.js';

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

describe('the check cases: seeded random shapes, scalars and thread counts', () => {
  const rms = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm').spec;
  const q8 = findKernel(BUILTIN_KERNELS_DIR, 'quantize_q8_0').spec;
  const softmax = findKernel(BUILTIN_KERNELS_DIR, 'softmax').spec;
  const residues = (values: number[]) => new Set(values.map((v) => v % RESIDUES));

  it('covers every residue modulo 64 of each declared variable, with small sizes', () => {
    const shapes = randomShapes(rms, 7);
    for (const v of ['n', 'rows']) expect(residues(shapes.map((s) => s.env[v])).size).toBe(RESIDUES);
    const small = shapes.filter((s) => s.env.n <= RESIDUES);
    expect(residues(small.map((s) => s.env.n)).size).toBe(RESIDUES);
  });

  it('takes bench sizes ±1..3', () => {
    const ns = new Set(randomShapes(rms, 7).map((s) => s.env.n));
    for (const n of [4093, 4094, 4095, 4097, 4098, 4099]) expect(ns.has(n)).toBe(true);
  });

  it('respects declared constraints: multiples, ranges and bounds over other variables', () => {
    const q = randomShapes(q8, 3);
    expect(q.every((s) => s.env.n % 32 === 0 && s.env.n >= 32 && s.env.n <= 16384 && s.env.rows >= 1 && s.env.rows <= 64)).toBe(true);
    expect(residues(q.map((s) => s.env.n / 32)).size).toBe(RESIDUES);
    const sm = randomShapes(softmax, 3);
    expect(sm.every((s) => s.env.mask_rows >= 0 && s.env.mask_rows <= s.env.rows)).toBe(true);
    expect(sm.every((s) => s.env.scale >= 0.01 && s.env.scale <= 1 && s.env.slope >= 0.001 && s.env.slope <= 2)).toBe(true);
    expect(new Set(sm.map((s) => s.env.scale)).size).toBeGreaterThan(20);
  });

  it('is reproducible from the seed, and another seed gives other cases', () => {
    expect(checkCases(rms, 42)).toEqual(checkCases(rms, 42));
    expect(randomShapes(rms, 43).map((s) => s.name)).not.toEqual(randomShapes(rms, 42).map((s) => s.name));
  });

  it('names each case by its exact values, drawn scalars included, and passes those values', () => {
    for (const s of randomShapes(rms, 5)) {
      const m = /^n=(\d+) rows=(\d+) eps=([\d.e+-]+)$/.exec(s.name);
      expect(m, s.name).not.toBeNull();
      expect([s.env.n, s.env.rows]).toEqual([Number(m![1]), Number(m![2])]);
      const eps = scalarValues(rms, s.env).find((v) => v.name === 'eps')!.value;
      expect(eps).toBe(Number(m![3]));
      expect(eps).toBeGreaterThanOrEqual(1e-9);
      expect(eps).toBeLessThanOrEqual(1e-3);
    }
  });

  it('draws thread counts up to 64, primes and more threads than rows, and runs every distribution on every bench shape', () => {
    const cases = checkCases(rms, 9);
    const random = cases.filter((c) => c.origin === 'random');
    const nths = new Set(random.flatMap((c) => c.nths));
    expect(Math.max(...nths)).toBe(64);
    expect([37, 41, 43, 47, 53, 59, 61].some((p) => nths.has(p))).toBe(true);
    expect(random.some((c) => c.nths[0] > c.shape.env.rows)).toBe(true);
    const bench = cases.filter((c) => c.origin === 'bench').map((c) => `${c.shape.name}/${c.distribution}`);
    expect(new Set(bench).size).toBe(rms.shapes.bench.length * Object.keys(rms.distributions).length);
  });

  it('perturbs a few elements at random positions, from the same distribution, reproducibly', () => {
    const env = { n: 64, rows: 4 };
    const inputs = generateInputs(rms, env, 'uniform', 1);
    const a = perturbInputs(rms, env, 'uniform', inputs, createRng(5), 8);
    const x = new Float32Array(inputs.get('x')!.buffer.slice(0));
    const y = new Float32Array(a.get('x')!.buffer.slice(0));
    const changed = [...y.keys()].filter((i) => x[i] !== y[i]);
    expect(changed.length).toBeGreaterThan(4);
    expect(changed.length).toBeLessThanOrEqual(8);
    expect(changed.every((i) => Math.abs(y[i]) <= 10)).toBe(true);
    expect(perturbInputs(rms, env, 'uniform', inputs, createRng(5), 8)).toEqual(a);
  });

  it('orders partitions ascending, descending or shuffled', () => {
    expect(partitionOrder('ascending', 4, createRng(1))).toEqual([0, 1, 2, 3]);
    expect(partitionOrder('descending', 4, createRng(1))).toEqual([3, 2, 1, 0]);
    const shuffled = partitionOrder('shuffled', 37, createRng(1));
    expect([...shuffled].sort((a, b) => a - b)).toEqual([...Array(37).keys()]);
    expect(shuffled).not.toEqual([...Array(37).keys()]);
  });
});
