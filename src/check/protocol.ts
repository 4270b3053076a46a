// The correctness protocol, run inside the sandbox worker: for every check shape × distribution × trial, fresh
// seeded inputs; candidate → reference → candidate, outputs poisoned before each call (two different poisons, so
// untouched integer outputs cannot pass either); guard zones and inputs verified after every call; threaded kernels
// called ith = 0..nth−1 in sequence, every output byte written by exactly one ith.
import type { KernelSpec } from '../spec/schema.js';
import type { Env } from '../spec/expr.js';
import type { KernelInstance } from '../sandbox/instance.js';
import { distributionNames, generateInputs, shapeCases } from './inputs.js';
import { compareOutput } from './compare.js';
import { thrownVerdict, type CheckVerdict, type Where } from './verdict.js';
import { PROTOCOL } from './rules.js';

const POISONS = PROTOCOL.poisons;

export function seedFor(base: number, ...parts: number[]): number {
  return parts.reduce((s, p) => (Math.imul(s ^ p, 0x9e3779b1) + 0x7f4a7c15) >>> 0, base >>> 0);
}

/** Runs the candidate once (partitioned over nth) and reports the first protocol violation, or null. */
function callChecked(
  inst: KernelInstance,
  spec: KernelSpec,
  inputs: Map<string, Uint8Array>,
  nth: number,
  poison: number,
  where: Where,
): CheckVerdict | null {
  inst.poisonOutputs(0, poison);
  const outputs = inst.outputs();
  // owner[i]: the ith that wrote byte i (−1: none yet). Bytes earlier threads wrote are re-poisoned for each later
  // call (and restored after), so that a thread writing them again shows up even when it writes identical values.
  const owner = outputs.map((b) => new Int16Array(b.bytes).fill(-1));
  const saved = outputs.map((b) => new Uint8Array(b.bytes));
  for (let ith = 0; ith < nth; ith++) {
    if (nth > 1)
      outputs.forEach((b, o) => {
        const live = inst.view(0, b.name);
        saved[o].set(live);
        const own = owner[o];
        for (let i = 0; i < live.length; i++) if (own[i] >= 0) live[i] = poison;
      });
    try {
      inst.call(0, ith, nth);
    } catch (e) {
      return thrownVerdict(e, where);
    }
    const guard = inst.checkGuards();
    if (guard) return { status: 'out-of-bounds', ...guard, ...where };
    if (nth === 1) continue;
    for (let o = 0; o < outputs.length; o++) {
      const live = inst.view(0, outputs[o].name);
      const own = owner[o];
      const before = saved[o];
      for (let i = 0; i < live.length; i++) {
        const earlier = own[i] >= 0;
        if (live[i] === (earlier ? poison : before[i])) {
          if (earlier) live[i] = before[i];
        } else if (earlier) {
          return wrongPartition(spec, outputs[o].name, i, `written by both ith=${own[i]} and ith=${ith} of nth=${nth}`, where);
        } else own[i] = ith;
      }
    }
  }
  for (const [name, data] of inputs) {
    const index = firstDifference(inst.view(0, name), data);
    if (index >= 0) return { status: 'input-mutated', buffer: name, index: elementIndex(spec, name, index), ...where };
  }
  return null;
}

/** Byte index of the first difference, or −1 (memcmp speed when equal, which is the usual case). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)) return -1;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return a.length;
}

function wrongPartition(spec: KernelSpec, buffer: string, byte: number, reason: string, where: Where): CheckVerdict {
  return { status: 'wrong', buffer, index: elementIndex(spec, buffer, byte), got: NaN, expected: NaN, nmse: NaN, reason, ...where };
}

function elementIndex(spec: KernelSpec, buffer: string, byte: number): number {
  const p = spec.params.find((q) => q.kind === 'buffer' && q.name === buffer);
  const size = p?.kind === 'buffer' ? (p.dtype === 'f32' || p.dtype === 'i32' ? 4 : p.dtype === 'f16' ? 2 : 1) : 1;
  return Math.floor(byte / size);
}

/** Compares every output of the candidate instance (set 0) with the reference's. */
export function compareAll(
  spec: KernelSpec,
  env: Env,
  got: (name: string) => Uint8Array,
  expected: Map<string, Uint8Array>,
  where: Where,
): CheckVerdict | null {
  for (const p of spec.params) {
    if (p.kind !== 'buffer' || p.role !== 'out') continue;
    const m = compareOutput(spec, p, env, got(p.name), expected.get(p.name)!);
    if (m) return { status: 'wrong', buffer: p.name, ...m, ...where };
  }
  return null;
}

/** The reference's outputs for the inputs in set 0 (the reference itself is trusted, but its guards are checked). */
export function referenceOutputs(ref: KernelInstance, spec: KernelSpec, inputs: Map<string, Uint8Array>, set = 0): Map<string, Uint8Array> {
  for (const [name, data] of inputs) ref.write(set, name, data);
  ref.poisonOutputs(set);
  ref.call(set, 0, 1);
  const guard = ref.checkGuards();
  if (guard) throw new Error(`the reference wrote out of bounds of ${guard.buffer}`);
  return new Map(ref.outputs().map((b) => [b.name, ref.read(set, b.name)]));
}

export function runCheck(spec: KernelSpec, cand: KernelInstance, ref: KernelInstance, seedBase: number): CheckVerdict {
  const counts = spec.threads?.counts ?? [1];
  let calls = 0;
  const dists = distributionNames(spec);
  for (const [si, shape] of shapeCases(spec, 'check').entries()) {
    if (!cand.layout(spec, shape.env, 1) || !ref.layout(spec, shape.env, 1))
      return { status: 'trap', message: 'shape does not fit in sandbox memory', shape: shape.name };
    for (const [di, distribution] of dists.entries()) {
      for (let trial = 0; trial < spec.trials; trial++) {
        const inputs = generateInputs(spec, shape.env, distribution, seedFor(seedBase, si, di, trial));
        for (const [name, data] of inputs) cand.write(0, name, data);
        // Rotate partitions so that every nth in the spec is exercised on every shape.
        const turn = (di * spec.trials + trial) * 2;
        const nths = [counts[turn % counts.length], counts[(turn + 1) % counts.length]];
        const first = callChecked(cand, spec, inputs, nths[0], POISONS[0], { shape: shape.name, distribution, nth: spec.threads ? nths[0] : undefined });
        if (first) return first;
        const firstOut = new Map(cand.outputs().map((b) => [b.name, cand.read(0, b.name)]));
        let expected: Map<string, Uint8Array>;
        try {
          expected = referenceOutputs(ref, spec, inputs);
        } catch (e) {
          return thrownVerdict(e, { shape: shape.name, distribution }, 'reference: ');
        }
        for (const [k, nth] of nths.entries()) {
          const where: Where = { shape: shape.name, distribution, nth: spec.threads ? nth : undefined };
          if (k === 1) {
            const second = callChecked(cand, spec, inputs, nth, POISONS[1], where);
            if (second) return second;
          }
          const wrong = compareAll(spec, shape.env, (name) => (k === 0 ? firstOut.get(name)! : cand.read(0, name)), expected, where);
          if (wrong) return wrong;
          calls++;
        }
      }
    }
  }
  return { status: 'pass', calls };
}
