// Terminal rendering shared by `kbench run` and `kbench promote`.
import { describeVerdict } from '../../check/verdict.js';
import type { TargetResult } from '../../ledger/records.js';
import { outcomeOf } from '../../remote/outcome.js';
import { formatNs, formatSpeedup, table, throughputNote } from '../format.js';

export function renderNative(results: TargetResult[]): string {
  const rows = results.flatMap((r) => {
    const outcome = outcomeOf(r);
    if (r.hostFailure) return [[r.kernel, r.candidate, r.target, '', outcome, '', '', r.hostFailure.slice(0, 110)]];
    if (r.check.status !== 'pass') return [[r.kernel, r.candidate, r.target, '', outcome, '', '', describeVerdict(r.check).slice(0, 110)]];
    if (!r.speed.length) return [[r.kernel, r.candidate, r.target, '', outcome, '', '', 'checked, not timed']];
    return r.speed.map((s) => [
      r.kernel,
      r.candidate,
      r.target,
      s.shape,
      s.emulated ? 'emulated' : s.suspect ? 'suspect' : s.verdict,
      formatSpeedup(s.speedup),
      formatNs(s.candidateMedianNs),
      throughputNote(s),
    ]);
  });
  return table(['kernel', 'candidate', 'host', 'shape', 'verdict', 'speedup [95% CI]', 'time/call', 'notes'], rows);
}
