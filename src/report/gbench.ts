// Google Benchmark JSON (src/json_reporter.cc and src/statistics.cc in google/benchmark), so that its
// tools/compare.py can diff two kbench runs: one benchmark per kernel/candidate/shape/target, each interleaved
// pair one repetition, plus mean/median/stddev/cv aggregates computed from exactly those repetitions.
import { cv, mean, median, stddev } from '../measure/stats.js';
import { REPORT_SCHEMA, timedRows, type ReportModel, type ResultRow, type ShapeRow } from './model.js';

export interface GbenchContext {
  date: string;
  host_name: string;
  executable: string;
  num_cpus: number;
  mhz_per_cpu: number;
  cpu_scaling_enabled: boolean;
  caches: { type: string; level: number; size: number; num_sharing: number }[];
  load_avg: number[];
  library_version: string;
  library_build_type: 'release' | 'debug';
  json_schema_version: 1;
  kbench_report_schema: typeof REPORT_SCHEMA;
  kbench_run: string;
}

interface GbenchCommon {
  name: string;
  family_index: number;
  per_family_instance_index: number;
  run_name: string;
  repetitions: number;
  threads: number;
  iterations: number;
  real_time: number;
  cpu_time: number;
  time_unit: 'ns';
  label?: string;
}

export type GbenchEntry =
  /** an op timing carries bytes per second; an end-to-end llama-bench test carries tokens per second as items */
  | (GbenchCommon & { run_type: 'iteration'; repetition_index: number } & ({ bytes_per_second: number } | { items_per_second: number }))
  | (GbenchCommon & { run_type: 'aggregate'; aggregate_name: 'mean' | 'median' | 'stddev' | 'cv'; aggregate_unit: 'time' | 'percentage' });

export interface GbenchReport {
  context: GbenchContext;
  benchmarks: GbenchEntry[];
}

const AGGREGATES = [
  ['mean', mean, 'time'],
  ['median', median, 'time'],
  ['stddev', stddev, 'time'],
  ['cv', cv, 'percentage'],
] as const;

function context(model: ReportModel): GbenchContext {
  const machine = model.run.machine ?? {};
  const num = (key: string) => (typeof machine[key] === 'number' ? (machine[key] as number) : 0);
  return {
    date: model.run.startedAt ?? '',
    host_name: typeof machine.hostname === 'string' ? machine.hostname : 'unknown',
    executable: `kbench ${(model.run.argv ?? []).join(' ')}`.trim(),
    num_cpus: num('cpus'),
    mhz_per_cpu: num('mhz'),
    cpu_scaling_enabled: false,
    caches: [],
    load_avg: Array.isArray(machine.loadAvg) ? (machine.loadAvg as number[]) : [],
    library_version: 'kbench',
    library_build_type: 'release',
    json_schema_version: 1,
    kbench_report_schema: REPORT_SCHEMA,
    kbench_run: model.run.id,
  };
}

/** The timings of one benchmark: a candidate (or the pooled baseline) on one kernel, shape and target. */
export interface TimingSeries {
  runName: string;
  kernel: string;
  candidate: string;
  shape: string;
  target: string;
  timesNs: number[];
  iterations: number;
  bytesPerCall: number;
  label?: string;
  /** an end-to-end series: tokens per llama-bench test (the export's items_per_second) */
  tokens?: number;
  /** the candidate against the real ggml op in the same rounds (kbench run --upstream) */
  vsUpstream?: { estimate: number; lo: number; hi: number; verdict: string };
}

/**
 * The baseline is timed again beside every candidate; its samples on one kernel/shape/target are pooled into one
 * `<kernel>/baseline/<shape>/<target>` benchmark so that two runs' baselines line up in compare.py too.
 */
