// The agent's runner over the real stages: one long-lived ScreenSession (the compiler warms once per run) for
// the WASM screen, and runNative on every host in parallel for confirmation.
import type { HostConfig } from '../config/config.js';
import { runNative } from '../remote/native.js';
import { ScreenSession } from '../screen/session.js';
import type { Kernel } from '../spec/suite.js';
import { againstReference, type SavedCandidate, type ExperimentRunner } from './runner.js';

export function openRealRunner(workDir: string): ExperimentRunner {
  const session = ScreenSession.open({ workDir });
  return {
    // without the run folder path, diagnostics name the file `<candidate>.c`: shorter for the model, no local paths
    screen: (kernel: Kernel, candidate: SavedCandidate, reference?: SavedCandidate) =>
      session.screenCandidate(againstReference(kernel, reference), { name: candidate.name, source: candidate.source }),
    confirm: (kernel: Kernel, candidate: SavedCandidate, hosts: HostConfig[], signal: AbortSignal, reference?: SavedCandidate) =>
      Promise.all(hosts.map(async (host) => (await runNative(againstReference(kernel, reference), [{ name: candidate.name, path: candidate.path }], host, { signal }))[0])),
    close: () => session.close(),
  };
}
