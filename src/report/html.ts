// HTML report: one self-contained file (inline CSS and SVG, no script, no network, system fonts), light and
// dark by prefers-color-scheme.
import { failedRows, timedRows, type ReportModel } from './model.js';
import { costChart, esc, forestPlot, scatterPlot, sharedSpeedupDomain, timelineChart, type ForestRow } from './charts.js';
import { formatDurationMs, formatFixed, formatLoad, formatNs, formatPercent, formatRho, formatSpeedup, formatUsd } from '../format.js';
import { UNSTABLE_ADVICE } from '../measure/stability.js';
import { describeRegisterBound, REGISTER_BOUND_NOTE } from '../build/register-pressure.js';
import { renderTable } from './table.js';
import { upstreamLabel } from './upstream-label.js';
import { e2eNotes, e2eTable } from './e2e.js';

const STYLE = `
:root { color-scheme: light dark; --bg: #fff; --fg: #1d1f23; --muted: #5f6670; --line: #d9dce1; --band: #eceff3;
  --faster: #1a7f37; --slower: #cf222e; --same: #6e7781; --pending: #0969da; --accent: #0969da; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0f1115; --fg: #e6e8eb; --muted: #9aa3ad; --line: #30363d; --band: #1c2129;
    --faster: #3fb950; --slower: #f85149; --same: #8b949e; --pending: #58a6ff; --accent: #58a6ff; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 64px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; } h2 { font-size: 1.15rem; margin: 32px 0 8px; } h3 { font-size: 1rem; margin: 18px 0 4px; }
.meta, .note { color: var(--muted); margin: 4px 0; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); vertical-align: top; white-space: nowrap; }
td.wrap { white-space: normal; min-width: 9em; } .table { overflow-x: auto; }
th { color: var(--muted); font-weight: 600; white-space: normal; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.scatters { display: flex; flex-wrap: wrap; gap: 24px; } figure { margin: 8px 0; } figcaption { color: var(--muted); font-size: 13px; }
svg.chart { display: block; max-width: 100%; font-size: 12px; }
svg text { fill: var(--fg); } svg text.tick, svg text.axis { fill: var(--muted); font-size: 11px; }
svg .grid { stroke: var(--line); } svg .unity { stroke: var(--muted); stroke-dasharray: 3 3; } svg .band { fill: var(--band); }
svg .diagonal { stroke: var(--muted); stroke-dasharray: 2 4; }
svg .whisker { stroke-width: 2; } svg .ci-row .whisker { stroke: currentColor; } svg .ci-row .dot { fill: currentColor; }
svg .past-axis { fill: currentColor; } svg text.value { font-size: 11px; font-variant-numeric: tabular-nums; }
.headline { font-size: 1.1rem; margin: 10px 0; }
svg .ci-row .dot.emulated { fill: var(--bg); stroke: currentColor; stroke-width: 2; }
.faster, .kept { color: var(--faster); } .slower, .failed { color: var(--slower); } .no-change, .discarded { color: var(--same); } .pending { color: var(--pending); }
svg .experiment rect { fill: currentColor; } svg .point { fill: var(--accent); fill-opacity: .8; } svg .cost-bar rect { fill: var(--accent); }
.verdict { font-weight: 600; }
.warning { background: #fff4e5; border-left: 4px solid #e8a33d; padding: 6px 10px; }
.unstable { color: #b36b00; }
`;

function header(model: ReportModel): string {
  const { run } = model;
  const facts = [`status ${run.status}${run.reason ? ` (${run.reason})` : ''}`];
  if (run.startedAt) facts.push(`started ${run.startedAt}`);
  if (run.durationMs !== undefined) facts.push(`took ${formatDurationMs(run.durationMs)}`);
  const load = formatLoad(run.load);
  if (load) facts.push(load);
  const targets = model.targets.map((t) => `${t.name} (${t.arch}, ${t.toolchain})`).join('; ');
  return (
    `<header><h1>kbench ${esc(run.kind)} report</h1><p class="meta"><code>${esc(run.id)}</code> · ${esc(facts.join(' · '))}</p>` +
    (run.argv?.length ? `<p class="meta">Command: <code>kbench ${esc(run.argv.join(' '))}</code></p>` : '') +
    headline(model) +
    (targets ? `<p class="meta">Targets: ${esc(targets)}</p>` : '') +
    (run.stability.status === 'unstable' ? `<p class="warning"><strong>Unstable run.</strong> ${esc(run.stability.reasons.join('; '))}. ${esc(UNSTABLE_ADVICE)}</p>` : '') +
    '</header>'
  );
}

