// Timed A/B sampling inside the sandbox worker: baseline and candidate interleaved in random order, many calls per
// sample, input sets rotated between samples (a pointer-keyed cache goes stale), outputs poisoned before and checked
// after every timed sample (work skipped on repeated calls shows up as poison or stale data).
import type { KernelSpec } from '../spec/schema.js';
import type { KernelInstance } from '../sandbox/instance.js';
import { distributionNames, generateInputs, shapeCases, bufferLayouts } from '../check/inputs.js';
import { compareAll, firstDifference, referenceOutputs, seedFor } from '../check/protocol.js';
import { thrownVerdict, type CheckVerdict } from '../check/verdict.js';
import { createRng } from './rng.js';

export interface SamplerOptions {
  pairs: number;
  /** target wall time of one sample (one batch of calls) */
  sampleMs: number;
  seed: number;
  /** upper bound on the bytes of all argument sets of one instance */
  maxSetBytes?: number;
  now?: () => number;
}

export interface ShapeSamples {
  shape: string;
  env: Record<string, number>;
  callsPerSample: number;
  /** per-call ns of each pair, in pair order */
  baselineNs: number[];
  candidateNs: number[];
}

export type SamplerResult = { ok: true; shapes: ShapeSamples[] } | { ok: false; verdict: CheckVerdict };

const MAX_SETS = 4;

export function sampleShapes(spec: KernelSpec, base: KernelInstance, cand: KernelInstance, ref: KernelInstance, opts: SamplerOptions): SamplerResult {
  const now = opts.now ?? (() => performance.now());
  const rng = createRng(opts.seed);
  const shapes: ShapeSamples[] = [];
  const distribution = distributionNames(spec)[0];
  for (const [si, shape] of shapeCases(spec, 'bench').entries()) {
    const setBytes = bufferLayouts(spec, shape.env).reduce((n, b) => n + b.bytes, 0);
    const sets = Math.max(1, Math.min(MAX_SETS, Math.floor((opts.maxSetBytes ?? 64 << 20) / Math.max(1, setBytes))));
    if (!base.layout(spec, shape.env, sets) || !cand.layout(spec, shape.env, sets) || !ref.layout(spec, shape.env, 1))
      return { ok: false, verdict: { status: 'trap', message: 'bench shape does not fit in sandbox memory', shape: shape.name } };
    const inputSets = Array.from({ length: sets }, (_, s) => generateInputs(spec, shape.env, distribution, seedFor(opts.seed, 1000 + si, s)));
    const loadRotated = (inst: KernelInstance, rotation: number) => {
      for (let s = 0; s < sets; s++) for (const [name, data] of inputSets[(s + rotation) % sets]) inst.write(s, name, data);
    };

    // Warm-up: validate each variant's outputs for every input set with the tolerances, and remember them:
    // every later timed sample must reproduce them byte for byte.
    const golden = new Map<KernelInstance, Map<string, Uint8Array>[]>();
    const expectedSets = inputSets.map((inputs) => referenceOutputs(ref, spec, inputs));
    for (const [label, inst] of [['baseline', base], ['candidate', cand]] as const) {
      try {
        loadRotated(inst, 0);
        for (let s = 0; s < sets; s++) inst.poisonOutputs(s);
        inst.batch(1);
        inst.batch(1);
      } catch (e) {
        return { ok: false, verdict: thrownVerdict(e, { shape: shape.name, distribution, phase: 'timed' }, `${label}: `) };
      }
      const outs: Map<string, Uint8Array>[] = [];
      for (let s = 0; s < sets; s++) {
        const wrong = compareAll(spec, shape.env, (name) => inst.read(s, name), expectedSets[s], { shape: shape.name, distribution, phase: 'timed' });
        if (wrong) return { ok: false, verdict: label === 'candidate' ? wrong : { status: 'trap', message: `baseline fails its check on a bench shape`, shape: shape.name } };
        outs.push(new Map(inst.outputs().map((b) => [b.name, inst.read(s, b.name)])));
      }
      golden.set(inst, outs);
    }

    const timeBatch = (inst: KernelInstance, reps: number) => {
      for (let s = 0; s < sets; s++) inst.poisonOutputs(s);
      const t0 = now();
      inst.batch(reps);
      return now() - t0;
    };
    const single = Math.max(timeBatch(base, 1), timeBatch(cand, 1), 1e-3);
    const reps = Math.max(1, Math.round(opts.sampleMs / single));
    const calls = reps * sets;
    const baselineNs: number[] = [];
    const candidateNs: number[] = [];
    for (let p = 0; p < opts.pairs; p++) {
      const rotation = p % sets;
      const order = rng.next() < 0.5 ? [base, cand] : [cand, base];
      for (const inst of order) {
        loadRotated(inst, rotation);
        let ms: number;
        try {
          ms = timeBatch(inst, reps);
        } catch (e) {
          return { ok: false, verdict: thrownVerdict(e, { shape: shape.name, distribution, phase: 'timed' }) };
        }
        const stale = firstStale(inst, golden.get(inst)!, rotation, sets);
        if (stale && inst === cand)
          return { ok: false, verdict: { status: 'wrong', buffer: stale, index: -1, got: NaN, expected: NaN, nmse: NaN, reason: 'outputs of a timed call differ from the same call untimed (work skipped or state kept between calls)', shape: shape.name, distribution, phase: 'timed' } };
        (inst === base ? baselineNs : candidateNs).push((ms * 1e6) / calls);
      }
    }
    shapes.push({ shape: shape.name, env: { ...shape.env }, callsPerSample: calls, baselineNs, candidateNs });
  }
  return { ok: true, shapes };
}

function firstStale(inst: KernelInstance, golden: Map<string, Uint8Array>[], rotation: number, sets: number): string | null {
  for (let s = 0; s < sets; s++) {
    const expected = golden[(s + rotation) % sets];
    for (const [name, bytes] of expected) if (firstDifference(inst.view(s, name), bytes) >= 0) return name;
  }
  return null;
}
