// Terminal rendering shared by `kbench run` and `kbench promote`.
import { describeVerdict } from '../../check/verdict.js';
import type { TargetResult } from '../../ledger/records.js';
import { upstreamLabel } from '../../report/upstream-label.js';
import { outcomeOf } from '../../remote/outcome.js';
import { formatNs, formatSpeedup, table, throughputNote, unstableNote } from '../format.js';
import type { RunReports } from '../../report/index.js';


export function renderNative(results: TargetResult[], stability: RunReports['stability']): string {
  const withUpstream = results.some((r) => r.speed.some((s) => s.vsUpstream));
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
      ...(withUpstream ? [s.vsUpstream && r.candidate !== 'upstream' ? `${formatSpeedup(s.vsUpstream)} ${s.vsUpstream.verdict}` : '—'] : []),
      formatNs(s.candidateMedianNs),
      throughputNote(s) + unstableNote(stability, r),
    ]);
  });
  const header = ['kernel', 'candidate', 'host', 'shape', 'verdict', 'speedup [95% CI]', ...(withUpstream ? ['vs upstream [95% CI]'] : []), 'time/call', 'notes'];
  const upstreams = [...new Set(results.flatMap((r) => (r.upstream ? [upstreamLabel(r.upstream, r.speed)] : [])))];
  return table(header, rows) + upstreams.map((u) => `upstream: ${u}\n`).join('');
}