export function timingSeries(model: ReportModel): TimingSeries[] {
  const baselines = new Map<string, TimingSeries>();
  const series: TimingSeries[] = [];
  const bytesPerCall = (s: ShapeRow) => s.gbps * s.candidateMedianNs;
  const label = (s: ShapeRow) =>
    [s.emulated ? 'emulated' : '', s.suspect ? `suspect: ${s.suspect}` : '', s.vsUpstream ? `vs upstream ${s.vsUpstream.estimate.toFixed(2)}x [${s.vsUpstream.lo.toFixed(2)}, ${s.vsUpstream.hi.toFixed(2)}] ${s.vsUpstream.verdict}` : '']
      .filter(Boolean)
      .join('; ') || undefined;
  for (const r of timedRows(model))
    for (const s of r.shapes) {
      const where = { kernel: r.kernel, shape: s.shape, target: r.target };
      const key = benchmarkName({ ...where, candidate: 'baseline' }, s);
      const pooled = baselines.get(key);
      if (pooled) pooled.timesNs.push(...s.baselineNs);
      else {
        const base: TimingSeries = { runName: key, ...where, candidate: 'baseline', timesNs: [...s.baselineNs], iterations: s.callsPerSample, bytesPerCall: bytesPerCall(s), label: label({ ...s, vsUpstream: undefined }) };
        baselines.set(key, base);
        series.push(base);
      }
      series.push({ runName: benchmarkName(r, s), ...where, candidate: r.candidate, timesNs: s.candidateNs, iterations: s.callsPerSample, bytesPerCall: bytesPerCall(s), label: label(s), ...(s.vsUpstream && r.candidate !== 'upstream' ? { vsUpstream: s.vsUpstream } : {}) });
    }
  return series;
}

/**
 * The end-to-end timings: per llama-bench test the grafted build as `<kernel>/<candidate>/e2e <test>/<host>` and the
 * unmodified upstream as `<kernel>/upstream/e2e <test>/<host>` (pooled when several candidates ran, like baselines).
 */
export function e2eSeries(model: ReportModel): TimingSeries[] {
  const series = new Map<string, TimingSeries>();
  for (const r of model.e2e)
    for (const t of r.timing?.tests ?? []) {
      const shape = `e2e ${t.label}`;
      const where = { kernel: r.kernel, shape, target: r.host };
      const upstream = benchmarkName({ ...where, candidate: 'upstream' }, where);
      const pooled = series.get(upstream);
      if (pooled) pooled.timesNs.push(...t.referenceNs);
      else series.set(upstream, { runName: upstream, ...where, candidate: 'upstream', timesNs: [...t.referenceNs], iterations: 1, bytesPerCall: 0, tokens: t.tokens });
      const graft = benchmarkName({ ...where, candidate: r.candidate }, where);
      const label = `e2e ${t.ratio.estimate.toFixed(3)}x [${t.ratio.lo.toFixed(3)}, ${t.ratio.hi.toFixed(3)}] ${t.verdict} vs upstream`;
      series.set(graft, { runName: graft, ...where, candidate: r.candidate, timesNs: [...t.graftNs], iterations: 1, bytesPerCall: 0, tokens: t.tokens, label });
    }
  return [...series.values()];
}

/** e.g. "rms_norm/vec4/decode 1x4096/wasm" */
export function benchmarkName(r: Pick<ResultRow, 'kernel' | 'candidate' | 'target'>, s: { shape: string }): string {
  return `${r.kernel}/${r.candidate}/${s.shape}/${r.target}`;
}

export function buildGbench(model: ReportModel): GbenchReport {
  const benchmarks: GbenchEntry[] = [];
  [...timingSeries(model), ...e2eSeries(model)].forEach((s, family) => {
    const common = { family_index: family, per_family_instance_index: 0, run_name: s.runName, repetitions: s.timesNs.length, threads: 1 };
    const extra = s.label ? { label: s.label } : {};
    s.timesNs.forEach((ns, i) =>
      benchmarks.push({
        name: s.runName,
        ...common,
        run_type: 'iteration',
        repetition_index: i,
        iterations: s.iterations,
        real_time: ns,
        cpu_time: ns,
        time_unit: 'ns',
        ...(s.tokens ? { items_per_second: (s.tokens / ns) * 1e9 } : { bytes_per_second: (s.bytesPerCall / ns) * 1e9 }),
        ...extra,
      }),
    );
    // google/benchmark computes aggregates only when there is more than one repetition.
    if (s.timesNs.length < 2) return;
    for (const [aggregate, stat, unit] of AGGREGATES) {
      const value = stat(s.timesNs);
      benchmarks.push({
        name: `${s.runName}_${aggregate}`,
        ...common,
        run_type: 'aggregate',
        aggregate_name: aggregate,
        aggregate_unit: unit,
        iterations: s.iterations,
        real_time: value,
        cpu_time: value,
        time_unit: 'ns',
        ...extra,
      });
    }
  });
  return { context: context(model), benchmarks };
}

export function renderGbench(model: ReportModel): string {
  return JSON.stringify(buildGbench(model), null, 2) + '\n';
}
