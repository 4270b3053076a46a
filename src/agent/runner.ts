// What the agent needs from the rest of kbench: screen a candidate in the WASM sandbox, and confirm it on
// native hosts. The loop is written against this interface so tests can replace the world; the adapter to
// the real screen and native stages is in real-runner.ts.
import type { HostConfig } from '../config/config.js';
import type { E2eResult, TargetResult } from '../ledger/records.js';
import type { AgentE2eSettings } from '../ledger/agent-events.js';
import type { Kernel } from '../spec/suite.js';

export interface SavedCandidate {
  name: string;
  source: string;
  /** the file in the run folder (native stages ship files) */
  path: string;
}

/**
 * `reference` is the current champion: the candidate is timed against it instead of the kernel's baseline (which
 * is what runs when it is absent). Speedups are then over the champion.
 */
export interface ExperimentRunner {
  /** WASM build, sandboxed check and rough speed against the reference. A bad candidate is a verdict, not a throw. */
  screen(kernel: Kernel, candidate: SavedCandidate, reference?: SavedCandidate): Promise<TargetResult>;
  /** Native build, check and timing on each host; one result per host (hostFailure set when a host was lost). */
  confirm(kernel: Kernel, candidate: SavedCandidate, hosts: HostConfig[], signal: AbortSignal, reference?: SavedCandidate): Promise<TargetResult[]>;
  /**
   * --e2e: the candidate grafted into llama.cpp on this machine, logits checked and llama-bench timed against the
   * unmodified upstream. A bad candidate is a result (logits differ, compile error), not a throw.
   */
  e2e?(kernel: Kernel, candidate: SavedCandidate, settings: AgentE2eSettings, signal: AbortSignal): Promise<E2eResult>;
  close(): Promise<void>;
}

/**
 * The kernel as the screen and native stages should see it when the champion is the thing to beat: its source
 * in the baseline's place. The screen session keys its baseline build by kernel folder, so the folder is given
 * the champion's path too (it is only a key there; native bundles copy the baseline by path).
 */
export function againstReference(kernel: Kernel, reference: SavedCandidate | undefined): Kernel {
  return reference ? { ...kernel, baselinePath: reference.path, dir: reference.path } : kernel;
}
