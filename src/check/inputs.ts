// Inputs are generated here, in TypeScript, from the spec and a seed: one source of truth for the WASM sandbox
// and for native hosts (which receive the bytes).
import { evalExpr, type Env } from '../spec/expr.js';
import type { BufferParam, Dtype, Generator, KernelSpec, ScalarParam, Shape } from '../spec/schema.js';
import type { PartitionOrder } from './rules.js';
import { dtypeBytes } from '../spec/dtypes.js';
import { createRng, type Rng } from '../rng.js';
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

export function seedFor(base: number, ...parts: number[]): number {
  return parts.reduce((s, p) => (Math.imul(s ^ p, 0x9e3779b1) + 0x7f4a7c15) >>> 0, base >>> 0);
}

/**
 * A scalar drawn for a random case lives in the case's env under this prefix (no expression can name it), so every
 * consumer of scalarValues (the WASM layout, the native plan) passes the drawn value.
 */
const DRAWN = '@';

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
  return spec.params.flatMap((p) => (p.kind === 'scalar' ? [{ name: p.name, type: p.type, value: env[DRAWN + p.name] ?? evalExpr(p.value, env) }] : []));
}

/** Every residue modulo this of each varying shape variable is covered by the random cases. */
export const RESIDUES = 64;
/** thread counts random cases draw from: small ones, primes up to 61 and 64 (often more threads than rows) */
const NTH_POOL = [1, 2, 3, 4, 5, 6, 7, 8, 11, 13, 16, 17, 19, 23, 29, 31, 32, 37, 41, 43, 47, 53, 59, 61, 64];
/** offsets from each bench size that random cases take (in units of the variable's multipleOf) */
const NEAR_BENCH = [-3, -2, -1, 1, 2, 3];

/** One call sequence of the check: a shape, an input distribution and seed, and the partition counts it uses. */
export interface CheckCase {
  shape: ShapeCase;
  distribution: string;
  seed: number;
  /** nth of the first two calls (same inputs, other addresses and partition order) and of the call on perturbed inputs */
  nths: [number, number];
  origin: 'listed' | 'random' | 'bench';
}

/**
 * Every case the check runs, for the WASM sandbox and the native plan alike: the listed check shapes × every
 * distribution × trials; seeded random cases (shape variables declared in `vary` covering every residue modulo 64
 * with small sizes and ±1..3 around each bench size, scalars drawn from their declared ranges, nth up to 64); and
 * every distribution on every bench shape.
 */
export function checkCases(spec: KernelSpec, seed: number, trials = spec.trials): CheckCase[] {
  const dists = distributionNames(spec);
  const counts = spec.threads?.counts ?? [1];
  const cases: CheckCase[] = [];
  for (const [si, shape] of shapeCases(spec, 'check').entries())
    for (const [di, distribution] of dists.entries())
      for (let trial = 0; trial < trials; trial++) {
        // Rotate partitions so that every nth in the spec is exercised on every shape.
        const turn = (di * trials + trial) * 2;
        const nths: [number, number] = [counts[turn % counts.length], counts[(turn + 1) % counts.length]];
        cases.push({ shape, distribution, seed: seedFor(seed, si, di, trial), nths, origin: 'listed' });
      }
  const rng = createRng(seedFor(seed, 0x7a11));
  const nth = () => (spec.threads ? NTH_POOL[Math.floor(rng.next() * NTH_POOL.length)] : 1);
  for (const [i, shape] of randomShapes(spec, seed).entries())
    cases.push({ shape, distribution: dists[i % dists.length], seed: seedFor(seed, 3000 + i), nths: [nth(), nth()], origin: 'random' });
  for (const [bi, shape] of shapeCases(spec, 'bench').entries())
    for (const [di, distribution] of dists.entries()) {
      const turn = (bi * dists.length + di) * 2;
      cases.push({ shape, distribution, seed: seedFor(seed, 2000 + bi, di), nths: [counts[turn % counts.length], counts[(turn + 1) % counts.length]], origin: 'bench' });
    }
  return cases;
}

/** The seeded random shapes of the check, each named by every variable and drawn scalar (e.g. "n=133 rows=3 eps=0.000312"). */
export function randomShapes(spec: KernelSpec, seed: number): ShapeCase[] {
  const rng = createRng(seedFor(seed, 0x5eed));
  const vars = Object.keys(spec.vary);
  const ranged = spec.params.some((p) => p.kind === 'scalar' && p.range);
  const perms = vars.map(() => shuffled(RESIDUES, rng));
  const byName = new Map<string, ShapeCase>();
  const legal = (env: Env) =>
    vars.every((name) => {
      const v = spec.vary[name];
      return env[name] >= evalExpr(v.min, env) && env[name] <= evalExpr(v.max, env) && env[name] % (v.multipleOf ?? 1) === 0;
    });
  const add = (env: Record<string, number>) => {
    if (!legal(env)) return;
    drawScalars(spec, env, rng);
    const c = namedCase(env);
    if (!byName.has(c.name)) byName.set(c.name, c);
  };
  const bases = spec.shapes.check;
  for (let i = 0; i < (vars.length ? RESIDUES : ranged ? 8 : 0); i++) {
    const env = shapeEnv(bases[Math.floor(rng.next() * bases.length)]);
    vars.forEach((name, j) => (env[name] = drawVariable(spec, name, env, perms[j][i], rng)));
    add(env);
  }
  for (const bench of spec.shapes.bench)
    for (const name of vars)
      for (const offset of NEAR_BENCH) {
        const env = shapeEnv(bench);
        // the other varying variables small, so that cases next to a large bench shape stay cheap
        for (const other of vars) if (other !== name) env[other] = drawVariable(spec, other, env, 1 + Math.floor(rng.next() * 4), rng);
        env[name] += offset * (spec.vary[name].multipleOf ?? 1);
        add(env);
      }
  return [...byName.values()];
}

