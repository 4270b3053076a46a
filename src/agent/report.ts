// report.md of an agent run, computed from the run state alone (so a resumed or crashed run reports the same
// way), and best-<kernel>.c: the best kept candidate, ready for kernels/<name>/candidates/.
import type { TargetResult } from '../ledger/records.js';
import { summarizeResult } from './judge.js';
import { candidatesOf, type CandidateState, type RunState } from './state.js';

const usd = (x: number) => `$${x.toFixed(4)}`;
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export interface Landed {
  candidate: CandidateState;
  hypothesis: string;
  speedup?: number;
  basis: string;
}

/** Kept candidates, best first (by the speedup their verdict rests on). */
export function landed(s: RunState): Landed[] {
  return [...s.verdicts.values()]
    .filter((v) => v.decision === 'kept' && v.candidate && s.candidates.has(v.candidate))
    .map((v) => ({ candidate: s.candidates.get(v.candidate!)!, hypothesis: v.hypothesis, speedup: v.speedup, basis: v.basis }))
    .sort((a, b) => (b.speedup ?? 0) - (a.speedup ?? 0));
}

export function bestFileName(kernel: string): string {
  return `best-${kernel}.c`;
}

/** The best kept candidate's source with a header saying where it came from. */
export function bestCandidateFile(s: RunState, kernel: string, source: string, best: Landed): string {
  const h = s.hypotheses.find((x) => x.id === best.hypothesis);
  const speed = best.speedup ? `, ${best.speedup.toFixed(3)}× geometric-mean speedup (${best.basis})` : '';
  return `/* kbench agent run ${s.id}: ${kernel} candidate ${best.candidate.event.candidate}${speed}.\n * Hypothesis ${best.hypothesis}: ${(h?.title ?? '').replace(/\*\//g, '* /')}\n */\n${source}`;
}

function nativeCell(results: TargetResult[]): string {
  return results.map((r) => `${r.target}: ${summarizeResult(r)}`).join('<br>') || '';
}

export function renderReport(s: RunState, opts: { kernel: string; stopReason: string | null; bestFile?: string }): string {
  const cfg = s.config;
  const out: string[] = [];
  const kept = landed(s);
  out.push(`# kbench agent: ${opts.kernel} (run ${s.id})`, '');
  out.push(`- model: ${cfg?.model ?? '?'}; hosts: ${cfg?.hosts.length ? cfg.hosts.join(', ') : 'none (verdicts are from the WASM screen only)'}`);
  if (cfg) out.push(`- limits: $${cfg.limits.budgetUsd} budget, ${cfg.limits.maxExperiments} experiments, ${cfg.limits.maxMinutes} min; up to ${cfg.maxRevisions} revisions per hypothesis`);
  out.push(`- sessions: ${s.sessions} (${s.sessions > 1 ? 'resumed' : 'one run'})`);
  out.push(`- stopped: ${opts.stopReason ?? 'all hypotheses tried'}`);
  out.push(`- experiments finished: ${s.verdicts.size} of ${s.hypotheses.length} hypotheses; kept: ${kept.length}`);
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
    if (v) out.push(`- verdict: ${v.reason}${v.speedup ? ` (geometric-mean speedup ${v.speedup.toFixed(3)}×)` : ''}`);
    const cands = candidatesOf(s, h.id);
    if (cands.length) {
      out.push('', '| candidate | WASM screen | native |', '|---|---|---|');
      for (const c of cands)
        out.push(`| ${c.event.candidate} | ${cell(c.wasm ? summarizeResult(c.wasm) : 'not screened')} | ${cell(nativeCell(c.native))} |`);
    }
    out.push('');
  }

  out.push('## What landed', '');
  if (!kept.length) out.push('Nothing was kept.', '');
  for (const k of kept)
    out.push(`- ${k.candidate.event.candidate} (${k.hypothesis}): ${k.speedup ? `${k.speedup.toFixed(3)}×` : ''} ${k.basis === 'wasm' ? '(WASM only)' : '(native)'} — \`${k.candidate.event.file}\``);
  if (opts.bestFile) out.push('', `Best candidate: \`${opts.bestFile}\` (copy it into kernels/${opts.kernel}/candidates/).`);
  out.push('');

  const a = s.api;
  out.push('## Cost', '', '| item | amount | USD |', '|---|---|---|');
  out.push(`| API input | ${a.tokens.input} tokens | ${usd(a.breakdown.inputUsd)} |`);
  out.push(`| API output | ${a.tokens.output} tokens | ${usd(a.breakdown.outputUsd)} |`);
  out.push(`| API cache writes | ${a.tokens.cacheWrite} tokens | ${usd(a.breakdown.cacheWriteUsd)} |`);
  out.push(`| API cache reads | ${a.tokens.cacheRead} tokens | ${usd(a.breakdown.cacheReadUsd)} |`);
  out.push(`| web searches | ${a.webSearches} | ${usd(a.breakdown.webSearchUsd)} |`);
  out.push(`| **API total** | ${a.requests} requests | ${usd(s.apiUsd)} |`);
  for (const [host, t] of s.hostTime) out.push(`| host ${host} | ${(t.durationMs / 1000).toFixed(1)} s | ${usd(t.costUsd)} |`);
  out.push(`| **hosts total** | | ${usd(s.hostsUsd)} |`, `| **total** | | ${usd(s.apiUsd + s.hostsUsd)} |`, '');
  if (s.errors.length) out.push('## Errors', '', ...s.errors.map((e) => `- ${e}`), '');
  return out.join('\n');
}
