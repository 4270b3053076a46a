// The correctness protocol, run inside the sandbox worker, over every case of checkCases (listed shapes, seeded
// random shapes, scalars and thread counts, every distribution on the bench shapes). Per case:
//  A. the candidate on fresh seeded inputs in argument set 0, ascending / descending / shuffled partition order;
//  R. the reference on the same inputs; A must match it within the tolerances;
//  B. the same inputs in argument set 1 (other addresses), another partition order: byte-identical to A;
//  C. a few input elements of set 1 rewritten at random positions, same addresses, a third order: must match the
//     reference on the new inputs (a content-keyed cache replays stale outputs).
// Outputs are poisoned before each call (two different poisons, so untouched integer outputs cannot pass either);
// guards and inputs are verified after every ith of a sequentially emulated call (an input written by one ith and
// restored by another shows), and all sandbox memory the call does not own after every call.
import type { KernelSpec } from '../spec/schema.js';
import type { Env } from '../spec/expr.js';
import type { KernelInstance } from './instance.js';
import { checkCases, generateInputs, partitionOrder, perturbInputs, seedFor } from '../check/inputs.js';
import { ReferenceMemo } from '../check/reference-memo.js';
import { bytesOf, compareOutput, firstDifference, reader } from '../check/compare.js';
import { thrownVerdict, type CheckVerdict, type Where } from '../check/verdict.js';
import { PROTOCOL, type PartitionOrder } from '../check/rules.js';
import { createRng, type Rng } from '../rng.js';


const POISONS = PROTOCOL.poisons;
const ORDERS = PROTOCOL.partitionOrders;
const CHUNK = 4096;
/** seedFor part of the rng stream that picks the positions of perturbed inputs */
export const PERTURB_STREAM = 0x9e27;

/** Runs the candidate once on argument set `set` (partitioned over nth, ith in `order`) and reports the first protocol violation, or null. */
function callChecked(
  inst: KernelInstance,
  spec: KernelSpec,
  set: number,
  inputs: Map<string, Uint8Array>,
  nth: number,
  order: PartitionOrder,
  rng: Rng,
  poison: number,
  where: Where,
): CheckVerdict | null {
  inst.poisonOutputs(set, poison);
  const outputs = inst.outputs();
  // Each ith runs on outputs poisoned afresh, so that a byte written by two ith shows up even when both write the
  // same value. What they wrote is gathered in `done` (a byte not holding the poison there is taken; owner: by
  // which ith) and put back at the end. A chunk no earlier ith touched is taken whole (memcpy speed).
  const owner = outputs.map((b) => new Int16Array(nth > 1 ? b.bytes : 0));
  const done = outputs.map((b) => (nth > 1 ? new Uint8Array(b.bytes).fill(poison) : new Uint8Array(0)));
  const touched = outputs.map((b) => new Uint8Array(nth > 1 ? Math.ceil(b.bytes / CHUNK) : 0));
  const poisoned = new Uint8Array(CHUNK).fill(poison);
  const poison32 = (poison * 0x01010101) >>> 0;
  for (const ith of partitionOrder(order, nth, rng)) {
    if (nth > 1) outputs.forEach((b) => inst.view(set, b.name).fill(poison));
    try {
      inst.call(set, ith, nth);
    } catch (e) {
      return thrownVerdict(e, where);
    }
    // this set's guards (precise); damage anywhere else is found by strayWrite, attributed to this set's buffers
    const guard = inst.checkGuards(set);
    if (guard) return { status: 'out-of-bounds', ...guard, ...where };
    const mutated = mutatedInput(inst, spec, set, inputs, where);
    if (mutated) return mutated;
    if (nth === 1) continue;
    for (let o = 0; o < outputs.length; o++) {
      const live = inst.view(set, outputs[o].name);
      const own = owner[o];
      const acc = done[o];
      for (let from = 0, c = 0; from < live.length; from += CHUNK, c++) {
        const to = Math.min(live.length, from + CHUNK);
        const chunk = live.subarray(from, to);
        // memcmp skips the chunks this ith left alone (most of them)
        if (Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).equals(poisoned.subarray(0, to - from))) continue;
        if (!touched[o][c]) {
          touched[o][c] = 1;
          acc.set(chunk, from);
          own.fill(ith, from, to);
          continue;
        }
        // a word at a time (buffers are 64-byte aligned), bytes only in words this ith touched
        const words = new Uint32Array(live.buffer, live.byteOffset + from, (to - from) >> 2);
        for (let w = 0; w <= words.length; w++) {
          if (w < words.length && words[w] === poison32) continue;
          for (let i = from + 4 * w, end = w < words.length ? i + 4 : to; i < end; i++) {
            if (live[i] === poison) continue;
            if (acc[i] !== poison) return wrongPartition(spec, outputs[o].name, i, `written by both ith=${own[i]} and ith=${ith} of nth=${nth}`, where);
            own[i] = ith;
            acc[i] = live[i];
          }
        }
      }
    }
  }
  if (nth > 1) outputs.forEach((b, o) => inst.view(set, b.name).set(done[o]));
  const stray = inst.strayWrite(set);
  return stray ? { status: 'out-of-bounds', ...stray, ...where } : null;
}

