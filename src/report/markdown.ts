// Markdown report: the facts of a run as tables, ready to paste into a pull-request description.
import type { Comparison } from './compare.js';
import { renderTable } from './table.js';
import { agentCost, agentIntro, agentTitle } from './agent-markdown.js';
import { bestFileName } from '../agent/best-candidate.js';
import { failedRows, timedRows, type ReportModel } from './model.js';
import { formatDurationMs, formatFixed, formatLoad, formatNs, formatPercent, formatRho, formatSpeedup, formatUsd } from '../format.js';
import { UNSTABLE_ADVICE } from '../measure/stability.js';
import { describeRegisterBound, REGISTER_BOUND_NOTE } from '../build/register-pressure.js';
import { upstreamLabel } from './upstream-label.js';
import { e2eNotes, e2eTable } from './e2e.js';

function table(header: string[], rows: (string | number)[][]): string {
  return renderTable('markdown', header, rows);
}

function summary(model: ReportModel, title = `# kbench ${model.run.kind} report: ${model.run.id}`): string {
  const { run } = model;
  const facts = [`kind: ${run.kind}`, `status: ${run.status}${run.reason ? ` (${run.reason})` : ''}`];
  if (run.startedAt) facts.push(`started: ${run.startedAt}`);
  if (run.durationMs !== undefined) facts.push(`took: ${formatDurationMs(run.durationMs)}`);
  const load = formatLoad(run.load);
  if (load) facts.push(load);
  const lines = [title, '', facts.join(' · ')];
  if (run.stability.status === 'unstable') lines.push('', `**Warning: unstable run.** ${run.stability.reasons.join('; ')}. ${UNSTABLE_ADVICE}`);
  if (run.argv?.length) lines.push('', `Command: \`kbench ${run.argv.join(' ')}\``);
  if (model.targets.length)
    lines.push('', 'Targets: ' + model.targets.map((t) => `${t.name} (${t.arch}, ${t.toolchain})`).join('; '));
  return lines.join('\n');
}

function speedTable(model: ReportModel): string {
  // runs recorded before the speed of light was measured have no such column
  const withLight = timedRows(model).some((r) => r.shapes.some((s) => s.lightShare !== undefined));
  const withUpstream = timedRows(model).some((r) => r.shapes.some((s) => s.vsUpstream));
  const rows = timedRows(model).flatMap((r) =>
    r.shapes.map((s) => [
      r.kernel,
      r.candidate,
      r.target,
      s.shape,
      formatSpeedup(s.speedup),
      ...(withUpstream ? [s.vsUpstream && r.candidate !== 'upstream' ? `${formatSpeedup(s.vsUpstream)} ${s.vsUpstream.verdict}` : ''] : []),
      `${s.verdict}${s.emulated ? ' (emulated)' : ''}${s.suspect ? ` ⚠ ${s.suspect}` : ''}${r.stability.status === 'unstable' ? ' ⚠ unstable' : ''}${r.registerBound ? ' ⚠ register-bound' : ''}`,
      formatNs(s.baselineMedianNs),
      formatNs(s.candidateMedianNs),
      formatFixed(s.gbps, 1),
      formatFixed(s.gflops, 2),
      ...(withLight ? [s.lightShare === undefined ? '' : formatPercent(s.lightShare)] : []),
    ]),
  );
  if (rows.length === 0) return '## Speedup vs baseline\n\nNo candidate passed its check, so nothing was timed.';
  const unstable = timedRows(model).filter((r) => r.stability.status === 'unstable');
  const registerBound = timedRows(model).filter((r) => r.registerBound);
  const level = timedRows(model)[0].shapes[0].speedup.level;
  const floor = timedRows(model)[0].shapes[0].noiseFloor;
  return [
    '## Speedup vs baseline',
    '',
    `Median of paired baseline/candidate time ratios with its ${formatPercent(level)} bootstrap CI; > 1 is faster. ` +
      `A verdict needs the whole CI outside the ±${formatPercent(floor)} noise band.` +
      (withLight ? ' "Of light" is the share of the speed of light measured on the same build: streaming the buffers once, or the peak FMA rate.' : ''),
    '',
    table(['kernel', 'candidate', 'target', 'shape', `speedup [${formatPercent(level)} CI]`, ...(withUpstream ? [`vs upstream [${formatPercent(level)} CI]`] : []), 'verdict', 'baseline median', 'candidate median', 'GB/s', 'GFLOP/s', ...(withLight ? ['of light'] : [])], rows),
    ...(withUpstream ? ['', upstreamNote(model)] : []),
    ...(unstable.length ? ['', 'Unstable results (⚠): ' + unstable.map((r) => `${r.candidate} on ${r.target}: ${r.stability.reasons.join('; ')}`).join(' · ')] : []),
    ...(registerBound.length ? ['', `${REGISTER_BOUND_NOTE} ` + registerBound.map((r) => `${r.candidate}: ${describeRegisterBound(r.registerBound!)}`).join(' · ')] : []),
  ].join('\n');
}

