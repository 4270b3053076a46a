// Inputs are generated here, in TypeScript, from the spec and a seed: one source of truth for the WASM sandbox
// and for native hosts (which receive the bytes).
import { evalExpr, type Env } from '../spec/expr.js';
import type { BufferParam, Dtype, Generator, KernelSpec, ScalarParam, Shape } from '../spec/schema.js';
import { dtypeBytes } from '../spec/dtypes.js';
import { createRng } from '../measure/rng.js';
import { floatToHalf } from './f16.js';

export interface ShapeCase {
  /** display name, e.g. "n=17 rows=1" or the shape's own name */
  name: string;
  env: Env;
}

export interface BufferLayout {
  name: string;
  dtype: Dtype;
  role: BufferParam['role'];
  elements: number;
  bytes: number;
  param: BufferParam;
}

export function shapeCases(spec: KernelSpec, set: 'check' | 'bench'): ShapeCase[] {
  return spec.shapes[set].map((shape: Shape) => {
    const { name, ...vars } = shape;
    const env = vars as Record<string, number>;
    return { name: name ?? Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' '), env };
  });
}

export function bufferLayouts(spec: KernelSpec, env: Env): BufferLayout[] {
  return spec.params.flatMap((p) => {
    if (p.kind !== 'buffer') return [];
    const elements = evalExpr(p.length, env);
    return [{ name: p.name, dtype: p.dtype, role: p.role, elements, bytes: elements * dtypeBytes(p.dtype), param: p }];
  });
}

export function scalarValues(spec: KernelSpec, env: Env): { name: string; type: ScalarParam['type']; value: number }[] {
  return spec.params.flatMap((p) => (p.kind === 'scalar' ? [{ name: p.name, type: p.type, value: evalExpr(p.value, env) }] : []));
}

export function distributionNames(spec: KernelSpec): string[] {
  const names = Object.keys(spec.distributions);
  return names.length ? names : ['default'];
}

export function generatorFor(spec: KernelSpec, buffer: string, distribution: string): Generator {
  return spec.distributions[distribution]?.[buffer] ?? spec.inputs[buffer];
}

/** Raw little-endian bytes for every input buffer. */
export function generateInputs(spec: KernelSpec, env: Env, distribution: string, seed: number): Map<string, Uint8Array> {
  const inputs = new Map<string, Uint8Array>();
  bufferLayouts(spec, env).forEach((b, i) => {
    if (b.role !== 'in') return;
    const values = sampleValues(generatorFor(spec, b.name, distribution), b.elements, env, (seed * 1_000_003 + i * 7919) >>> 0);
    inputs.set(b.name, encode(b.dtype, values));
  });
  return inputs;
}

function special(v: number | 'inf' | '-inf' | 'nan'): number {
  return v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === 'nan' ? NaN : v;
}

function sampleValues(gen: Generator, count: number, env: Env, seed: number): Float64Array {
  const rng = createRng(seed);
  const out = new Float64Array(count);
  switch (gen.kind) {
    case 'uniform':
      for (let i = 0; i < count; i++) out[i] = gen.min + (gen.max - gen.min) * rng.next();
      break;
    case 'normal':
      for (let i = 0; i < count; i++) out[i] = gen.mean + gen.std * rng.normal();
      break;
    case 'constant':
      out.fill(special(gen.value));
      break;
    case 'mask': {
      const cols = evalExpr(gen.cols, env);
      const rows = cols > 0 ? Math.ceil(count / cols) : 0;
      const masked = new Set(gen.maskedRows);
      for (let i = 0; i < count; i++) {
        const r = Math.floor(i / cols);
        const c = i % cols;
        const hidden = masked.has(r) || (gen.causal && c > r + cols - rows) || (gen.pMasked > 0 && rng.next() < gen.pMasked);
        out[i] = hidden ? -Infinity : gen.alibi ? -Math.abs(r + cols - rows - c) : gen.value;
      }
      break;
    }
    case 'ties': {
      const steps = Math.floor(gen.max / gen.step);
      for (let i = 0; i < count; i++) out[i] = gen.step * (Math.floor(rng.next() * (2 * steps + 1)) - steps);
      for (let b = 0; b < count; b += gen.block) {
        const at = b + Math.floor(rng.next() * Math.min(gen.block, count - b));
        out[at] = rng.next() < 0.5 ? -gen.max : gen.max;
      }
      break;
    }
  }
  return out;
}

function encode(dtype: Dtype, values: Float64Array): Uint8Array {
  const n = values.length;
  switch (dtype) {
    case 'f32':
      return new Uint8Array(Float32Array.from(values).buffer);
    case 'f16':
      return new Uint8Array(Uint16Array.from(values, floatToHalf).buffer);
    case 'i32':
      return new Uint8Array(Int32Array.from(values, (v) => clampRound(v, -(2 ** 31), 2 ** 31 - 1)).buffer);
    case 'i8':
      return new Uint8Array(Int8Array.from(values, (v) => clampRound(v, -128, 127)).buffer, 0, n);
    case 'u8':
      return Uint8Array.from(values, (v) => clampRound(v, 0, 255));
  }
}

function clampRound(v: number, lo: number, hi: number): number {
  return Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.round(v))) : 0;
}
