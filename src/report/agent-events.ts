// What an agent run adds to a report: the experiment timeline, the champion lineage and the cost breakdown. The agent writes its
// own event types into the ledger (src/agent/events.ts); this reads them leniently: a missing field degrades a
// row, never the report.
import type { LedgerEvent } from '../ledger/records.js';
import type { Interval } from '../measure/types.js';
import type { ResultRow } from './model.js';

export type ExperimentOutcome = 'kept' | 'discarded' | 'failed' | 'pending';

export interface Experiment {
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
  experiments: Experiment[];
  /** `estimatedRequests`: requests never answered (a crash, the time limit), charged an upper-bound estimate */
  cost: { totalUsd: number; byCategory: CostItem[]; estimatedRequests: number };
}

const OUTCOMES = new Set<ExperimentOutcome>(['kept', 'discarded', 'failed']);

function text(e: Record<string, unknown>, key: string): string | undefined {
  return typeof e[key] === 'string' && e[key] ? (e[key] as string) : undefined;
}

function amount(e: Record<string, unknown>, key: string): number | undefined {
  return typeof e[key] === 'number' && Number.isFinite(e[key]) ? (e[key] as number) : undefined;
}

export function readAgentActivity(events: LedgerEvent[], results: ResultRow[]): AgentActivity {
  const titles = new Map<string, string>();
  const experiments: Experiment[] = [];
  const costs = new Map<string, CostItem>();
  const errors: string[] = [];
  const lineage: LineageStep[] = [];
  const hypothesisOf = new Map<string, string>();
  const experimentUsd = new Map<string, number>();
  let estimatedRequests = 0;
  let stopReason: string | undefined;
  for (const event of events) {
    const e = event as Record<string, unknown>;
    if (event.type === 'hypothesis') {
      const id = text(e, 'id') ?? `h${titles.size + 1}`;
      titles.set(id, text(e, 'title') ?? id);
    } else if (event.type === 'candidate') {
      const candidate = text(e, 'candidate');
      const hypothesisId = text(e, 'hypothesis');
      if (candidate && hypothesisId) hypothesisOf.set(candidate, hypothesisId);
      // A revision replaces the experiment of its hypothesis: the timeline shows one mark per hypothesis tried.
      const i = experiments.findIndex((x) => hypothesisId !== undefined && x.hypothesisId === hypothesisId && x.outcome === 'pending');
      const x: Experiment = { candidate: candidate ?? null, hypothesisId, hypothesis: title(titles, hypothesisId), startedAt: event.at, outcome: 'pending' };
      if (i >= 0) experiments[i] = { ...x, startedAt: experiments[i].startedAt };
      else experiments.push(x);
    } else if (event.type === 'verdict') {
      const outcome = text(e, 'decision') as ExperimentOutcome | undefined;
      if (!outcome || !OUTCOMES.has(outcome)) continue;
      const candidate = text(e, 'candidate') ?? null;
      const hypothesisId = text(e, 'hypothesis');
      const decided = { outcome, decidedAt: event.at, reason: text(e, 'reason') };
      const x = experiments.find((x) => x.outcome === 'pending' && (candidate ? x.candidate === candidate : x.hypothesisId === hypothesisId));
      if (x) Object.assign(x, decided);
      else experiments.push({ candidate, hypothesisId, hypothesis: title(titles, hypothesisId), startedAt: event.at, ...decided });
    } else if (event.type === 'cost') {
      const costUsd = amount(e, 'costUsd');
      if (costUsd === undefined) continue;
      const category = text(e, 'category') ?? 'other';
      const item = costs.get(category) ?? { category, costUsd: 0, events: 0 };
      costs.set(category, { category, costUsd: item.costUsd + costUsd, events: item.events + 1 });
      const hypothesisId = category === 'hosts' ? hypothesisOf.get(text(e, 'candidate') ?? '') : /^experiment-(.+)$/.exec(text(e, 'conversation') ?? '')?.[1];
      if (hypothesisId) experimentUsd.set(hypothesisId, (experimentUsd.get(hypothesisId) ?? 0) + costUsd);
      if (e.estimated === true) estimatedRequests++;
    } else if (event.type === 'champion') {
      const candidate = text(e, 'candidate');
      if (!candidate) continue;
      const figures = Array.isArray(e.figures) ? (e.figures as LineageStep['figures']).filter((f) => f && typeof f.step?.estimate === 'number') : [];
      lineage.push({ candidate, previous: text(e, 'previous') ?? null, hypothesisId: text(e, 'hypothesis'), figures, costUsd: 0 });
    } else if (event.type === 'error') {
      errors.push(text(e, 'message') ?? 'error');
    } else if (event.type === 'stop') {
      stopReason = text(e, 'reason');
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
