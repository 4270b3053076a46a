// best-<kernel>.c: the final champion, ready for kernels/<name>/candidates/, with where it came from.
import type { ChampionEvent } from '../ledger/agent-events.js';
import { meanCumulative } from './lineage.js';
import type { RunState } from './state.js';

export function bestFileName(kernel: string): string {
  return `best-${kernel}.c`;
}

/** The final champion's source with a header saying where it came from and what it stacks up to. */
export function bestCandidateFile(s: RunState, kernel: string, source: string, champion: ChampionEvent): string {
  const h = s.hypotheses.find((x) => x.id === champion.hypothesis);
  const mean = meanCumulative(champion);
  const speed = mean ? `, ${mean.toFixed(3)}× geometric-mean speedup over the baseline (${champion.basis})` : '';
  const lineage = ['baseline', ...s.champions.map((c) => c.candidate)].join(' → ');
  return `/* kbench agent run ${s.id}: ${kernel} champion ${champion.candidate}${speed}.\n * Lineage: ${lineage}. Last step, hypothesis ${champion.hypothesis}: ${(h?.title ?? '').replace(/\*\//g, '* /')}\n */\n${source}`;
}
