// Output comparison against the reference: NaN/inf must match, NMSE over the buffer (test-backend-ops style) and an
// elementwise |a−b| ≤ atol + rtol·|b| bound (KernelBench style); integers within ±maxDiff; f16 fields within maxUlp.
import type { Env } from '../spec/expr.js';
import type { BufferParam, Dtype, KernelSpec, Tolerance } from '../spec/schema.js';
import { halfToFloat, halfUlpDistance } from './f16.js';

export interface Mismatch {
  index: number;
  got: number;
  expected: number;
  nmse: number;
  reason: string;
}

/** Byte index of the first difference, or −1 (memcmp speed when equal, which is the usual case). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)) return -1;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return a.length;
}

export function toleranceFor(spec: KernelSpec, buffer: BufferParam): Tolerance {
  return { ...spec.tolerance, ...buffer.tolerance };
}

export function compareOutput(
  spec: KernelSpec,
  buffer: BufferParam,
  _env: Env,
  got: Uint8Array,
  expected: Uint8Array,
): Mismatch | null {
  if (got.length !== expected.length) return { index: -1, got: got.length, expected: expected.length, nmse: Infinity, reason: 'buffer sizes differ' };
  if (buffer.blocks) return compareBlocks(buffer.blocks, got, expected);
  const count = got.length / bytesOf(buffer.dtype);
  const tol = toleranceFor(spec, buffer);
  if (buffer.dtype === 'f32' && withinF32(tol, got, expected, count)) return null;
  return compareValues(buffer.dtype, tol, got, expected, 0, count, 0, count);
}

/**
 * The usual case at typed-array speed: true when every f32 element passes as compareValues would judge it (NaN where
 * NaN, equal infinities, the elementwise bound, the NMSE); false sends the buffer to compareValues for the evidence.
 */
function withinF32(tol: Tolerance, got: Uint8Array, expected: Uint8Array, count: number): boolean {
  if (got.byteOffset % 4 || expected.byteOffset % 4) return false;
  const a = new Float32Array(got.buffer, got.byteOffset, count);
  const b = new Float32Array(expected.buffer, expected.byteOffset, count);
  const bounded = tol.atol !== undefined || tol.rtol !== undefined;
  const atol = bounded ? (tol.atol ?? 0) : Infinity;
  const rtol = tol.rtol ?? 0;
  let errSq = 0;
  let refSq = 0;
  for (let i = 0; i < count; i++) {
    const x = a[i];
    const y = b[i];
    // both finite (v - v is 0 for every finite v, NaN otherwise) first: the one branch almost every element takes
    if (x - x === 0 && y - y === 0) {
      const d = x - y;
      errSq += d * d;
      refSq += y * y;
      if (Math.abs(d) > atol + rtol * Math.abs(y)) return false;
      continue;
    }
    if (x === y || (x !== x && y !== y)) continue; // the same infinity, or NaN where NaN
    return false;
  }
  return tol.nmse === undefined || (refSq > 0 ? errSq / refSq : errSq) <= tol.nmse;
}

export function bytesOf(dtype: Dtype): number {
  return dtype === 'f32' || dtype === 'i32' ? 4 : dtype === 'f16' ? 2 : 1;
}

/** Reads the element of `dtype` at a byte offset. */
export function reader(dtype: Dtype, bytes: Uint8Array): (offset: number) => number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'f32':
      return (o) => view.getFloat32(o, true);
    case 'f16':
      return (o) => halfToFloat(view.getUint16(o, true));
    case 'i32':
      return (o) => view.getInt32(o, true);
    case 'i8':
      return (o) => view.getInt8(o);
    case 'u8':
      return (o) => view.getUint8(o);
  }
}

/**
 * Compares `count` elements of `dtype` laid out as runs of `run` elements every `stride` bytes starting at byte
 * `start` (a plain buffer is one run; a block field is one run per block).
 */