function shapeEnv(shape: Shape): Record<string, number> {
  const { name: _name, ...vars } = shape;
  return { ...(vars as Record<string, number>) };
}

function namedCase(env: Record<string, number>): ShapeCase {
  const name = Object.entries(env)
    .map(([k, v]) => `${k.startsWith(DRAWN) ? k.slice(DRAWN.length) : k}=${v}`)
    .join(' ');
  return { name, env };
}

/** The smallest legal value of a varying variable with the wanted residue (in multiples), or a random legal one. */
function drawVariable(spec: KernelSpec, name: string, env: Env, residue: number, rng: Rng): number {
  const v = spec.vary[name];
  const m = v.multipleOf ?? 1;
  const lo = Math.ceil(evalExpr(v.min, env) / m);
  const hi = Math.floor(evalExpr(v.max, env) / m);
  let units = lo + ((((residue - lo) % RESIDUES) + RESIDUES) % RESIDUES);
  if (units > hi) units = lo + Math.floor(rng.next() * Math.max(1, hi - lo + 1));
  return units * m;
}

/** Scalars with a declared range, drawn to 3 significant digits so that a case's name is exactly its values. */
function drawScalars(spec: KernelSpec, env: Record<string, number>, rng: Rng): void {
  for (const p of spec.params) {
    if (p.kind !== 'scalar' || !p.range) continue;
    const { min, max, log } = p.range;
    const u = rng.next();
    let value = log ? Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min))) : min + u * (max - min);
    value = p.type === 'i32' ? Math.round(value) : Number(value.toPrecision(3));
    value = Math.min(max, Math.max(min, value));
    // a scalar that is just a shape variable is drawn as that variable, so the name shows it once
    if (typeof p.value === 'string' && p.value in env) env[p.value] = value;
    else env[DRAWN + p.name] = value;
  }
}

function shuffled(count: number, rng: Rng): number[] {
  const a = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** The order in which the ith of one sequentially emulated call run. */
export function partitionOrder(order: PartitionOrder, nth: number, rng: Rng): number[] {
  const ith = Array.from({ length: nth }, (_, i) => i);
  if (order === 'descending') return ith.reverse();
  if (order === 'shuffled') return shuffled(nth, rng);
  return ith;
}

/**
 * Copies of `inputs` with `count` elements at fresh random positions rewritten, each with a replacement drawn as
 * `replacementElement` does. A rewrite that leaves the element as it was is tried again a few times (constant
 * inputs cannot change).
 */
export function perturbInputs(spec: KernelSpec, env: Env, distribution: string, inputs: Map<string, Uint8Array>, rng: Rng, count: number): Map<string, Uint8Array> {
  const out = new Map([...inputs].map(([name, bytes]) => [name, bytes.slice()]));
  const buffers = bufferLayouts(spec, env).filter((b) => b.role === 'in' && b.elements > 0);
  if (!buffers.length) return out;
  for (let k = 0; k < count; k++) {
    const b = buffers[Math.floor(rng.next() * buffers.length)];
    const size = dtypeBytes(b.dtype);
    const live = out.get(b.name)!;
    for (let attempt = 0; attempt < 4; attempt++) {
      const at = Math.floor(rng.next() * b.elements) * size;
      const value = replacementElement(spec, env, distribution, b, live, rng);
      if (!Buffer.from(live.buffer, live.byteOffset + at, size).equals(value)) {
        live.set(value, at);
        break;
      }
    }
  }
  return out;
}

/**
 * Replacement elements for the native driver, which changes inputs the same way between calls but cannot run the
 * generators: `count` of them per input buffer, each drawn as `replacementElement` does (the driver picks positions
 * and which replacement goes where from its own per-run random stream).
 */
export function replacementPool(spec: KernelSpec, env: Env, distribution: string, inputs: Map<string, Uint8Array>, seed: number, count: number): Map<string, Uint8Array> {
  const rng = createRng(seed);
  const pools = new Map<string, Uint8Array>();
  for (const b of bufferLayouts(spec, env).filter((b) => b.role === 'in' && b.elements > 0)) {
    const size = dtypeBytes(b.dtype);
    const pool = new Uint8Array(count * size);
    for (let k = 0; k < count; k++) pool.set(replacementElement(spec, env, distribution, b, inputs.get(b.name)!, rng), k * size);
    pools.set(b.name, pool);
  }
  return pools;
}

/**
 * One element that keeps an input's distribution: a new draw of its generator (a one-element draw, so a `ties`
 * draw is ±max and every block keeps its ±max), or for masks, whose values depend on the position, a copy of the
 * element at another random position of the buffer.
 */
function replacementElement(spec: KernelSpec, env: Env, distribution: string, b: BufferLayout, live: Uint8Array, rng: Rng): Uint8Array {
  const gen = generatorFor(spec, b.name, distribution);
  const size = dtypeBytes(b.dtype);
  if (gen.kind !== 'mask') return encode(b.dtype, sampleValues(gen, 1, env, rng.nextU32()));
  const from = Math.floor(rng.next() * b.elements) * size;
  return live.slice(from, from + size);
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
