// Terminal output helpers; tables and numbers come from report/table.ts and format.ts, as in the reports.
import { lightShare } from '../measure/speed-of-light.js';
import type { SpeedResult } from '../measure/types.js';
import type { TargetResult } from '../ledger/records.js';
import { formatDuration } from './progress.js';
import { formatFixed, formatSpeedup } from '../format.js';
import { renderTable } from '../report/table.js';
import type { RunReports } from '../report/index.js';
import { UNSTABLE_ADVICE } from '../measure/stability.js';

export function table(header: string[], rows: string[][]): string {
  return renderTable('text', header, rows);
}

export { formatNs, formatSpeedup } from '../format.js';

/** "12.5 GB/s, 57% of light", with what makes the timing not count (emulation, a suspect result). */
export function throughputNote(s: SpeedResult): string {
  const share = lightShare(s);
  const light = s.emulated ? ' (qemu: no verdict)' : share === undefined ? '' : `, ${Math.round(share * 100)}% of light`;
  return `${formatFixed(s.gbps, 1)} GB/s${light}${s.suspect ? `  SUSPECT: ${s.suspect}` : ''}`;
}

type RunStability = RunReports['stability'];

/** A table's notes for a result whose own evidence says unstable (its baseline drifted, its CI is wide). */
export function unstableNote(stability: RunStability, r: Pick<TargetResult, 'kernel' | 'candidate' | 'target'>): string {
  return stability.of(r)?.status === 'unstable' ? '  ⚠ unstable' : '';
}

/** The warning that ends a run's output when its evidence says unstable, with what to do (as hyperfine warns). */
export function unstableWarning(stability: RunStability): string {
  return stability.run.status === 'unstable' ? `\nwarning: unstable run: ${stability.run.reasons.join('; ')}.\n  ${UNSTABLE_ADVICE}\n` : '';
}

/** The --json form of results, each with its stability, and the run's. */
export function withStability(stability: RunStability, results: TargetResult[]) {
  return { stability: stability.run, results: results.map((r) => ({ ...r, stability: stability.of(r) })) };
}

/** A command's --json output: `schema: "kbench.<name>/1"` first (documented in docs/cli-schemas.md), then its fields. */
export function jsonOutput(name: string, body: object): string {
  return JSON.stringify({ schema: `kbench.${name}/1`, ...body }, null, 2) + '\n';
}

/**
 * The run in one line, for the end of screen, run and promote: what was judged, in how long, and who won, e.g.
 * "6 candidates in 41 s, 3 faster; best: rms_norm/unroll_fused 11.5× [11.4, 11.6] vs baseline on decode 1x4096".
 * Suspect and emulated timings never count as the best.
 */
export function summaryLine(results: TargetResult[], elapsedMs: number): string {
  const judged = results.filter((r) => r.candidate !== 'baseline');
  const faster = judged.filter((r) => r.speed.some((s) => s.verdict === 'faster' && !s.suspect && !s.emulated)).length;
  let best: { r: TargetResult; s: SpeedResult } | undefined;
  for (const r of judged) for (const s of r.speed) if (!s.suspect && !s.emulated && Number.isFinite(s.speedup.estimate) && (!best || s.speedup.estimate > best.s.speedup.estimate)) best = { r, s };
  const where = (r: TargetResult) => (r.target === 'wasm' ? '' : ` on host ${r.target}`);
  const winner = best
    ? `best: ${best.r.kernel}/${best.r.candidate} ${formatSpeedup(best.s.speedup)} vs baseline on ${best.s.shape}${where(best.r)} (${best.s.verdict})`
    : 'nothing timed';
  return `${judged.length} candidate${judged.length === 1 ? '' : 's'} in ${formatDuration(elapsedMs)}, ${faster} faster; ${winner}`;
}
