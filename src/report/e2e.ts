// The end-to-end measure as a table and a few lines, one writer for the terminal (kbench e2e), the Markdown and the
// HTML report: per llama-bench test, both builds' tokens/s, the paired ratio with its CI and verdict, the op's share
// and Amdahl's prediction beside the measurement.
import type { E2eResult } from '../ledger/records.js';
import { esc } from './charts.js';
import { formatFixed, formatPercent, formatSpeedup } from '../format.js';
import { renderTable, type TableStyle } from './table.js';

/** "rms_norm/unroll_fused: logits agree (…)": the gate's verdict in one line. */
export function e2eLogitsLine(r: E2eResult): string {
  return `logits ${r.logits.status}: ${r.logits.reason}`;
}

/** One row per test × depth; empty when nothing was timed. */
export function e2eTable(r: E2eResult, style: TableStyle): string {
  const tests = r.timing?.tests ?? [];
  if (!tests.length) return '';
  const cell = style === 'html' ? esc : (s: string) => s;
  const level = formatPercent(tests[0].ratio.level);
  const rows = tests.map((t) => {
    const share = r.shares?.find((s) => s.label === t.label);
    const p = r.prediction?.find((x) => x.label === t.label);
    return [
      t.label,
      formatFixed(t.referenceTokensPerS, 1),
      formatFixed(t.graftTokensPerS, 1),
      formatSpeedup(t.ratio, 3),
      t.verdict,
      share ? `${formatFixed(share.share.estimate * 100, 1)}% [${formatFixed(share.share.lo * 100, 1)}, ${formatFixed(share.share.hi * 100, 1)}]` : '–',
      p ? `${formatSpeedup(p.predicted, 3)}${p.check.agrees ? '' : ' ≠'}` : '–',
    ].map(cell);
  });
  return renderTable(style, ['test', 'reference t/s', 'graft t/s', `ratio [${level} CI]`, 'verdict', 'op share', `predicted [${level} CI]`], rows, { numeric: [1, 2, 3, 5, 6], wrap: [] });
}

/** What the table does not say: the gate, the builds, the notes and each test's verdict and prediction in words. */
export function e2eNotes(r: E2eResult): string[] {
  const env = Object.entries(r.recipe.env).map(([k, v]) => `${k}=${v}`).join(' ');
  const model = r.model.generated
    ? `kbench's random llama (${r.model.params?.layers}×${r.model.params?.embd}, ${((r.model.parameters ?? 0) / 1e6).toFixed(1)} M parameters)`
    : `${r.model.path}${r.model.file ? ` (${r.model.file.architecture}${r.model.file.name ? `, ${r.model.file.name}` : ''})` : ''}`;
  const lines = [
    e2eLogitsLine(r),
    `graft: ${r.recipe.function} in ${r.recipe.file} of ${r.upstream.origin} ${r.upstream.commit.slice(0, 12)} (${r.upstream.flags}); flash attention ${r.recipe.flashAttention}${env ? `; both builds run with ${env}` : ''}`,
    `model: ${model}; ${r.bench.threads} thread(s), ${r.bench.rounds} rounds per build, seed ${r.bench.seed}`,
  ];
  if (!r.timing) lines.push('not timed: the logits did not agree');
  else if (r.timing.status === 'failed') lines.push(`timing failed: ${r.timing.reason}`);
  for (const t of r.timing?.tests ?? []) lines.push(`${t.label}: ${t.summary}`);
  for (const p of r.prediction ?? []) lines.push(`${p.label} vs Amdahl (op ${formatSpeedup(p.opSpeedup)} vs upstream at "${p.opShape}"): ${p.check.summary}`);
  if (r.opSpeedupRun) lines.push(`op-level speedups from run ${r.opSpeedupRun}`);
  if (r.shareNote) lines.push(`op share: ${r.shareNote}`);
  if (r.predictionNote) lines.push(`prediction: ${r.predictionNote}`);
  return lines;
}
