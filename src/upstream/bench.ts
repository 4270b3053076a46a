// Interleaved timing of the upstream variant (the real ggml op) against the baseline and candidates on this
// machine, in the upstream harness: every round times each variant once (a sample = fastest of 5 batches) in a
// fresh random order; a graph variant's time per op is its graph time / copies. Ratios are paired per round, with
// the same median-of-ratios bootstrap CI and verdict as every kbench speedup.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distributionNames, generateInputs, shapeCases } from '../check/inputs.js';
import { planArgs } from '../remote/bundle.js';
import { bootstrapMedianCI, median, pairedRatios, speedVerdict } from '../measure/stats.js';
import type { Interval, SpeedVerdict } from '../measure/types.js';
import type { Kernel } from '../spec/suite.js';
import { UsageError } from '../errors.js';
import { buildGgml, buildGgmlWasm, type GgmlBuild } from './build.js';
import { buildHarness, runHarness, upstreamAdapterPath, type HarnessEvent, type HarnessTarget } from './harness.js';
import { resolveUpstream, type UpstreamSource } from './source.js';

export interface VsUpstream extends Interval {
  /** upstream time / variant time per round: > 1 means the variant is faster than ggml */
  verdict: SpeedVerdict;
}

export interface UpstreamTiming {
  shape: string;
  nth: number;
  rounds: number;
  /** ops per graph call asked for (a graph variant runs fewer where that many would outlast a batch) */
  copies: number;
  /**
   * per variant, per harness process: ops per call and calls per batch. Every variant's batch lasts about the
   * minimum batch time, so all are equally exposed to preemption by other load.
   */
  batches: Record<string, { copies: number; reps: number }[]>;
  /** median ns per op of each variant */
  medianNs: Record<string, number>;
  /** every variant but upstream: its speed against upstream */
  vsUpstream: Record<string, VsUpstream>;
  /** every candidate: its speed against the baseline, from the same rounds */
  vsBaseline: Record<string, VsUpstream>;
  samples: Record<string, number[]>;
}

export interface UpstreamBenchReport {
  kernel: string;
  upstream: { origin: string; tag: string; commit: string; flags: string; how: string; call: string };
  timings: UpstreamTiming[];
}

export interface UpstreamBenchOptions {
  upstream?: string | boolean;
  /** candidate names to time (default: all of the kernel's) */
  candidates?: string[];
  /** bench shape names (default: all) */
  shapes?: string[];
  rounds?: number;
  /**
   * fresh harness processes the rounds are split over (default 3): code and data placement change with each,
   * and the CI resamples processes first, so one process's luck is not the verdict
   */
  processes?: number;
  /** ops per graph call of a graph adapter */
  copies?: number;
  minBatchMs?: number;
  seed?: number;
  noiseFloor?: number;
  log?: (line: string) => void;
  build?: GgmlBuild;
  source?: UpstreamSource;
  /** native (default) or wasm: ggml, reference, baseline and candidates as wasm32 SIMD128 under Node */
  target?: HarnessTarget;
}

function compareTo(reference: number[], variant: number[], seed: number, noiseFloor: number, groupSizes?: number[]): VsUpstream {
  const ci = bootstrapMedianCI(pairedRatios(reference, variant), { seed, groupSizes });
  return { ...ci, verdict: speedVerdict(ci, noiseFloor) };
}

