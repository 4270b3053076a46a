// The sections only an agent run has in its Markdown report (brief, hypotheses, lineage, API and host cost), folded
// from the agent's events by the agent's own fold (agent/state.ts), so a resumed or crashed run reports the same way.
import type { TargetResult } from '../ledger/records.js';
import { summarizeResult } from '../agent/decision.js';
import { formatSpeedup, formatUsdPrecise } from '../format.js';
import { renderTable } from './table.js';
import { measuredFigures } from '../agent/memory.js';
import { candidatesOf, type RunState } from '../agent/state.js';

const usd = formatUsdPrecise;

/** What an experiment cost: its conversation's requests and its candidates' host time. */
function experimentCost(s: RunState, hypothesis: string): { apiUsd: number; hostsUsd: number } {
  const hostsUsd = candidatesOf(s, hypothesis).reduce((a, c) => a + (s.candidateHostUsd.get(c.event.candidate) ?? 0), 0);
  return { apiUsd: s.conversationUsd.get(`experiment-${hypothesis}`) ?? 0, hostsUsd };
}

/** Each champion change as a step, with per-shape step and cumulative speedups, and what the step cost. */
function lineageSection(s: RunState): string[] {
  const out = ['## Lineage', ''];
  if (!s.champions.length) return [...out, 'Nothing was kept: the baseline is still the champion.', ''];
  out.push(['baseline', ...s.champions.map((c) => c.candidate)].join(' → '), '');
  out.push(
    'Each step is timed against the champion it replaces. The cumulative speedup over the baseline is the product of the steps, its bounds the products of their bounds (for k steps of 95% intervals it covers at least 1 − k × 5%).',
    '',
  );
  s.champions.forEach((c, i) => {
    const h = s.hypotheses.find((x) => x.id === c.hypothesis);
    const cost = experimentCost(s, c.hypothesis);
    out.push(
      `### Step ${i + 1}: ${c.previous ?? 'baseline'} → ${c.candidate} (${c.hypothesis}: ${h?.title ?? '?'}), ${c.basis === 'native' ? 'native verdict' : 'WASM verdict'}`,
      '',
      `Cost of the experiment: ${usd(cost.apiUsd + cost.hostsUsd)} (API ${usd(cost.apiUsd)}, hosts ${usd(cost.hostsUsd)}).`,
      '',
      renderTable(
        'markdown',
        ['target', 'shape', 'this step (95% CI)', 'cumulative over the baseline', 'ns/call', '% of light'],
        c.figures.map((f) => [
          f.target,
          f.shape,
          formatSpeedup(f.step, 3),
          f.cumulative ? `${formatSpeedup(f.cumulative, 3)} (${Math.round(f.cumulative.level * 100)}%)` : '–',
          f.medianNs.toFixed(0),
          f.lightShare === undefined ? '–' : `${Math.round(f.lightShare * 100)}%`,
        ]),
      ),
      '',
    );
  });
  return out;
}

function nativeCell(results: TargetResult[]): string {
  return results.map((r) => `${r.target}: ${summarizeResult(r)}`).join('<br>') || '';
}

/** The agent's title line. */
export function agentTitle(s: RunState): string {
  return `# kbench agent: ${s.config?.kernel ?? '?'} (run ${s.id})`;
}

