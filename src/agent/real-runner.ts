// The agent's runner over the real stages: one long-lived ScreenSession (the compiler warms once per run) for
// the WASM screen, the native scheduler (remote/schedule.ts) for confirmation, and runE2e (src/e2e/run.ts) on the
// gate's host for --e2e.
import type { HostConfig } from '../config/config.js';
import { AbortError } from '../errors.js';
import { jobsFor, runScheduled } from '../remote/schedule.js';
import { ScreenSession } from '../screen/session.js';
import { runE2e } from '../e2e/run.js';
import type { AgentE2eSettings } from '../ledger/agent-events.js';
import type { Kernel } from '../spec/suite.js';
import { e2eHostConfig } from './agent.js';
import { againstReference, type SavedCandidate, type ExperimentRunner } from './runner.js';

export function openRealRunner(workDir: string): ExperimentRunner {
  const session = ScreenSession.open({ workDir });
  return {
    // without the run folder path, diagnostics name the file `<candidate>.c`: shorter for the model, no local paths
    screen: (kernel: Kernel, candidate: SavedCandidate, reference?: SavedCandidate) =>
      session.screenCandidate(againstReference(kernel, reference), { name: candidate.name, source: candidate.source }),
    // the same scheduler as `kbench promote`: once per arch among the hosts, retried once on another host of it
    confirm: async (kernel: Kernel, candidate: SavedCandidate, hosts: HostConfig[], signal: AbortSignal, reference?: SavedCandidate) => {
      const jobs = jobsFor([{ kernel: againstReference(kernel, reference), candidate: { name: candidate.name, path: candidate.path } }], hosts);
      const { results } = await runScheduled(jobs, hosts, { signal });
      if (signal.aborted) throw new AbortError(); // an interrupted confirmation is no verdict
      return results;
    },
    e2e: e2eStep(workDir),
    close: () => session.close(),
  };
}

/**
 * The --e2e step: runE2e on the gate's host (this machine unless --e2e-on), in the project whose `kbench run
 * --upstream` results feed Amdahl's prediction.
 */
export function e2eStep(workDir: string): NonNullable<ExperimentRunner['e2e']> {
  return (kernel: Kernel, candidate: SavedCandidate, settings: AgentE2eSettings, signal: AbortSignal) => {
    const { host: _name, ...rest } = settings;
    return runE2e(workDir, kernel, { name: candidate.name, path: candidate.path }, { ...rest, host: e2eHostConfig(workDir, settings), signal });
  };
}
