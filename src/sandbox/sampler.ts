// Timed A/B sampling inside the sandbox worker, the native driver's protocol (src/check/rules.ts): baseline and
// candidate interleaved in random order; a sample is the fastest of PROTOCOL.batchesPerSample batches, each sized so
// that the faster variant takes at least the minimum batch time; input sets rotated between samples (a pointer-keyed
// cache goes stale) and rewritten at fresh random positions before every pair (a content-keyed cache goes stale);
// outputs poisoned before every batch and one element before every call (in kb_batch); the candidate's outputs
// verified after every batch, its inputs and all sandbox memory it does not own after every sample.
import type { KernelSpec } from '../spec/schema.js';
import type { KernelInstance } from './instance.js';
import { bufferLayouts, distributionNames, generateInputs, perturbInputs, seedFor, shapeCases } from '../check/inputs.js';
import { compareAll, PERTURB_STREAM, referenceOutputs } from './check-protocol.js';
import { ReferenceMemo } from '../check/reference-memo.js';
import { firstDifference } from '../check/compare.js';
import { describeVerdict, thrownVerdict, type CheckVerdict, type Where } from '../check/verdict.js';
import { PROTOCOL } from '../check/rules.js';
import { dtypeBytes } from '../spec/dtypes.js';
import { createRng } from '../rng.js';

export interface SamplerOptions {
  /** pairs per bench shape, split over the instance pairs in contiguous groups */
  pairs: number;
  /** minimum wall time of one batch of the faster variant (a sample is the fastest of PROTOCOL.batchesPerSample) */
  sampleMs: number;
  seed: number;
  /** upper bound on the bytes of all argument sets of one instance */
  maxSetBytes?: number;
  now?: () => number;
  /** inputs and reference outputs of another candidate's samples with this spec, reference and seed (see ReferenceMemo) */
  memo?: ReferenceMemo;
}

/**
 * The baseline and the candidate as one timed group: separately compiled modules with their own memories. Several
 * groups per screen sample over what a re-run changes (code placement, buffer layout, drift during the job).
 */
export interface TimedVariants {
  base: KernelInstance;
  cand: KernelInstance;
}

export interface ShapeSamples {
  shape: string;
  env: Record<string, number>;
  /** calls per batch */
  callsPerSample: number;
  /** per-call ns of each pair, in pair order */
  baselineNs: number[];
  candidateNs: number[];
  /** pairs timed in each group of variants, in order (resampled hierarchically) */
  groupSizes: number[];
}

export type SamplerResult = { ok: true; shapes: ShapeSamples[] } | { ok: false; verdict: CheckVerdict };

/** Pairs per group: `pairs` split as evenly as possible over `groups`, the larger groups first. */
export function splitPairs(pairs: number, groups: number): number[] {
  return Array.from({ length: groups }, (_, g) => Math.floor(pairs / groups) + (g < pairs % groups ? 1 : 0));
}

/** Bytes between buffers (a multiple of 64 below one page): each group's buffers lie differently against cache sets. */
const PADDING_STEPS = 64;
const PADDING_STEP_BYTES = 64;

const MAX_SETS = 4;

/**
 * Each timed batch is called up to this many JS frames deeper, drawn per batch, so the native stack address of the
 * WASM frame moves over a few KB. V8 spills vector registers there (an 8-lane model holds twice the v128 values of
 * the x86 registers it models), and at some addresses those spill slots collide with the buffers (the slow depths
 * move with the buffers' padding: 4 KB aliasing): quantize_q8_0's group8_avx2 took 35–42 µs instead of 28 at ~10%
 * of depths, so its time depended on the process and on what the sandbox host had run before (npm run
 * bench:order). A sample is the fastest of its batches, each at its own depth, so it is almost never at one.
 */
const STACK_DEPTHS = 128;
const STACK_STREAM = 0x57ac;

function atStackDepth<T>(depth: number, fn: () => T): T {
  return depth > 0 ? atStackDepth(depth - 1, fn) : fn();
}

const SKIPPED = 'an element poisoned before a timed call was still poisoned after it (the call was skipped)';
const baselineFailed = (v: CheckVerdict): CheckVerdict => ({ status: 'trap', message: `the baseline fails a timed call: ${describeVerdict(v)}` });

/**
 * Times every bench shape: `opts.pairs` interleaved pairs split over `groups` (each group its own instances and its
 * own buffer layout, timed one after the other), every group's outputs verified, inputs and memory watched.
 */
