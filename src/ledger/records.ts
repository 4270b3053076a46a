// What a run leaves behind: one JSON object per line in .kbench/runs/<id>/ledger.jsonl.
// Screens, promotions and agent runs all write this one format; reports read it.
import { createHash } from 'node:crypto';
import type { CheckVerdict } from '../check/verdict.js';
import type { RegisterBound } from '../build/register-pressure.js';
import type { Interval, SpeedResult, SpeedVerdict } from '../measure/types.js';
import type { LoadSnapshot, Stability } from '../measure/stability.js';
import type { MachineFacts } from './machine.js';
// The agent's vocabulary (agent-events.ts) is written by agent/ alone; the ledger closes the union over it.
import type { AgentEvent } from './agent-events.js';

export const LEDGER_SCHEMA = 'kbench.ledger/1';

/** The hex sha256 of a candidate's source as built: TargetResult.sourceSha256, and the key calibrate pairs by. */
export function sha256(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

export type Arch = 'wasm32' | 'x86_64' | 'aarch64';

/** The outcome of one candidate on one target (the WASM screen or a native host). */
export interface TargetResult {
  kernel: string;
  candidate: string;
  /** 'wasm' for the screen, else the host name from kbench.config.json */
  target: string;
  arch: Arch;
  /** compiler used, e.g. "yowasp clang 22.1.0" or "gcc 12.2.0 -O3 -mavx2 -mfma" */
  toolchain: string;
  /** sha256 of the candidate source as built */
  sourceSha256: string;
  check: CheckVerdict;
  /** one entry per bench shape; empty unless the check passed */
  speed: SpeedResult[];
  /** wall time spent on this candidate on this target */
  elapsedMs: number;
  /** set when the target itself failed (lost host, ssh error): the candidate was not judged */
  hostFailure?: string;
  /** with --upstream: which upstream the speed entries' vsUpstream were measured against */
  upstream?: UpstreamInfo;
  /** WASM screen only: its loops need more registers than V8 has here, though natively they fit */
  registerBound?: RegisterBound;
}

/** Which upstream ggml a "vs upstream" figure is against, and how it was called. */
export interface UpstreamInfo {
  /** 'npm:node-llama-cpp@3.22.1' or the checkout's path */
  origin: string;
  commit: string;
  /** instruction-set flags of the ggml build */
  flags: string;
  /** graph (copies of the op in one planned graph) or direct (the function ggml calls) */
  call: string;
  how: string;
  copies: number;
}

export type RunKind = 'screen' | 'run' | 'promote' | 'agent' | 'e2e';

/** Opens a run (again, on every agent --resume): what ran, how it was asked for, and the machine it ran on. */
export interface RunStartEvent {
  type: 'run-start';
  schema: typeof LEDGER_SCHEMA;
  kind: RunKind;
  id: string;
  at: string;
  argv?: string[];
  /** the kernels folder a screen used, so `promote` finds the same suite */
  kernelsDir?: string;
  machine?: MachineFacts;
}

/** One candidate on one target; an agent run names the hypothesis it belongs to. */
export interface ResultEvent {
  type: 'result';
  at: string;
  result: TargetResult;
  hypothesis?: string;
}

export interface RunEndEvent {
  type: 'run-end';
  at: string;
  status: 'done' | 'interrupted' | 'failed';
  reason?: string;
  machine?: { load?: LoadSnapshot };
}

/** Closes a promotion appended to a screen's ledger: which hosts ran its survivors, and whether it finished. */
export interface PromoteEndEvent {
  type: 'promote-end';
  at: string;
  status: 'done' | 'interrupted';
  hosts: string[];
}

/** One llama-bench test (pp or tg at one depth) of an end-to-end timing, judged like every kbench speedup. */
export interface E2eTestResult {
  /** "tg32 @ d4096" */
  label: string;
  kind: 'pp' | 'tg';
  tokens: number;
  depth: number;
  /** per round, ns for the whole test */
  referenceNs: number[];
  graftNs: number[];
  referenceTokensPerS: number;
  graftTokensPerS: number;
  /** graft tokens/s ÷ reference tokens/s per round (> 1: the graft is faster): median with a bootstrap CI */
  ratio: Interval;
  verdict: SpeedVerdict;
  noiseFloor: number;
  /** the verdict in words, saying when a gain is below the noise floor */
  summary: string;
}

/** The share of a test's time the op takes, from the reference timed against the op made free. */
export interface OpShare {
  /** "tg32 @ d4096" */
  label: string;
  /** median over rounds of 1 - t_free / t_ref, with a bootstrap CI */
  share: Interval;
}

/** Measured against predicted end-to-end ratio. */
export interface PredictionCheck {
  /** measured ÷ predicted point estimates */
  gap: number;
  /** the two intervals overlap */
  agrees: boolean;
  summary: string;
}

/** The logits gate's verdict as recorded: compile-error when the candidate did not build into ggml. */
export interface E2eLogits {
  status: 'agree' | 'differ' | 'failed' | 'unreached' | 'compile-error';
  reason: string;
  rows?: number;
  maxRelDiff?: number;
  worstRow?: number;
  tolerance?: number;
  top1MismatchRow?: number | null;
  graftCalls?: number;
}

/** Amdahl's prediction for one test beside its measurement. */
export interface E2ePrediction {
  label: string;
  /** the op-level bench shape whose "vs upstream" speedup was used ("decode 1x4096" for tg, "prefill …" for pp) */
  opShape: string;
  opSpeedup: Interval;
  share: Interval;
  predicted: Interval;
  check: PredictionCheck;
}

/**
 * The end-to-end measure of one candidate grafted into llama.cpp (src/e2e/run.ts): the logits gate, then, only when
 * the logits agree, the timing of the reference against the graft, the op's share and the Amdahl prediction.
 */
export interface E2eResult {
  kernel: string;
  candidate: string;
  sourceSha256: string;
  /** the host name ('local') and its hostname */
  host: string;
  hostname: string;
  upstream: { origin: string; commit: string; flags: string };
  model: {
    path: string;
    /** true when kbench wrote the random-weight model itself */
    generated: boolean;
    /** the generator's options (a generated model) */
    params?: Record<string, number>;
    parameters?: number;
    /** what the file says (a user's model) */
    file?: { architecture: string; name?: string; tensors: number; fileBytes: number };
  };
  recipe: { file: string; function: string; env: Record<string, string>; flashAttention: 'on' | 'off' | 'auto' };
  bench: { threads: number; prompt: number; gen: number; depths: number[]; rounds: number; seed: number };
  logits: E2eLogits;
  /** absent when the logits did not agree: nothing was timed */
  timing?: {
    status: 'timed' | 'failed';
    reason?: string;
    tests: E2eTestResult[];
    stability: Stability;
    load: { start?: LoadSnapshot; end?: LoadSnapshot };
  };
  /** the op's share per test; absent with --no-share, or when the free build was not timed (shareNote says why) */
  shares?: OpShare[];
  shareNote?: string;
  /** per test with a share and an op-level speedup; predictionNote says why there is none */
  prediction?: E2ePrediction[];
  predictionNote?: string;
  /** the native run whose "vs upstream" speedups the prediction used */
  opSpeedupRun?: string;
  elapsedMs: number;
}

/** One end-to-end measure (kbench e2e, or the agent's last gate). */
export interface E2eEvent {
  type: 'e2e';
  at: string;
  result: E2eResult;
}

/** An event of a type this version does not know (a newer kbench wrote it): kept, counted, never fatal. */
export interface UnknownEvent {
  type: 'unknown';
  at: string;
  /** the type the line carried */
  originalType: string;
  /** the whole line as parsed */
  fields: Record<string, unknown>;
}

/**
 * Every line a ledger holds. Stages append the recorded kinds; an unknown type read from disk becomes
 * UnknownEvent at parse time (readLedger), so readers switch on `type` without casts.
 */
export type LedgerEvent = RunStartEvent | ResultEvent | RunEndEvent | PromoteEndEvent | E2eEvent | AgentEvent | UnknownEvent;

/** What a stage may append: everything but the parse-time stand-in. */
export type RecordedEvent = Exclude<LedgerEvent, UnknownEvent>;

/** The events an agent run adds (src/ledger/agent-events.ts), checked against AgentEvent: a report of another kind counts them as not shown. */
const AGENT_TYPES: Record<AgentEvent['type'], true> = {
  'agent-config': true,
  research: true,
  hypothesis: true,
  candidate: true,
  screen: true,
  promotion: true,
  baseline: true,
  champion: true,
  verdict: true,
  cost: true,
  request: true,
  error: true,
  stop: true,
};
export const AGENT_EVENT_TYPES: ReadonlySet<string> = new Set(Object.keys(AGENT_TYPES));

/** Every recorded type, checked against the union at compile time: a new event type must be named here. */
const RECORDED_TYPES: Record<RecordedEvent['type'], true> = { 'run-start': true, result: true, 'run-end': true, 'promote-end': true, e2e: true, ...AGENT_TYPES };

/** One parsed ledger line as a LedgerEvent: a known type as it is, any other as UnknownEvent. */
export function toLedgerEvent(line: Record<string, unknown>): LedgerEvent {
  const type = typeof line.type === 'string' ? line.type : '';
  if (Object.hasOwn(RECORDED_TYPES, type)) return line as unknown as RecordedEvent;
  return { type: 'unknown', at: typeof line.at === 'string' ? line.at : '', originalType: type || '(none)', fields: line };
}