/** Who won, first: the best timed candidate with its CI, shape and target, and the verdicts counted. */
function headline(model: ReportModel): string {
  const rows = timedRows(model);
  const counts = new Map<string, number>();
  let best: { kernel: string; candidate: string; target: string; shape: ReportModel['results'][number]['shapes'][number] } | undefined;
  for (const r of rows)
    for (const s of r.shapes) {
      if (s.suspect || s.emulated) continue;
      counts.set(s.verdict, (counts.get(s.verdict) ?? 0) + 1);
      if (!best || s.speedup.estimate > best.shape.speedup.estimate) best = { kernel: r.kernel, candidate: r.candidate, target: r.target, shape: s };
    }
  const failed = failedRows(model).length;
  const tally = [...['faster', 'no-change', 'slower'].map((v) => `${counts.get(v) ?? 0} ${v}`), ...(failed ? [`${failed} failed`] : [])].join(' · ');
  const winner = best
    ? `Best: <strong>${esc(`${best.kernel}/${best.candidate}`)}</strong> <span class="verdict ${esc(best.shape.verdict)}">${esc(formatSpeedup(best.shape.speedup))}</span> vs baseline on ${esc(best.shape.shape)} (${esc(best.target)}, ${esc(best.shape.verdict)})`
    : 'No candidate was timed.';
  return `<p class="headline">${winner}<br><span class="meta">${esc(tally)} (timings per shape and target)</span></p>`;
}

/** Cells are HTML already (escaped by the caller); `wrap` columns may wrap (default the last). */
function table(header: string[], rows: string[][], numeric: number[] = [], wrap?: number[]): string {
  return renderTable('html', header, rows, { numeric, wrap });
}

