// What a run leaves behind: one JSON object per line in .kbench/runs/<id>/ledger.jsonl.
// Screens, promotions and agent runs all write this one format; reports read it.
import type { CheckVerdict } from '../check/verdict.js';
import type { SpeedResult } from '../measure/types.js';
import type { LoadSnapshot } from '../measure/stability.js';

export const LEDGER_SCHEMA = 'kbench.ledger/1';

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

export type LedgerEvent =
  | { type: 'run-start'; schema: typeof LEDGER_SCHEMA; kind: 'screen' | 'run' | 'promote' | 'agent'; id: string; at: string; argv?: string[]; machine?: Record<string, unknown> }
  | { type: 'result'; at: string; result: TargetResult }
  | { type: 'run-end'; at: string; status: 'done' | 'interrupted' | 'failed'; reason?: string; machine?: { load?: LoadSnapshot } }
  // Agent runs add their own event types (research, hypothesis, candidate, cost, error …) with a `type` and `at`.
  | { type: string; at: string; [key: string]: unknown };