/** Which upstream "vs upstream" is against, and the headline: the best candidate against it per kernel and shape. */
function upstreamNote(model: ReportModel): string {
  const infos = new Map<string, string>();
  for (const r of timedRows(model)) {
    const u = r.upstream;
    if (u) infos.set(`${r.kernel}`, `${r.kernel}: ${upstreamLabel(u, r.shapes)}`);
  }
  const best = new Map<string, { candidate: string; target: string; v: NonNullable<ShapeRowLike['vsUpstream']> }>();
  for (const r of timedRows(model)) {
    if (r.candidate === 'upstream') continue;
    for (const s of r.shapes) {
      if (!s.vsUpstream) continue;
      const key = `${r.kernel} ${s.shape} on ${r.target}`;
      if (!best.has(key) || best.get(key)!.v.estimate < s.vsUpstream.estimate) best.set(key, { candidate: r.candidate, target: r.target, v: s.vsUpstream });
    }
  }
  const lines = ['"vs upstream" is upstream time / candidate time in the same interleaved rounds (> 1: faster than ggml today). Upstream: ' + [...infos.values()].join('; ') + '.'];
  for (const [key, b] of best) lines.push(`- best vs upstream, ${key}: ${b.candidate} ${formatSpeedup(b.v)} (${b.v.verdict})`);
  return lines.join('\n');
}

type ShapeRowLike = ReportModel['results'][number]['shapes'][number];

function failureTable(model: ReportModel): string {
  const rows = failedRows(model).map((r) => [r.kernel, r.candidate, r.target, r.status, r.reason ?? '']);
  if (rows.length === 0) return '';
  return ['## Failures', '', table(['kernel', 'candidate', 'target', 'status', 'reason'], rows)].join('\n');
}

function correlationTable(model: ReportModel): string {
  if (model.correlations.length === 0) return '';
  const rows = model.correlations.map((c) => [c.target, c.arch, c.points.length, formatRho(c.spearmanRho)]);
  return [
    '## WASM screen vs native',
    '',
    'Spearman rank correlation between WASM and native speedups of the same candidate and shape.',
    '',
    table(['target', 'arch', 'points', 'Spearman ρ'], rows),
  ].join('\n');
}

function agentSections(model: ReportModel, withCost = true): string {
  const agent = model.agent;
  if (!agent) return '';
  const parts = ['## Experiments', ''];
  if (agent.experiments.length === 0) parts.push('No experiments ran.');
  else
    parts.push(
      table(
        ['#', 'started', 'hypothesis', 'candidate', 'outcome', 'reason'],
        agent.experiments.map((x, i) => [i + 1, x.startedAt, x.hypothesis ?? '', x.candidate ?? '–', x.outcome, x.reason ?? '']),
      ),
    );
  if (agent.stopReason) parts.push('', `Stopped: ${agent.stopReason}`);
  if (agent.errors.length) parts.push('', `Errors: ${agent.errors.length} (first: ${agent.errors[0]})`);
  if (!withCost) return parts.join('\n');
  parts.push('', '## Cost', '');
  const rows = agent.cost.byCategory.map((c) => [c.category, c.events, formatUsd(c.costUsd)]);
  parts.push(table(['category', 'events', 'cost'], [...rows, ['**total**', '', `**${formatUsd(agent.cost.totalUsd)}**`]]));
  return parts.join('\n');
}

function otherEvents(model: ReportModel): string {
  const entries = Object.entries(model.otherEvents);
  if (entries.length === 0) return '';
  return `Other ledger events not shown: ${entries.map(([type, n]) => `${type} ×${n}`).join(', ')}.`;
}

