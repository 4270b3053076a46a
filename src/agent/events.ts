// The agent's ledger events (besides run-start / result / run-end from ledger/records.ts). Each is appended
// as it happens; resume and report.md are computed from these alone.
import type { TargetResult } from '../ledger/records.js';
import type { CostBreakdown, UsageCounts } from './prices.js';

export interface Hypothesis {
  id: string;
  /** rank 1 = most promising */
  rank: number;
  /** one line: what changes in the kernel */
  title: string;
  rationale: string;
  sources: string[];
  expectedEffect: string;
  /** the bench shape it targets, or "all" */
  targetShape: string;
}

/** How a run was asked for; enough to resume it without the original flags. */
export interface AgentConfigEvent {
  type: 'agent-config';
  at: string;
  kernel: string;
  kernelsDir: string;
  model: string;
  hosts: string[];
  researchDirs: string[];
  web: boolean;
  maxRevisions: number;
  limits: { budgetUsd: number; maxExperiments: number; maxMinutes: number };
  allowLocalNative: boolean;
  pricesFile?: string;
}

export interface ResearchEvent {
  type: 'research';
  at: string;
  brief: string;
  sources: string[];
}

export type HypothesisEvent = { type: 'hypothesis'; at: string } & Hypothesis;

export interface CandidateEvent {
  type: 'candidate';
  at: string;
  candidate: string;
  hypothesis: string;
  /** 0 for the first submission, then 1.. for revisions */
  revision: number;
  /** relative to the run folder */
  file: string;
  sourceSha256: string;
}

/** The WASM screen of one candidate, summarized; the full TargetResult is the `result` event before it. */
export interface ScreenEvent {
  type: 'screen';
  at: string;
  candidate: string;
  hypothesis: string;
  outcome: ScreenOutcome;
  summary: string;
}
export type ScreenOutcome = 'survivor' | 'failed' | 'slower' | 'suspect' | 'host-failure';

export interface PromotionEvent {
  type: 'promotion';
  at: string;
  candidate: string;
  hypothesis: string;
  hosts: string[];
}

/** Ends an experiment: after this the hypothesis is never redone on resume. */
export interface VerdictEvent {
  type: 'verdict';
  at: string;
  candidate: string | null;
  hypothesis: string;
  decision: 'kept' | 'discarded' | 'failed';
  /** what the decision rests on: native hosts, or the WASM screen when the run had no hosts */
  basis: 'native' | 'wasm' | 'none';
  reason: string;
  /** geometric mean of the point speedups the decision rests on, when there were any */
  speedup?: number;
}

export type CostEvent =
  | { type: 'cost'; at: string; category: 'tokens'; costUsd: number; totalUsd: number; model: string; usage: UsageCounts; breakdown: CostBreakdown; conversation: string }
  | { type: 'cost'; at: string; category: 'hosts'; costUsd: number; totalUsd: number; host: string; durationMs: number; candidate: string };

/** An API failure or an internal error that ended the run (resumable). */
export interface ErrorEvent {
  type: 'error';
  at: string;
  message: string;
}

export interface StopEvent {
  type: 'stop';
  at: string;
  /** why the run stopped taking new work, e.g. "budget reached: $1.02 of $1.00" */
  reason: string;
}

export type AgentEvent =
  | AgentConfigEvent
  | ResearchEvent
  | HypothesisEvent
  | CandidateEvent
  | ScreenEvent
  | PromotionEvent
  | VerdictEvent
  | CostEvent
  | ErrorEvent
  | StopEvent
  | { type: 'result'; at: string; result: TargetResult; hypothesis?: string };

/** What the CLI shows live: every ledger event, plus progress that is not worth persisting. */
export type AgentProgress = AgentEvent | { type: 'status'; at: string; text: string };