/** What the run was asked and what it found: settings, brief, hypotheses with their verdicts, the lineage. */
export function agentIntro(s: RunState, opts: { bestFile?: string }): string {
  const cfg = s.config;
  const kernel = cfg?.kernel ?? '?';
  const stopReason = s.sessionStop ?? null;
  const out: string[] = [];
  out.push(`- model: ${cfg?.model ?? '?'}; hosts: ${cfg?.hosts.length ? cfg.hosts.join(', ') : 'none (verdicts are from the WASM screen only)'}`);
  if (cfg) out.push(`- limits: $${cfg.limits.budgetUsd} budget, ${cfg.limits.maxExperiments} experiments, ${cfg.limits.maxMinutes} min; up to ${cfg.maxRevisions} revisions per hypothesis`);
  out.push(`- sessions: ${s.sessions} (${s.sessions > 1 ? 'resumed' : 'one run'})`);
  out.push(`- stopped: ${stopReason ?? 'all hypotheses tried'}`);
  out.push(`- experiments finished: ${s.verdicts.size} of ${s.hypotheses.length} hypotheses; kept: ${s.champions.length}`);
  out.push(`- cost: ${usd(s.apiUsd + s.hostsUsd)} (API ${usd(s.apiUsd)}, hosts ${usd(s.hostsUsd)})`, '');

  out.push('## Research brief', '', s.research?.brief.trim() ?? '(no brief was recorded)', '');
  if (s.research?.sources.length) out.push('Sources:', ...s.research.sources.map((x) => `- ${x}`), '');

  out.push('## Hypotheses', '');
  if (!s.hypotheses.length) out.push('(none recorded)', '');
  for (const h of s.hypotheses) {
    const v = s.verdicts.get(h.id);
    const status = v ? `**${v.decision}** (${v.basis === 'native' ? 'native verdict' : v.basis === 'wasm' ? 'WASM verdict' : v.basis})` : 'not finished';
    out.push(`### ${h.rank}. ${h.id}: ${h.title} — ${status}`, '');
    out.push(`- rationale: ${h.rationale}`, `- expected: ${h.expectedEffect} (targets ${h.targetShape})`);
    if (h.sources.length) out.push(`- sources: ${h.sources.join(', ')}`);
    if (v) out.push(`- verdict: ${v.reason}${v.speedup ? ` (geometric-mean speedup ${v.speedup.toFixed(3)}× over ${v.reference ?? 'the baseline'})` : ''}`);
    const cands = candidatesOf(s, h.id);
    if (cands.length) {
      const rows = cands.map((c) => [c.event.candidate, c.wasm ? summarizeResult(c.wasm) : 'not screened', nativeCell(c.native)]);
      out.push('', renderTable('markdown', ['candidate', 'WASM screen', 'native'], rows));
    }
    out.push('');
  }

  out.push(...lineageSection(s));
  if (s.baselines.size) out.push('### Baseline and final champion (time per call, share of the speed of light)', '', measuredFigures(s), '');
  if (opts.bestFile) out.push(`Best candidate: \`${opts.bestFile}\`, the final champion (copy it into kernels/${kernel}/candidates/).`, '');
  return out.join('\n').trimEnd();
}

/** API tokens and host time with their prices, and the errors that ended a session. */
export function agentCost(s: RunState): string {
  const out: string[] = [];
  const a = s.api;
  const estimated = a.estimated ? ` (${a.estimated} unanswered, charged an upper-bound estimate)` : '';
  const rows = [
    ['API input', `${a.tokens.input} tokens`, usd(a.breakdown.inputUsd)],
    ['API output', `${a.tokens.output} tokens`, usd(a.breakdown.outputUsd)],
    ['API cache writes', `${a.tokens.cacheWrite} tokens`, usd(a.breakdown.cacheWriteUsd)],
    ['API cache reads', `${a.tokens.cacheRead} tokens`, usd(a.breakdown.cacheReadUsd)],
    ['web searches', a.webSearches, usd(a.breakdown.webSearchUsd)],
    ['**API total**', `${a.requests} requests${estimated}`, usd(s.apiUsd)],
    ...[...s.hostTime].map(([host, t]) => [`host ${host}`, `${(t.durationMs / 1000).toFixed(1)} s`, usd(t.costUsd)]),
    ['**hosts total**', '', usd(s.hostsUsd)],
    ['**total**', '', usd(s.apiUsd + s.hostsUsd)],
  ];
  out.push('## Cost', '', renderTable('markdown', ['item', 'amount', 'USD'], rows), '');
  if (a.estimated)
    out.push(
      `${a.estimated} request(s) were in flight when the run was stopped or killed and never answered: each is counted as max_tokens of output plus its prompt's size / 3 in tokens at the cache-write price, more than it can have cost.`,
      '',
    );
  if (s.errors.length) out.push('## Errors', '', ...s.errors.map((e) => `- ${e}`), '');
  return out.join('\n').trimEnd();
}