function speedSection(model: ReportModel): string {
  const rows = timedRows(model);
  if (rows.length === 0) return '<section id="speedup"><h2>Speedup vs baseline</h2><p class="note">No candidate passed its check, so nothing was timed.</p></section>';
  const first = rows[0].shapes[0];
  const groups = new Map<string, ForestRow[]>();
  for (const row of rows)
    for (const shape of row.shapes) {
      const key = `${row.kernel} · ${shape.shape}`;
      groups.set(key, [...(groups.get(key) ?? []), { row, shape }]);
    }
  // Candidates stay together so each one's targets read as a block; one axis for every panel.
  const domain = sharedSpeedupDomain(rows.flatMap((r) => r.shapes.map((s) => s.speedup)));
  const figures = [...groups].map(([title, forest]) => {
    forest.sort((a, b) => a.row.candidate.localeCompare(b.row.candidate));
    return `<figure data-kernel-shape="${esc(title)}"><figcaption>${esc(title)}</figcaption>${forestPlot(title, forest, domain)}</figure>`;
  });
  const withLight = rows.some((r) => r.shapes.some((s) => s.lightShare !== undefined));
  const withUpstream = rows.some((r) => r.shapes.some((s) => s.vsUpstream));
  const upstreams = [...new Set(rows.flatMap((r) => (r.upstream ? [`${r.kernel}: ${upstreamLabel(r.upstream, r.shapes)}`] : [])))];
  const registerBound = rows.filter((r) => r.registerBound);
  const numeric = (withUpstream ? [4, 5, 7, 8, 9, 10, 11] : [4, 6, 7, 8, 9, 10]).slice(0, withLight ? undefined : -1);
  const detail = table(
    ['kernel', 'candidate', 'target', 'shape', `speedup [${formatPercent(first.speedup.level)} CI]`, ...(withUpstream ? [`vs upstream [${formatPercent(first.speedup.level)} CI]`] : []), 'verdict', 'baseline/call', 'candidate/call', 'GB/s', 'GFLOP/s', ...(withLight ? ['of light'] : [])],
    rows.flatMap((r) =>
      r.shapes.map((s) => [
        esc(r.kernel), esc(r.candidate), esc(r.target), esc(s.shape), esc(formatSpeedup(s.speedup)),
        ...(withUpstream ? [s.vsUpstream && r.candidate !== 'upstream' ? `${esc(formatSpeedup(s.vsUpstream))} <span class="verdict ${esc(s.vsUpstream.verdict)}">${esc(s.vsUpstream.verdict)}</span>` : ''] : []),
        `<span class="verdict ${esc(s.verdict)}">${esc(s.verdict)}</span>${s.emulated ? ' (emulated)' : ''}${s.suspect ? ` ⚠ ${esc(s.suspect)}` : ''}${r.stability.status === 'unstable' ? ` <span class="unstable" title="${esc(r.stability.reasons.join('; '))}">⚠ unstable</span>` : ''}${r.registerBound ? ` <span class="unstable" title="${esc(describeRegisterBound(r.registerBound))}">⚠ register-bound</span>` : ''}`,
        esc(formatNs(s.baselineMedianNs)), esc(formatNs(s.candidateMedianNs)), esc(formatFixed(s.gbps, 1)), esc(formatFixed(s.gflops, 2)),
        ...(withLight ? [s.lightShare === undefined ? '' : esc(formatPercent(s.lightShare))] : []),
      ]),
    ),
    numeric,
    [withUpstream ? 6 : 5], // the verdict, with any suspect or unstable note
  );
  return (
    '<section id="speedup"><h2>Speedup vs baseline</h2>' +
    `<p class="note">Median of paired baseline/candidate time ratios (&gt; 1× is faster) with its ${formatPercent(first.speedup.level)} bootstrap CI. ` +
    `The shaded band is the ±${formatPercent(first.noiseFloor)} noise floor: a verdict needs the whole whisker outside it. Hollow dots are emulated timings; ` +
    'every panel shares one axis, and an arrowhead marks a whisker that runs past it. ' +
    '<span class="verdict faster">faster</span> · <span class="verdict no-change">no-change</span> · <span class="verdict slower">slower</span></p>' +
    figures.join('') +
    `<h3>All timings</h3>${detail}` +
    (registerBound.length ? `<p class="note">${esc(REGISTER_BOUND_NOTE)} ${esc(registerBound.map((r) => `${r.candidate}: ${describeRegisterBound(r.registerBound!)}`).join(' · '))}</p>` : '') +
    (upstreams.length ? `<p class="note">"vs upstream": upstream time / candidate time in the same interleaved rounds (&gt; 1× is faster than ggml today). Upstream: ${esc(upstreams.join('; '))}.</p>` : '') +
    '</section>'
  );
}

function failureSection(model: ReportModel): string {
  const rows = failedRows(model);
  if (rows.length === 0) return '';
  return (
    '<section id="failures"><h2>Failures</h2>' +
    table(['kernel', 'candidate', 'target', 'status', 'reason'], rows.map((r) => [esc(r.kernel), esc(r.candidate), esc(r.target), `<span class="verdict failed">${esc(r.status)}</span>`, `<code>${esc(r.reason ?? '')}</code>`])) +
    '</section>'
  );
}

function correlationSection(model: ReportModel): string {
  if (model.correlations.length === 0) return '';
  const figures = model.correlations.map(
    (c) => `<figure>${scatterPlot(c)}<figcaption>${esc(c.target)} (${esc(c.arch)}): Spearman ρ = ${esc(formatRho(c.spearmanRho))} over ${c.points.length} points</figcaption></figure>`,
  );
  return (
    '<section id="correlation"><h2>WASM screen vs native</h2>' +
    '<p class="note">Each dot is one candidate and shape; on the dotted diagonal the WASM screen predicted the native speedup exactly. ρ is the rank correlation: does the screen order candidates like the host does?</p>' +
    `<div class="scatters">${figures.join('')}</div></section>`
  );
}