function mutatedInput(inst: KernelInstance, spec: KernelSpec, set: number, inputs: Map<string, Uint8Array>, where: Where): CheckVerdict | null {
  for (const [name, data] of inputs) {
    const index = firstDifference(inst.view(set, name), data);
    if (index >= 0) return { status: 'input-mutated', buffer: name, index: elementIndex(spec, name, index), ...where };
  }
  return null;
}

function wrongPartition(spec: KernelSpec, buffer: string, byte: number, reason: string, where: Where): CheckVerdict {
  return { status: 'wrong', buffer, index: elementIndex(spec, buffer, byte), got: NaN, expected: NaN, nmse: NaN, reason, ...where };
}

function elementIndex(spec: KernelSpec, buffer: string, byte: number): number {
  const p = spec.params.find((q) => q.kind === 'buffer' && q.name === buffer);
  return Math.floor(byte / (p?.kind === 'buffer' ? bytesOf(p.dtype) : 1));
}

/** Compares every output of the candidate instance with the reference's. */
/**
 * Whether the element a verdict after the in-place change names is the one the inputs before the change gave (closer
 * to that reference than to the new one): a stale output, rather than one merely outside the tolerance.
 */
function fitsBefore(spec: KernelSpec, v: Extract<CheckVerdict, { status: 'wrong' }>, before: Map<string, Uint8Array>): boolean {
  const param = spec.params.find((p) => p.kind === 'buffer' && p.name === v.buffer);
  const bytes = before.get(v.buffer);
  if (!param || param.kind !== 'buffer' || !bytes || v.index < 0 || typeof v.got !== 'number' || typeof v.expected !== 'number') return false;
  const old = reader(param.dtype, bytes)(v.index * bytesOf(param.dtype));
  return old !== v.expected && Math.abs(v.got - old) < Math.abs(v.got - v.expected);
}

