// What an agent run adds to a report: the experiment timeline, the champion lineage and the cost breakdown, folded
// from the agent's typed ledger events (src/ledger/agent-events.ts).
import type { LedgerEvent } from '../ledger/records.js';
import type { Interval } from '../measure/types.js';
import type { ResultRow } from './model.js';

export type ExperimentOutcome = 'kept' | 'discarded' | 'failed' | 'pending';

export interface ExperimentRow {
  /** null when the hypothesis never produced a candidate that compiled into an experiment */
  candidate: string | null;
  hypothesisId?: string;
  startedAt: string;
  decidedAt?: string;
  /** the hypothesis title (or id when the title is unknown) */
  hypothesis?: string;
  outcome: ExperimentOutcome;
  reason?: string;
}

export interface CostItem {
  category: string;
  costUsd: number;
  events: number;
}

/** One champion change: baseline → A → A+B …, with the step and cumulative speedups per target and shape. */
export interface LineageStep {
  candidate: string;
  previous: string | null;
  hypothesisId?: string;
  figures: { target: string; shape: string; step: Interval; cumulative?: Interval }[];
  /** what the experiment that made it cost: its conversation's requests and its candidates' host time */
  costUsd: number;
}

export interface AgentActivity {
  hypotheses: number;
  lineage: LineageStep[];
  /** why the run stopped taking new work (budget, limits), when it said so */
  stopReason?: string;
  errors: string[];
  experiments: ExperimentRow[];
  /** `estimatedRequests`: requests never answered (a crash, the time limit), charged an upper-bound estimate */
  cost: { totalUsd: number; byCategory: CostItem[]; estimatedRequests: number };
}

export function readAgentActivity(events: LedgerEvent[], results: ResultRow[]): AgentActivity {
  const titles = new Map<string, string>();
  const experiments: ExperimentRow[] = [];
  const costs = new Map<string, CostItem>();
  const errors: string[] = [];
  const lineage: LineageStep[] = [];
  const hypothesisOf = new Map<string, string>();
  const experimentUsd = new Map<string, number>();
  let estimatedRequests = 0;
  let stopReason: string | undefined;
  for (const e of events) {
    switch (e.type) {
      case 'hypothesis':
        titles.set(e.id || `h${titles.size + 1}`, e.title || e.id);
        break;
      case 'candidate': {
        hypothesisOf.set(e.candidate, e.hypothesis);
        // A revision replaces the experiment of its hypothesis: the timeline shows one mark per hypothesis tried.
        const i = experiments.findIndex((x) => x.hypothesisId === e.hypothesis && x.outcome === 'pending');
        const x: ExperimentRow = { candidate: e.candidate, hypothesisId: e.hypothesis, hypothesis: title(titles, e.hypothesis), startedAt: e.at, outcome: 'pending' };
        if (i >= 0) experiments[i] = { ...x, startedAt: experiments[i].startedAt };
        else experiments.push(x);
        break;
      }
      case 'verdict': {
        const decided = { outcome: e.decision, decidedAt: e.at, reason: e.reason || undefined };
        const x = experiments.find((x) => x.outcome === 'pending' && (e.candidate ? x.candidate === e.candidate : x.hypothesisId === e.hypothesis));
        if (x) Object.assign(x, decided);
        else experiments.push({ candidate: e.candidate ?? null, hypothesisId: e.hypothesis, hypothesis: title(titles, e.hypothesis), startedAt: e.at, ...decided });
        break;
      }
      case 'cost': {
        if (!Number.isFinite(e.costUsd)) break;
        const item = costs.get(e.category) ?? { category: e.category, costUsd: 0, events: 0 };
        costs.set(e.category, { category: e.category, costUsd: item.costUsd + e.costUsd, events: item.events + 1 });
        const hypothesisId = e.category === 'hosts' ? hypothesisOf.get(e.candidate) : /^experiment-(.+)$/.exec(e.conversation)?.[1];
        if (hypothesisId) experimentUsd.set(hypothesisId, (experimentUsd.get(hypothesisId) ?? 0) + e.costUsd);
        if (e.category === 'tokens' && e.estimated) estimatedRequests++;
        break;
      }
      case 'champion':
        lineage.push({ candidate: e.candidate, previous: e.previous ?? null, hypothesisId: e.hypothesis, figures: (e.figures ?? []).filter((f) => typeof f?.step?.estimate === 'number'), costUsd: 0 });
        break;
      case 'error':
        errors.push(e.message || 'error');
        break;
      case 'stop':
        stopReason = e.reason || undefined;
        break;
    }
  }
  // An experiment without a verdict event whose candidate failed its check is still a failure worth showing.
  for (const x of experiments)
    if (x.outcome === 'pending') {
      const failed = results.find((r) => r.candidate === x.candidate && r.status !== 'pass' && r.status !== 'host-failure');
      if (failed) Object.assign(x, { outcome: 'failed', reason: failed.reason });
    }
  for (const step of lineage) step.costUsd = experimentUsd.get(step.hypothesisId ?? '') ?? 0;
  const byCategory = [...costs.values()].sort((a, b) => b.costUsd - a.costUsd);
  return {
    hypotheses: titles.size,
    lineage,
    ...(stopReason ? { stopReason } : {}),
    errors,
    experiments,
    cost: { totalUsd: byCategory.reduce((s, c) => s + c.costUsd, 0), byCategory, estimatedRequests },
  };
}

function title(titles: Map<string, string>, id: string | undefined): string | undefined {
  return id === undefined ? undefined : titles.get(id) ?? id;
}