export function sampleShapes(spec: KernelSpec, groups: readonly TimedVariants[], ref: KernelInstance, opts: SamplerOptions): SamplerResult {
  const now = opts.now ?? (() => performance.now());
  const rng = createRng(opts.seed);
  const stackRng = createRng(seedFor(opts.seed, STACK_STREAM));
  const memo = opts.memo ?? new ReferenceMemo();
  const shapes: ShapeSamples[] = [];
  const distribution = distributionNames(spec)[0];
  for (const [si, shape] of shapeCases(spec, 'bench').entries()) {
    const where: Where = { shape: shape.name, distribution, phase: 'timed' };
    const fail = (verdict: CheckVerdict): SamplerResult => ({ ok: false, verdict });
    const layouts = bufferLayouts(spec, shape.env);
    const setBytes = layouts.reduce((n, b) => n + b.bytes, 0);
    const sets = Math.max(1, Math.min(MAX_SETS, Math.floor((opts.maxSetBytes ?? 64 << 20) / Math.max(1, setBytes))));
    if (!ref.layout(spec, shape.env, 1)) return fail({ status: 'trap', message: 'bench shape does not fit in sandbox memory', shape: shape.name });
    const initial = memo.get(`timed ${si} ${sets}`, () => {
      const inputs = Array.from({ length: sets }, (_, s) => generateInputs(spec, shape.env, distribution, seedFor(opts.seed, 1000 + si, s)));
      return { inputs, expected: inputs.map((set) => referenceOutputs(ref, spec, set)) };
    });
    const inputSets = [...initial.inputs];
    const expected = [...initial.expected];
    // Both variants get the same untimed work between batches (verification touches memory and caches: doing it for
    // one only would favour the other); only the candidate's failures are verdicts, the baseline's are the suite's.
    /** each variant's outputs for each input set as it stands, once verified against the reference (null: not yet) */
    const known = new Map<KernelInstance, (Map<string, Uint8Array> | null)[]>();
    /** for a group's instances, what the previous group's instance of the same variant verified (see verify) */
    let carried = new Map<KernelInstance, (Map<string, Uint8Array> | null)[]>();
    const perturbed = inputSets.map(() => false);
    let rotation = 0;
    const load = (inst: KernelInstance) => {
      for (let s = 0; s < sets; s++) for (const [name, data] of inputSets[(s + rotation) % sets]) inst.write(s, name, data);
    };
    const timeBatch = (inst: KernelInstance, reps: number, depth = 0) => {
      inst.poisonEveryOutput();
      const t0 = now();
      atStackDepth(depth, () => inst.batch(reps));
      return now() - t0;
    };
    /** whether output element `index` of set `s` still holds the poison kb_batch writes before every call */
    const poisonedAt = (inst: KernelInstance, s: number, name: string, index: number) => {
      const size = dtypeBytes(layouts.find((l) => l.name === name)!.dtype);
      return index >= 0 && inst.view(s, name).subarray(index * size, (index + 1) * size).every((x) => x === 0xff);
    };
    /** The candidate's outputs after a batch: each set as verified before, or within the tolerances on new inputs. */
    const verify = (inst: KernelInstance): CheckVerdict | null => {
      for (let s = 0; s < sets; s++) {
        const index = (s + rotation) % sets;
        const before = known.get(inst)![index];
        if (!before) {
          // the same variant's outputs on these inputs, byte for byte, as verified in the previous group: verified too
          const earlier = carried.get(inst)?.[index];
          if (earlier && [...earlier].every(([name, bytes]) => firstDifference(inst.view(s, name), bytes) < 0)) {
            known.get(inst)![index] = earlier;
            continue;
          }
          const wrong = compareAll(spec, shape.env, (name) => inst.view(s, name), expected[index], where, perturbed[index] ? ` (inputs rewritten at ${PROTOCOL.perturbedElementsPerSample} random positions before this sample)` : '');
          if (wrong) return wrong.status === 'wrong' && poisonedAt(inst, s, wrong.buffer, wrong.index) ? { ...wrong, reason: SKIPPED } : wrong;
          known.get(inst)![index] = new Map(inst.outputs().map((b) => [b.name, inst.read(s, b.name)]));
          continue;
        }
        for (const [name, bytes] of before) {
          const live = inst.view(s, name);
          const byte = firstDifference(live, bytes);
          if (byte < 0) continue;
          const size = dtypeBytes(layouts.find((l) => l.name === name)!.dtype);
          const index = Math.floor(byte / size);
          return {
            status: 'wrong', buffer: name, index, got: NaN, expected: NaN, nmse: NaN, ...where,
            reason: poisonedAt(inst, s, name, index) ? SKIPPED : 'outputs of a timed call differ from the same call untimed (work skipped or state kept between calls)',
          };
        }
      }
      return null;
    };

    /** Inputs unchanged (checked after every sample: the next sample's load would rewrite them). */
    const inputsIntact = (inst: KernelInstance): CheckVerdict | null => {
      for (let s = 0; s < sets; s++)
        for (const [name, data] of inputSets[(s + rotation) % sets]) {
          const byte = firstDifference(inst.view(s, name), data);
          if (byte >= 0) return { status: 'input-mutated', buffer: name, index: Math.floor(byte / dtypeBytes(layouts.find((l) => l.name === name)!.dtype)), ...where };
        }
      return null;
    };
    /**
     * All memory the variant does not own, once per shape and group after its samples: nothing but the inputs
     * (checked per sample) is rewritten between samples, so a stray write stays visible, and comparing the whole
     * memory after each sample cost more than the samples.
     */
    const noStrayWrite = (inst: KernelInstance): CheckVerdict | null => {
      const stray = inst.strayWrite('all', 'whole');
      return stray ? { status: 'out-of-bounds', ...stray, ...where } : null;
    };

    // Batch size: the faster variant takes at least the minimum batch time, unless the slower would then take
    // more than slowestBatchFactor times that (a candidate that skips its work must not stall the run). Found in
    // the first group and kept: every group times the same work per sample.
    const batchReps = (base: KernelInstance, cand: KernelInstance): number => {
      const minMs = opts.sampleMs;
      for (let reps = 1; ; ) {
        const tb = timeBatch(base, reps);
        const tc = timeBatch(cand, reps);
        const fastest = Math.min(tb, tc);
        const slowest = Math.max(tb, tc);
        if (fastest >= minMs || slowest >= PROTOCOL.slowestBatchFactor * minMs || reps >= 1 << 24) return reps;
        let scale = fastest > 0 ? (minMs / fastest) * 1.2 : 16;
        const room = slowest > 0 ? (PROTOCOL.slowestBatchFactor * minMs) / slowest : 16;
        if (scale > room) scale = Math.max(room, 1);
        reps = Math.max(reps + 1, Math.ceil(reps * Math.min(scale, 16)));
      }
    };

    const groupSizes = splitPairs(opts.pairs, groups.length);
    const baselineNs: number[] = [];
    const candidateNs: number[] = [];
    let reps = 0;
    let p = 0;
    for (const [g, { base, cand }] of groups.entries()) {
      const padding = PADDING_STEP_BYTES * Math.floor(rng.next() * PADDING_STEPS);
      if (!base.layout(spec, shape.env, sets, padding) || !cand.layout(spec, shape.env, sets, padding))
        return fail({ status: 'trap', message: 'bench shape does not fit in sandbox memory', shape: shape.name });
      base.watch();
      cand.watch();
      const previous = groups[g - 1];
      carried = new Map(previous ? [[base, known.get(previous.base)!], [cand, known.get(previous.cand)!]] : []);
      for (const inst of [base, cand]) known.set(inst, inputSets.map(() => null));

      // Warm-up, and each variant's outputs on the current inputs verified within the tolerances.
      for (const [label, inst] of [['baseline', base], ['candidate', cand]] as const) {
        try {
          load(inst);
          timeBatch(inst, 1);
          timeBatch(inst, 1);
        } catch (e) {
          return fail(thrownVerdict(e, where, `${label}: `));
        }
        const wrong = verify(inst);
        if (wrong) return fail(label === 'candidate' ? wrong : baselineFailed(wrong));
      }
      if (g === 0) {
        try {
          reps = batchReps(base, cand);
        } catch (e) {
          return fail(thrownVerdict(e, where));
        }
      }

      for (const end = p + groupSizes[g]; p < end; p++) {
        rotation = p % sets;
        // Fresh values at fresh positions of one input set: its reference is recomputed and the candidate re-verified
        // (positions from a stream of their own, so that the order of the pairs does not depend on the memo).
        const target = p % sets;
        const next = memo.get(`timed ${si} ${sets} pair ${p}`, () => {
          const inputs = perturbInputs(spec, shape.env, distribution, inputSets[target], createRng(seedFor(opts.seed, 1000 + si, PERTURB_STREAM, p)), PROTOCOL.perturbedElementsPerSample);
          return { inputs, expected: referenceOutputs(ref, spec, inputs) };
        });
        inputSets[target] = next.inputs;
        expected[target] = next.expected;
        for (const k of known.values()) k[target] = null;
        perturbed[target] = true;
        const order = rng.next() < 0.5 ? [base, cand] : [cand, base];
        for (const inst of order) {
          load(inst);
          let best = Infinity;
          for (let b = 0; b < PROTOCOL.batchesPerSample; b++) {
            try {
              best = Math.min(best, timeBatch(inst, reps, Math.floor(stackRng.next() * STACK_DEPTHS)));
            } catch (e) {
              return fail(thrownVerdict(e, where));
            }
            const wrong = verify(inst);
            if (wrong) return fail(inst === cand ? wrong : baselineFailed(wrong));
          }
          const wrong = inputsIntact(inst);
          if (wrong) return fail(inst === cand ? wrong : baselineFailed(wrong));
          (inst === base ? baselineNs : candidateNs).push((best * 1e6) / (reps * sets));
        }
      }
      for (const inst of [cand, base]) {
        const wrong = noStrayWrite(inst);
        if (wrong) return fail(inst === cand ? wrong : baselineFailed(wrong));
      }
    }
    shapes.push({ shape: shape.name, env: { ...shape.env }, callsPerSample: reps * sets, baselineNs, candidateNs, groupSizes });
  }
  return { ok: true, shapes };
}
