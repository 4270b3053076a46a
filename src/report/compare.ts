// Two runs side by side, benchmark by benchmark (the same names as the Google Benchmark export): the ratio of
// median times with a bootstrap CI, and the Mann–Whitney U p-value google/benchmark's compare.py reports.
import { bootstrapRatioOfMediansCI, mannWhitneyU, median, speedVerdict } from '../measure/stats.js';
import type { Interval, SpeedVerdict } from '../measure/types.js';
import { timingSeries } from './gbench.js';
import type { ReportModel } from './model.js';

export const COMPARE_SCHEMA = 'kbench.compare/1';

export interface ComparisonRow {
  /** kernel/candidate/shape/target; candidate "baseline" is the baseline pooled over the run */
  name: string;
  kernel: string;
  candidate: string;
  shape: string;
  target: string;
  medianNsA: number;
  medianNsB: number;
  repetitionsA: number;
  repetitionsB: number;
  /** median A / median B: > 1 means run B is faster */
  speedup: Interval;
  /** two-sided Mann–Whitney U test of A's times against B's */
  pValue: number;
  /** `unstable` when the baseline itself moved between the runs on this kernel, shape and target */
  verdict: SpeedVerdict | 'unstable';
  /** why the row cannot be read as a change: the baseline's own move across the runs */
  unstableReason?: string;
  /** the candidate against upstream ggml within each run (kbench run --upstream), when measured */
  vsUpstreamA?: { estimate: number; lo: number; hi: number; verdict: string };
  vsUpstreamB?: { estimate: number; lo: number; hi: number; verdict: string };
}

export interface Comparison {
  schema: typeof COMPARE_SCHEMA;
  runA: string;
  runB: string;
  noiseFloor: number;
  rows: ComparisonRow[];
  /** benchmarks timed in only one of the runs */
  onlyInA: string[];
  onlyInB: string[];
}

export interface CompareOptions {
  noiseFloor?: number;
  level?: number;
  resamples?: number;
  seed?: number;
}

export function compareRuns(a: ReportModel, b: ReportModel, options: CompareOptions = {}): Comparison {
  const { noiseFloor = 0.02, level = 0.95, resamples = 2000, seed = 1 } = options;
  const seriesA = new Map(timingSeries(a).map((s) => [s.runName, s]));
  const seriesB = new Map(timingSeries(b).map((s) => [s.runName, s]));
  const rows: ComparisonRow[] = [];
  for (const [name, sa] of seriesA) {
    const sb = seriesB.get(name);
    if (!sb || sa.timesNs.length === 0 || sb.timesNs.length === 0) continue;
    // the runs are not paired, so each side is resampled on its own
    const speedup = bootstrapRatioOfMediansCI(sa.timesNs, sb.timesNs, { level, resamples, seed });
    rows.push({
      name,
      kernel: sa.kernel,
      candidate: sa.candidate,
      shape: sa.shape,
      target: sa.target,
      medianNsA: median(sa.timesNs),
      medianNsB: median(sb.timesNs),
      repetitionsA: sa.timesNs.length,
      repetitionsB: sb.timesNs.length,
      speedup,
      pValue: mannWhitneyU(sa.timesNs, sb.timesNs).p,
      verdict: speedVerdict(speedup, noiseFloor),
      ...(sa.vsUpstream ? { vsUpstreamA: sa.vsUpstream } : {}),
      ...(sb.vsUpstream ? { vsUpstreamB: sb.vsUpstream } : {}),
    });
  }
  markBaselineDrift(rows);
  return {
    schema: COMPARE_SCHEMA,
    runA: a.run.id,
    runB: b.run.id,
    noiseFloor,
    rows,
    onlyInA: [...seriesA.keys()].filter((n) => !seriesB.has(n)),
    onlyInB: [...seriesB.keys()].filter((n) => !seriesA.has(n)),
  };
}

/**
 * The baseline is the same code in both runs, so its own comparison is an A/A test across sessions: when it does not
 * come out no-change, the machine or the session moved (load, frequency, code placement), and every row of that
 * kernel, shape and target would show the move as a change. Those rows are marked unstable instead.
 */
function markBaselineDrift(rows: ComparisonRow[]): void {
  const where = (r: ComparisonRow) => `${r.kernel}\u0000${r.shape}\u0000${r.target}`;
  const drifted = new Map(rows.filter((r) => r.candidate === 'baseline' && r.verdict !== 'no-change').map((r) => [where(r), r]));
  for (const r of rows) {
    const base = drifted.get(where(r));
    if (!base) continue;
    const { estimate, lo, hi } = base.speedup;
    r.unstableReason = `the baseline itself came out ${estimate.toFixed(2)}× [${lo.toFixed(2)}, ${hi.toFixed(2)}] between the runs (an A/A comparison): re-run both on a quiet machine, or compare each run's speedups over its own baseline`;
    r.verdict = 'unstable';
  }
}
