// The one number formatter: the terminal, the Markdown and HTML reports and the model's feedback all print a time,
// a speedup or a cost through these, so the same figure reads the same everywhere.
import type { Interval } from './measure/types.js';

/** 1234.5 → "1.23 µs": three significant digits in the largest unit that keeps the value ≥ 1. */
export function formatNs(ns: number): string {
  if (typeof ns !== 'number' || !Number.isFinite(ns)) return '–';
  const units: [number, string][] = [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs'], [1, 'ns']];
  const [scale, unit] = units.find(([s]) => Math.abs(ns) >= s) ?? [1, 'ns'];
  return `${(ns / scale).toPrecision(3)} ${unit}`;
}

/**
 * x.toFixed(digits), or '–' for what is not a finite number: a NaN or infinity, or the null it becomes in a saved
 * ledger (reports are rebuilt from JSON).
 */
export function formatFixed(x: number | null | undefined, digits: number): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '–';
}

export function formatRatio(x: number, digits = 2): string {
  return `${formatFixed(x, digits)}×`;
}

/** "2.10× [2.02, 2.18]" with the CI level left implicit (the table header names it); the model reads 3 digits. */
export function formatSpeedup(s: Interval, digits = 2): string {
  return `${formatRatio(s.estimate, digits)} [${formatFixed(s.lo, digits)}, ${formatFixed(s.hi, digits)}]`;
}

/** Cost to a hundredth of a cent, for itemized bills where small amounts must add up visibly. */
export function formatUsdPrecise(usd: number): string {
  return `$${usd.toFixed(4)}`;
}

export function formatUsd(usd: number): string {
  return usd < 0.01 && usd > 0 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatRho(rho: number | null): string {
  return rho === null ? 'n/a (< 3 points)' : rho.toFixed(2);
}

export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(0)}%`;
}

/** "load average 0.40 at the start, 1.85 at the end (2 CPUs)"; empty for ledgers without load snapshots. */
export function formatLoad(load?: { start?: { loadAvg1: number; cpus: number }; end?: { loadAvg1: number } }): string {
  if (!load?.start) return '';
  const end = load.end ? `, ${load.end.loadAvg1.toFixed(2)} at the end` : '';
  return `load average ${load.start.loadAvg1.toFixed(2)} at the start${end} (${load.start.cpus} CPUs)`;
}

const signedPercent = (ratio: number) => `${ratio >= 1 ? '+' : '−'}${(Math.abs(ratio - 1) * 100).toFixed(1)}%`;

/** A speed ratio as a gain with its interval in percentage points: 1.003 [0.989, 1.018] → "+0.3% [−1.1, +1.8]". */
export function formatGain(i: Interval): string {
  return `${signedPercent(i.estimate)} [${signedPercent(i.lo).slice(0, -1)}, ${signedPercent(i.hi).slice(0, -1)}]`;
}

/** The last `chars` of a failed command's stdout and of its stderr (where its error is), for an error message. */
export function outputTail(r: { stdout?: string; stderr?: string }, chars = 4000): string {
  const out = r.stdout?.trim() ?? '';
  return `${out ? `${out.slice(-chars)}\n` : ''}${(r.stderr ?? '').trim().slice(-chars)}`;
}
