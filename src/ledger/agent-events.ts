// The agent's ledger events (besides run-start / result / run-end from ledger/records.ts, whose LedgerEvent
// union closes over these). Each is appended
// as it happens; resume and report.md are computed from these alone.
import type { RecordedEvent, TargetResult } from './records.js';
import type { Interval } from '../measure/types.js';

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
  /** --e2e: the end-to-end verdict (llama-bench on this machine or an ssh host, graft vs unmodified upstream) is the last gate before a keep */
  e2e?: AgentE2eSettings;
}

export interface AgentE2eSettings {
  /** the host (kbench.config.json) that builds and runs llama-bench; absent: this machine */
  host?: string;
  /** a GGUF on that host; absent: the random-weight model kbench writes */
  model?: string;
  /** llama-bench -d: tokens in the KV cache before each test */
  depths: number[];
  /** invocations of each llama-bench binary */
  rounds: number;
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
export interface AgentScreenEvent {
  type: 'screen';
  at: string;
  candidate: string;
  hypothesis: string;
  outcome: ScreenOutcome;
  summary: string;
  /** the champion it was timed against: null for the original baseline */
  reference?: string | null;
}
export type ScreenOutcome = 'survivor' | 'failed' | 'slower' | 'suspect' | 'host-failure';

export interface PromotionEvent {
  type: 'promotion';
  at: string;
  candidate: string;
  hypothesis: string;
  hosts: string[];
  /** the champion the native runs time it against: null for the original baseline */
  reference?: string | null;
}

/**
 * The original baseline timed against itself on one target (the WASM screen, or a host) before the first
 * experiment: the model's measured context before it writes code.
 */
export interface BaselineEvent {
  type: 'baseline';
  at: string;
  result: TargetResult;
}

/** One shape on one target of a champion change: its speedup over the previous champion, and over the original baseline. */
export interface ChampionFigure {
  target: string;
  shape: string;
  step: Interval;
  /**
   * step × the previous champion's cumulative speedup on the same target and shape, bounds multiplied too: for k
   * steps of 95% intervals the product covers at least 1 − k × 5% (Bonferroni). Absent when a step is missing.
   */
  cumulative?: Interval;
  /** the champion's median time per call, ns */
  medianNs: number;
  /** share of the measured speed of light */
  lightShare?: number;
}

/** A kept candidate becomes the thing to beat: later experiments are screened and confirmed against it. */
export interface ChampionEvent {
  type: 'champion';
  at: string;
  candidate: string;
  hypothesis: string;
  /** the champion it replaces: null for the original baseline */
  previous: string | null;
  basis: 'native' | 'wasm';
  figures: ChampionFigure[];
}

/** Ends an experiment: after this the hypothesis is never redone on resume. */
export interface VerdictEvent {
  type: 'verdict';
  at: string;
  candidate: string | null;
  hypothesis: string;
  decision: 'kept' | 'discarded' | 'failed';
  /** the champion it was judged against: null for the original baseline */
  reference?: string | null;
  /** what the decision rests on: native hosts, or the WASM screen when the run had no hosts */
  basis: 'native' | 'wasm' | 'none';
  reason: string;
  /** geometric mean of the point speedups the decision rests on, when there were any */
  speedup?: number;
}

/**
 * A request about to be sent. Its cost event names it when the answer comes; one that never does (kill -9, the
 * time limit) is charged an upper-bound estimate — at once when aborted, on --resume after a crash.
 */
export interface RequestEvent {
  type: 'request';
  at: string;
  request: string;
  conversation: string;
  maxTokens: number;
  /** the request body's characters / 3: more than its tokens for English and code */
  inputTokensEstimate: number;
  /** recorded again with this when the API answered with an error (after the SDK's retries): nothing to charge */
  error?: string;
}

export type CostEvent =
  | {
      type: 'cost';
      at: string;
      category: 'tokens';
      costUsd: number;
      totalUsd: number;
      model: string;
      usage: UsageCounts;
      breakdown: CostBreakdown;
      conversation: string;
      /** the request event it pays for */
      request?: string;
      /** no answer came: max_tokens of output and the input estimate, all as cache writes (an upper bound) */
      estimated?: boolean;
    }
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
  | AgentScreenEvent
  | PromotionEvent
  | BaselineEvent
  | ChampionEvent
  | VerdictEvent
  | CostEvent
  | RequestEvent
  | ErrorEvent
  | StopEvent;

/** What the CLI shows live: every ledger event, plus progress that is not worth persisting. */
export type AgentProgress = RecordedEvent | { type: 'status'; at: string; text: string };

/** The usage fields of a Messages API response that cost money (null = absent). */
export interface UsageCounts {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  /** split of cache writes by lifetime, when the API reports it */
  cache_creation?: { ephemeral_5m_input_tokens?: number; ephemeral_1h_input_tokens?: number } | null;
  server_tool_use?: { web_search_requests?: number; web_fetch_requests?: number } | null;
}

export interface CostBreakdown {
  inputUsd: number;
  outputUsd: number;
  cacheWriteUsd: number;
  cacheReadUsd: number;
  webSearchUsd: number;
  totalUsd: number;
}