export function compareAll(
  spec: KernelSpec,
  env: Env,
  got: (name: string) => Uint8Array,
  expected: Map<string, Uint8Array>,
  where: Where,
  note = '',
): CheckVerdict | null {
  for (const p of spec.params) {
    if (p.kind !== 'buffer' || p.role !== 'out') continue;
    const m = compareOutput(spec, p, env, got(p.name), expected.get(p.name)!);
    if (m) return { status: 'wrong', buffer: p.name, ...m, reason: m.reason + note, ...where };
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

const readOutputs = (inst: KernelInstance, set: number) => new Map(inst.outputs().map((b) => [b.name, inst.read(set, b.name)]));

/**
 * `memo` (of this spec, reference and seed, see ReferenceMemo) lends the inputs and reference outputs another
 * candidate's check computed; without it, everything is computed here.
 */
export function runCheck(spec: KernelSpec, cand: KernelInstance, ref: KernelInstance, seedBase: number, memo = new ReferenceMemo()): CheckVerdict {
  let calls = 0;
  let laidOut = '';
  let refLaidOut = '';
  let last: Where | undefined;
  // memory past the layout's region is compared once a shape is done (see KernelInstance.headEnd)
  const strayFarAway = (): CheckVerdict | null => {
    const stray = last ? cand.strayWrite('all', 'whole') : null;
    return stray && last ? { status: 'out-of-bounds', ...stray, ...last } : null;
  };
  for (const [c, kase] of checkCases(spec, seedBase).entries()) {
    const { shape, distribution, nths } = kase;
    if (laidOut !== shape.name) {
      const far = strayFarAway();
      if (far) return far;
      if (!cand.layout(spec, shape.env, 2)) return { status: 'trap', message: 'shape does not fit in sandbox memory', shape: shape.name };
      cand.watch();
      laidOut = shape.name;
    }
    /** the reference's outputs on `inputs` (the reference is laid out for this shape only when the memo lacks them) */
    const referenceOf = (id: string, inputs: Map<string, Uint8Array>): Map<string, Uint8Array> | CheckVerdict => {
      if (!memo.has(id) && refLaidOut !== shape.name) {
        if (!ref.layout(spec, shape.env, 1)) return { status: 'trap', message: 'shape does not fit in sandbox memory', shape: shape.name };
        refLaidOut = shape.name;
      }
      try {
        return memo.get(id, () => referenceOutputs(ref, spec, inputs));
      } catch (e) {
        return thrownVerdict(e, { shape: shape.name, distribution }, 'reference: ');
      }
    };
    const rng = createRng(kase.seed);
    const at = (nth: number): Where => ({ shape: shape.name, distribution, nth: spec.threads ? nth : undefined });
    const inputs = memo.get(`check ${c} inputs`, () => generateInputs(spec, shape.env, distribution, kase.seed));
    for (const [name, data] of inputs) (cand.write(0, name, data), cand.write(1, name, data));
    const orders = [0, 1, 2].map((k) => ORDERS[(c + k) % ORDERS.length]);

    const whereA = at(nths[0]);
    last = whereA;
    const first = callChecked(cand, spec, 0, inputs, nths[0], orders[0], rng, POISONS[0], whereA);
    if (first) return first;
    const expected = referenceOf(`check ${c} expected`, inputs);
    if (!(expected instanceof Map)) return expected;
    const inOrder = (nth: number, order: PartitionOrder) => (nth > 1 ? ` (ith in ${order} order)` : '');
    const wrong = compareAll(spec, shape.env, (name) => cand.read(0, name), expected, whereA, inOrder(nths[0], orders[0]));
    if (wrong) return wrong;
    const firstOut = readOutputs(cand, 0);

    const whereB = at(nths[0]);
    const second = callChecked(cand, spec, 1, inputs, nths[0], orders[1], rng, POISONS[1], whereB);
    if (second) return second;
    for (const [name, bytes] of firstOut) {
      const live = cand.read(1, name);
      const byte = firstDifference(live, bytes);
      if (byte < 0) continue;
      const dtype = cand.outputs().find((b) => b.name === name)!.dtype;
      const at = byte - (byte % bytesOf(dtype));
      return {
        status: 'wrong', buffer: name, index: at / bytesOf(dtype), got: reader(dtype, live)(at), expected: reader(dtype, bytes)(at), nmse: NaN, ...whereB,
        reason: `differs from the first call on the same inputs (other addresses, ${orders[1]} instead of ${orders[0]} partition order): results depend on where buffers live, call order or state kept between calls`,
      };
    }

    // Bench shapes are large, and their timed samples rewrite inputs in place anyway.
    if (kase.origin === 'bench') {
      calls += 2;
      continue;
    }
    // positions drawn from a stream of their own, so that the partition orders do not depend on the memo
    const perturbed = memo.get(`check ${c} perturbed`, () =>
      perturbInputs(spec, shape.env, distribution, inputs, createRng(seedFor(kase.seed, PERTURB_STREAM)), PROTOCOL.perturbedElementsPerSample),
    );
    for (const [name, data] of perturbed) cand.write(1, name, data);
    const whereC = at(nths[1]);
    const third = callChecked(cand, spec, 1, perturbed, nths[1], orders[2], rng, POISONS[0], whereC);
    if (third) return third;
    const expectedPerturbed = referenceOf(`check ${c} perturbed expected`, perturbed);
    if (!(expectedPerturbed instanceof Map)) return expectedPerturbed;
    const afterChange = ` after ${PROTOCOL.perturbedElementsPerSample} input elements changed in place${inOrder(nths[1], orders[2])}`;
    const live = (name: string) => cand.read(1, name);
    const changedWrong = compareAll(spec, shape.env, live, expectedPerturbed, whereC, afterChange);
    if (changedWrong) return changedWrong.status === 'wrong' && fitsBefore(spec, changedWrong, expected) ? { ...changedWrong, reason: `${changedWrong.reason}: the element is what the inputs before the change gave (stale outputs or state kept from an earlier call)` } : changedWrong;
    calls += 3;
  }
  return strayFarAway() ?? { status: 'pass', calls };
}