function agentSections(model: ReportModel): string {
  const agent = model.agent;
  if (!agent) return '';
  const experiments = agent.experiments.length
    ? timelineChart(agent.experiments, model.run.startedAt ?? agent.experiments[0].startedAt, model.run.endedAt) +
      table(
        ['#', 'hypothesis', 'candidate', 'outcome', 'reason'],
        agent.experiments.map((x, i) => [String(i + 1), esc(x.hypothesis ?? ''), esc(x.candidate ?? '–'), `<span class="verdict ${esc(x.outcome)}">${esc(x.outcome)}</span>`, esc(x.reason ?? '')]),
      )
    : '<p class="note">No experiments ran.</p>';
  const notes = [agent.stopReason ? `Stopped: ${agent.stopReason}` : '', agent.errors.length ? `Errors: ${agent.errors.length} (first: ${agent.errors[0]})` : '']
    .filter(Boolean)
    .map((n) => `<p class="note">${esc(n)}</p>`)
    .join('');
  const cost = agent.cost.byCategory.length
    ? costChart(agent.cost.byCategory) +
      table(['category', 'events', 'cost'], [...agent.cost.byCategory.map((c) => [esc(c.category), String(c.events), esc(formatUsd(c.costUsd))]), ['<b>total</b>', '', `<b>${esc(formatUsd(agent.cost.totalUsd))}</b>`]], [1, 2])
    : '<p class="note">No cost recorded.</p>';
  const estimated = agent.cost.estimatedRequests
    ? `<p class="note">${agent.cost.estimatedRequests} request(s) were never answered (a crash or the time limit) and are charged an upper-bound estimate: max_tokens of output plus the prompt's size as cache writes.</p>`
    : '';
  return `<section id="experiments"><h2>Experiments</h2>${experiments}${notes}</section>${lineageSection(agent)}<section id="cost"><h2>Cost</h2>${cost}${estimated}</section>`;
}

/** Each kept candidate was timed against the one before: the cumulative column is the product of the steps. */
function lineageSection(agent: NonNullable<ReportModel['agent']>): string {
  if (!agent.lineage.length) return '<section id="lineage"><h2>Lineage</h2><p class="note">Nothing was kept: the baseline is still the champion.</p></section>';
  const chain = ['baseline', ...agent.lineage.map((s) => s.candidate)].join(' → ');
  const rows = agent.lineage.flatMap((s, i) =>
    s.figures.map((f, j) => [
      String(i + 1),
      esc(`${s.previous ?? 'baseline'} → ${s.candidate}`),
      esc(f.target),
      esc(f.shape),
      esc(formatSpeedup(f.step)),
      f.cumulative ? esc(formatSpeedup(f.cumulative)) : '–',
      j === 0 ? esc(formatUsd(s.costUsd)) : '',
    ]),
  );
  return `<section id="lineage"><h2>Lineage</h2><p>${esc(chain)}</p>${table(['step', 'change', 'target', 'shape', 'this step', 'cumulative over the baseline', 'step cost'], rows, [0, 6])}</section>`;
}

function e2eSection(model: ReportModel): string {
  if (!model.e2e.length) return '';
  const parts = model.e2e.map((r) => {
    const notes = `<ul>${e2eNotes(r).map((line) => `<li>${esc(line)}</li>`).join('')}</ul>`;
    return `<h3>${esc(r.kernel)}/${esc(r.candidate)}</h3>${e2eTable(r, 'html')}${notes}`;
  });
  const intro = '<p class="note">llama-bench tokens/s of the unmodified upstream (reference) and of the candidate grafted into ggml, alternating; ratio &gt; 1: the graft is faster. The op share is 1 − t(op made free) / t(reference); the prediction is Amdahl&#39;s law from it and the op-level speedup vs upstream (≠: the intervals disagree).</p>';
  return `<section id="e2e"><h2>End to end</h2>${intro}${parts.join('')}</section>`;
}

export function renderHtml(model: ReportModel): string {
  // a run with only end-to-end measures has no op-level speedups: their sections would only say nothing was timed
  const opLevel = model.results.length > 0 || model.e2e.length === 0 ? `${speedSection(model)}${failureSection(model)}${correlationSection(model)}` : '';
  const other = Object.entries(model.otherEvents);
  const footer = other.length ? `<p class="note">Other ledger events not shown: ${esc(other.map(([t, n]) => `${t} ×${n}`).join(', '))}.</p>` : '';
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>kbench ${esc(model.run.kind)} report ${esc(model.run.id)}</title><style>${STYLE}</style></head>`,
    `<body><main>${header(model)}${opLevel}${e2eSection(model)}${agentSections(model)}${footer}</main></body></html>`,
    '',
  ].join('\n');
}