/** The end-to-end measures: per candidate, its table and what the table does not say. */
function e2eSection(model: ReportModel): string {
  if (!model.e2e.length) return '';
  const parts = ['## End to end', '', 'llama-bench tokens/s of the unmodified upstream (reference) and of the candidate grafted into ggml, alternating; ratio > 1: the graft is faster. The op share is 1 − t(op made free) / t(reference); the prediction is Amdahl\'s law from it and the op-level speedup vs upstream (≠: the intervals disagree).'];
  for (const r of model.e2e) {
    parts.push('', `### ${r.kernel}/${r.candidate}`, '');
    const t = e2eTable(r, 'markdown');
    if (t) parts.push(t, '');
    parts.push(...e2eNotes(r).map((line) => `- ${line}`));
  }
  return parts.join('\n');
}

/** A run with only end-to-end measures has no op-level speedups: their sections would only say nothing was timed. */
function opLevel(model: ReportModel): boolean {
  return model.results.length > 0 || model.e2e.length === 0;
}

export function renderMarkdown(model: ReportModel): string {
  const s = model.agentState;
  const sections = s
    ? // an agent run: what it was asked and found first, then the measurements, the timeline and what it cost
      [summary(model, agentTitle(s)), agentIntro(s, { bestFile: s.champions.length ? bestFileName(s.config?.kernel ?? '?') : undefined }), speedTable(model), failureTable(model), correlationTable(model), e2eSection(model), agentSections(model, false), agentCost(s), otherEvents(model)]
    : [summary(model), ...(opLevel(model) ? [speedTable(model), failureTable(model), correlationTable(model)] : []), e2eSection(model), agentSections(model), otherEvents(model)];
  return sections.filter(Boolean).join('\n\n') + '\n';
}

/** `kbench compare`: one row per benchmark both runs timed. */
const UNMATCHED_SHOWN = 10;

export function renderComparisonMarkdown(c: Comparison): string {
  const withUpstream = c.rows.some((r) => r.vsUpstreamA || r.vsUpstreamB);
  const up = (v: Comparison['rows'][number]['vsUpstreamA']) => (v ? `${v.estimate.toFixed(2)}×` : '–');
  const rows = c.rows.map((r) => [
    r.kernel,
    r.candidate,
    r.shape,
    r.target,
    formatNs(r.medianNsA),
    formatNs(r.medianNsB),
    formatSpeedup(r.speedup),
    r.pValue < 0.001 ? '< 0.001' : r.pValue.toFixed(3),
    r.verdict,
    ...(withUpstream ? [`${up(r.vsUpstreamA)} → ${up(r.vsUpstreamB)}`] : []),
  ]);
  const level = formatPercent(c.rows[0]?.speedup.level ?? 0.95);
  const parts = [
    `# kbench compare: ${c.runA} → ${c.runB}`,
    '',
    `Speedup of B over A = median time A / median time B with a ${level} bootstrap CI; p from a two-sided Mann–Whitney U test; ` +
      `a verdict needs the whole CI outside the ±${formatPercent(c.noiseFloor)} noise band.`,
    '',
    rows.length
      ? table(['kernel', 'candidate', 'shape', 'target', 'median A', 'median B', `B vs A [${level} CI]`, 'p', 'verdict', ...(withUpstream ? ['vs upstream A → B'] : [])], rows)
      : 'The runs share no timed benchmark.',
  ];
  const unstable = c.rows.filter((r) => r.candidate === 'baseline' && r.unstableReason);
  for (const r of unstable) parts.push('', `Warning: ${r.kernel} on ${r.shape}, ${r.target}: ${r.unstableReason}; its rows are marked unstable, not a change.`);
  // one benchmark a line, at most UNMATCHED_SHOWN of them: a long list must not become one 4 kB line
  const unmatched = (run: string, names: string[]) =>
    names.length
      ? ['', `Only in ${run} (${names.length}):`, ...names.slice(0, UNMATCHED_SHOWN).map((n) => `- ${n}`), ...(names.length > UNMATCHED_SHOWN ? [`- … and ${names.length - UNMATCHED_SHOWN} more (--json lists them all)`] : [])]
      : [];
  parts.push(...unmatched(c.runA, c.onlyInA), ...unmatched(c.runB, c.onlyInB));
  return parts.join('\n') + '\n';
}