/** Times upstream, the baseline and candidates on the kernel's bench shapes, 1 thread, on this machine. */
export async function benchUpstream(kernel: Kernel, opts: UpstreamBenchOptions = {}): Promise<UpstreamBenchReport> {
  const log = opts.log ?? (() => {});
  const spec = kernel.spec;
  const adapter = upstreamAdapterPath(kernel);
  if (!adapter) throw new UsageError(`${kernel.name} has no upstream adapter (kernel.json "upstream")`);
  const candidates = kernel.candidates.filter((c) => !opts.candidates || opts.candidates.includes(c.name));
  const source = opts.source ?? (await resolveUpstream(opts.upstream, { log }));
  const build = opts.build ?? (opts.target === 'wasm' ? await buildGgmlWasm(source, { log }) : await buildGgml(source, { log }));
  const rounds = opts.rounds ?? 30;
  const processes = Math.max(1, Math.min(opts.processes ?? 3, rounds));
  const copies = opts.copies ?? 16;
  const seed = opts.seed ?? 1;
  const noiseFloor = opts.noiseFloor ?? 0.02;
  const work = mkdtempSync(join(tmpdir(), `kbench-upbench-${kernel.name}-`));
  try {
    const harness = await buildHarness(kernel, build, join(work, 'build'), { upstream: adapter, candidates, target: opts.target });
    const shapes = shapeCases(spec, 'bench').filter((s) => !opts.shapes || opts.shapes.includes(s.name));
    const plan: string[] = [];
    shapes.forEach((shape, id) => {
      const dir = join(work, 'in', String(id));
      mkdirSync(dir, { recursive: true });
      for (const [name, bytes] of generateInputs(spec, shape.env, distributionNames(spec)[0], seed + 7919 * (id + 1))) writeFileSync(join(dir, `${name}.bin`), bytes);
      plan.push(`time ${id} 1 ${Math.ceil(rounds / processes)} ${Math.round((opts.minBatchMs ?? 0.5) * 1e6)} ${seed + id} ${planArgs(spec, shape)}`);
    });
    writeFileSync(join(work, 'plan.txt'), plan.join('\n') + '\n');
    log(`time ${harness.variants.map((v) => v.name).join(', ')} on ${shapes.length} shapes × ${rounds} rounds in ${processes} processes`);
    const events: HarnessEvent[] = [];
    const groups: Map<number, number[]> = new Map();
    for (let p = 0; p < processes; p++) {
      const got = await runHarness(harness, ['time', join(work, 'plan.txt'), join(work, 'in'), String(copies)]);
      // rounds per shape in this process: the bootstrap's groups (events stay in process order)
      shapes.forEach((_, id) => groups.set(id, [...(groups.get(id) ?? []), got.filter((e) => e.event === 'round' && e.id === id).length]));
      events.push(...got);
    }
    const timings = shapes.map((shape, id): UpstreamTiming => {
      const rs = events.filter((e) => e.event === 'round' && e.id === id).map((e) => e.ns as Record<string, number>);
      const samples: Record<string, number[]> = {};
      const batches: UpstreamTiming['batches'] = {};
      for (const v of harness.variants) {
        samples[v.name] = rs.map((r) => r[v.name]);
        batches[v.name] = events.filter((e) => e.event === 'batch' && e.id === id && e.variant === v.name).map((e) => ({ copies: e.copies as number, reps: e.reps as number }));
      }
      const medianNs: Record<string, number> = {};
      const vsUpstream: Record<string, VsUpstream> = {};
      const vsBaseline: Record<string, VsUpstream> = {};
      for (const v of harness.variants) {
        medianNs[v.name] = median(samples[v.name]);
        if (v.name === 'ref') continue;
        const groupSizes = groups.get(id)?.filter((n) => n > 0);
        if (v.name !== 'upstream') vsUpstream[v.name] = compareTo(samples.upstream, samples[v.name], seed + id, noiseFloor, groupSizes);
        if (v.name.startsWith('cand:')) vsBaseline[v.name] = compareTo(samples.base, samples[v.name], seed + id, noiseFloor, groupSizes);
      }
      return { shape: shape.name, nth: 1, rounds: rs.length, copies, batches, medianNs, vsUpstream, vsBaseline, samples };
    });
    return {
      kernel: kernel.name,
      upstream: { origin: build.origin, tag: source.tag, commit: source.commit, flags: build.flags, how: spec.upstream?.how ?? '', call: spec.upstream?.call ?? 'graph' },
      timings,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
