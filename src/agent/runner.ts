// What the agent needs from the rest of kbench: screen a candidate in the WASM sandbox, and confirm it on
// native hosts. The loop is written against this interface so tests can replace the world; the adapter to
// the real screen and native stages is in real-runner.ts.
import type { HostConfig } from '../config/config.js';
import type { TargetResult } from '../ledger/records.js';
import type { Kernel } from '../spec/suite.js';

export interface CandidateSource {
  name: string;
  source: string;
  /** the file in the run folder (native stages ship files) */
  path: string;
}

export interface ExperimentRunner {
  /** WASM build, sandboxed check and rough speed against the baseline. A bad candidate is a verdict, not a throw. */
  screen(kernel: Kernel, candidate: CandidateSource): Promise<TargetResult>;
  /** Native build, check and timing on each host; one result per host (hostFailure set when a host was lost). */
  confirm(kernel: Kernel, candidate: CandidateSource, hosts: HostConfig[], signal: AbortSignal): Promise<TargetResult[]>;
  close(): Promise<void>;
}
