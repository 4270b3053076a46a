import { describe, expect, it } from 'vitest';
import { compareOutput } from '../../src/check/compare.js';
import { floatToHalf, halfToFloat, halfUlpDistance } from '../../src/check/f16.js';
import type { BufferParam, KernelSpec } from '../../src/spec/schema.js';

const f32 = (xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer);
const spec = { tolerance: { nmse: 1e-7, atol: 1e-5, rtol: 1e-4 } } as KernelSpec;
const y: BufferParam = { name: 'y', kind: 'buffer', dtype: 'f32', length: 'n', role: 'out' };

describe('comparing an output with the reference', () => {
  it('accepts values within atol + rtol·|ref| and NMSE', () => {
    expect(compareOutput(spec, y, {}, f32([1, 2.0001, -3]), f32([1, 2, -3]))).toBeNull();
  });

  it('reports the worst element, not the first', () => {
    const m = compareOutput(spec, y, {}, f32([1.001, 2, 3.5]), f32([1, 2, 3]));
    expect(m).toMatchObject({ index: 2, got: 3.5, expected: 3 });
  });

  it('fails NaN where the reference is a number, and infinity mismatches', () => {
    expect(compareOutput(spec, y, {}, f32([NaN, 1]), f32([0, 1]))?.reason).toBe('NaN where the reference is a number');
    expect(compareOutput(spec, y, {}, f32([Infinity]), f32([-Infinity]))?.reason).toBe('infinity mismatch');
    expect(compareOutput(spec, y, {}, f32([-Infinity, 0]), f32([-Infinity, 0]))).toBeNull();
    expect(compareOutput(spec, y, {}, f32([NaN, 1]), f32([NaN, 1]))).toBeNull();
    expect(compareOutput(spec, y, {}, f32([0, 1]), f32([NaN, 1]))?.reason).toBe('a number where the reference is NaN');
    expect(compareOutput(spec, y, {}, f32([Infinity, 1]), f32([3e38, 1]))?.reason).toBe('infinity mismatch');
    // a finite value against an infinite reference: the elementwise bound there is infinite too, and must not pass it
    expect(compareOutput(spec, y, {}, f32([3e38, 1]), f32([Infinity, 1]))?.reason).toBe('infinity mismatch');
  });

  it('fails on NMSE alone when every element is inside the elementwise bound', () => {
    const loose = { tolerance: { nmse: 1e-12, atol: 1, rtol: 0 } } as KernelSpec;
    expect(compareOutput(loose, y, {}, f32([1.001, 2.001]), f32([1, 2]))?.reason).toMatch(/^NMSE .* > 1e-12$/);
  });

  it('compares block fields with their own tolerances and names the block', () => {
    const q: BufferParam = {
      name: 'q', kind: 'buffer', dtype: 'u8', length: 'n', role: 'out',
      blocks: { bytes: 6, fields: [{ name: 'd', dtype: 'f16', count: 1, tolerance: { maxUlp: 0 } }, { name: 'qs', dtype: 'i8', count: 4, tolerance: { maxDiff: 1 } }] },
    };
    const block = (d: number, qs: number[]) => [...new Uint8Array(Uint16Array.of(floatToHalf(d)).buffer), ...new Uint8Array(Int8Array.from(qs).buffer)];
    const ref = Uint8Array.from([...block(0.5, [1, 2, 3, 4]), ...block(0.25, [-1, -2, -3, -4])]);
    expect(compareOutput(spec, q, {}, Uint8Array.from([...block(0.5, [1, 2, 3, 5]), ...block(0.25, [-1, -2, -3, -4])]), ref)).toBeNull();
    expect(compareOutput(spec, q, {}, Uint8Array.from([...block(0.5, [1, 2, 3, 6]), ...block(0.25, [-1, -2, -3, -4])]), ref)?.reason).toBe('block 0 field qs: differs by 2 (allowed 1)');
    const dOff = Uint8Array.from([...block(0.5, [1, 2, 3, 4]), ...block(0.25 + 2 ** -12, [-1, -2, -3, -4])]);
    expect(compareOutput(spec, q, {}, dOff, ref)).toMatchObject({ index: 6, reason: 'block 1 field d: 1 f16 ulp apart (allowed 0)' });
  });

  it('catches a bias hiding inside ±1 with maxDiffShare', () => {
    const q: BufferParam = { name: 'q', kind: 'buffer', dtype: 'i8', length: 'n', role: 'out', tolerance: { maxDiff: 1, maxDiffShare: 0.1 } };
    const ref = new Uint8Array(Int8Array.from({ length: 100 }, (_, i) => (i % 7) - 3).buffer);
    const oneOff = ref.slice();
    oneOff[5] = (oneOff[5] + 1) & 0xff;
    expect(compareOutput(spec, q, {}, oneOff, ref)).toBeNull();
    const truncated = new Uint8Array(Int8Array.from(new Int8Array(ref.buffer), (v, i) => (i % 2 && v > 0 ? v - 1 : v)).buffer);
    expect(compareOutput(spec, q, {}, truncated, ref)?.reason).toMatch(/^\d+\.\d% of elements differ \(allowed 10\.0%\): a systematic bias$/);
  });
});

describe('f16 conversion rounds to nearest even like F16C', () => {
  it('round-trips representable values and rounds halfway cases to even', () => {
    for (const v of [0, -0, 1, -2.5, 65504, 2 ** -14, 2 ** -24]) expect(halfToFloat(floatToHalf(v))).toBe(v);
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // halfway between 1 and the next half: even mantissa wins
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(floatToHalf(70000)).toBe(0x7c00);
    expect(Number.isNaN(halfToFloat(floatToHalf(NaN)))).toBe(true);
  });

  it('measures ulp distance across zero', () => {
    expect(halfUlpDistance(0x0001, 0x8001)).toBe(2);
    expect(halfUlpDistance(0x3c00, 0x3c01)).toBe(1);
  });
});