function compareValues(
  dtype: Dtype,
  tol: Tolerance,
  got: Uint8Array,
  expected: Uint8Array,
  start: number,
  run: number,
  strideBytes: number,
  count: number,
  ulpOf?: (offset: number) => number,
): Mismatch | null {
  const size = bytesOf(dtype);
  const readGot = reader(dtype, got);
  const readExp = reader(dtype, expected);
  const isFloat = dtype === 'f32' || dtype === 'f16';
  let errSq = 0;
  let refSq = 0;
  let worst: Mismatch | null = null;
  let worstExcess = 0;
  let differing = 0;
  let firstDiff: Mismatch | null = null;
  for (let k = 0; k < count; k++) {
    const offset = start + Math.floor(k / run) * strideBytes + (k % run) * size;
    const a = readGot(offset);
    const b = readExp(offset);
    const fail = (reason: string, excess: number) => {
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = { index: k, got: a, expected: b, nmse: NaN, reason };
      }
    };
    if (!isFloat) {
      const diff = Math.abs(a - b);
      if (diff > (tol.maxDiff ?? 0)) fail(`differs by ${diff} (allowed ${tol.maxDiff ?? 0})`, diff);
      if (diff > 0 && differing++ === 0) firstDiff = { index: k, got: a, expected: b, nmse: NaN, reason: '' };
      continue;
    }
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (Number.isNaN(a) !== Number.isNaN(b)) fail(Number.isNaN(a) ? 'NaN where the reference is a number' : 'a number where the reference is NaN', Infinity);
      continue;
    }
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      if (a !== b) fail('infinity mismatch', Infinity);
      continue;
    }
    if (ulpOf && tol.maxUlp !== undefined) {
      const ulps = ulpOf(offset);
      if (ulps > tol.maxUlp) fail(`${ulps} f16 ulp apart (allowed ${tol.maxUlp})`, ulps);
    }
    errSq += (a - b) ** 2;
    refSq += b * b;
    if (tol.atol !== undefined || tol.rtol !== undefined) {
      const bound = (tol.atol ?? 0) + (tol.rtol ?? 0) * Math.abs(b);
      const diff = Math.abs(a - b);
      if (diff > bound) fail(`|diff| ${diff.toExponential(2)} > atol + rtol·|ref| = ${bound.toExponential(2)}`, 1 + diff / (bound || Number.MIN_VALUE));
    }
  }
  const nmse = refSq > 0 ? errSq / refSq : errSq;
  if (worst) return { ...(worst as Mismatch), nmse };
  if (tol.maxDiffShare !== undefined && count > 0 && differing / count > tol.maxDiffShare) {
    const share = differing / count;
    return { ...(firstDiff as unknown as Mismatch), nmse, reason: `${(100 * share).toFixed(1)}% of elements differ (allowed ${(100 * tol.maxDiffShare).toFixed(1)}%): a systematic bias` };
  }
  if (isFloat && tol.nmse !== undefined && nmse > tol.nmse) {
    return { index: -1, got: NaN, expected: NaN, nmse, reason: `NMSE ${nmse.toExponential(2)} > ${tol.nmse}` };
  }
  return null;
}

function compareBlocks(layout: NonNullable<BufferParam['blocks']>, got: Uint8Array, expected: Uint8Array): Mismatch | null {
  const blocks = Math.floor(got.length / layout.bytes);
  let fieldOffset = 0;
  for (const field of layout.fields) {
    const tol: Tolerance = field.tolerance ?? (field.dtype === 'f16' || field.dtype === 'f32' ? { maxUlp: 0 } : { maxDiff: 0 });
    const gotView = new DataView(got.buffer, got.byteOffset, got.byteLength);
    const expView = new DataView(expected.buffer, expected.byteOffset, expected.byteLength);
    const ulpOf = field.dtype === 'f16' ? (o: number) => halfUlpDistance(gotView.getUint16(o, true), expView.getUint16(o, true)) : undefined;
    const m = compareValues(field.dtype, tol, got, expected, fieldOffset, field.count, layout.bytes, blocks * field.count, ulpOf);
    if (m) {
      const block = Math.floor(m.index / field.count);
      return { ...m, index: block * layout.bytes + fieldOffset + (m.index % field.count) * bytesOf(field.dtype), reason: `block ${block} field ${field.name}: ${m.reason}` };
    }
    fieldOffset += field.count * bytesOf(field.dtype);
  }
  return null;
}
