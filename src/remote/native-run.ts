// `kbench run`: a native run of a kernel's candidates on one host, recorded like a screen (its own run folder with
// ledger and sources; the CLI adds the reports), so report, compare and calibrate read it the same way.
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { newRunId, runsDir } from '../ledger/ledger.js';
import type { TargetResult } from '../ledger/records.js';
import { RunRecorder } from '../ledger/recorder.js';
import type { CandidateSource } from '../screen/session.js';
import type { HostConfig } from '../config/config.js';
import type { Kernel } from '../spec/suite.js';
import { UsageError } from '../errors.js';
import { runNative, type NativeOptions } from './native.js';

export interface NativeRun {
  id: string;
  dir: string;
  results: TargetResult[];
  interrupted: boolean;
}

export async function runNativeRecorded(
  workDir: string,
  kernel: Kernel,
  sources: CandidateSource[],
  host: HostConfig,
  opts: NativeOptions & { argv?: string[] } = {},
): Promise<NativeRun> {
  if (!sources.length) throw new UsageError(`${kernel.name} has no candidates (add .c files to ${resolve(kernel.dir, 'candidates')})`);
  const candidates = sources.map((c) => ({ name: c.name, path: c.path ?? resolve(kernel.dir, 'candidates', `${c.name}.c`) }));
  const id = newRunId();
  const recorder = new RunRecorder(resolve(runsDir(workDir), id));
  recorder.start('run', id, { argv: opts.argv, machine: { host: host.name } });
  for (const c of sources) recorder.source(kernel.name, c.name, c.source);
  let results: TargetResult[] = [];
  let interrupted = false;
  try {
    results = await runNative(kernel, candidates, host, {
      ...opts,
      onEvent: (e) => {
        if (e.type === 'result') recorder.result(e.result);
        opts.onEvent?.(e);
      },
    });
    recorder.end('done');
  } catch (e) {
    // a spec error found on the host (the baseline lacks the function) leaves no run behind, as in the screen
    if (e instanceof UsageError) {
      rmSync(recorder.dir, { recursive: true, force: true });
      throw e;
    }
    interrupted = !!opts.signal?.aborted;
    recorder.end(interrupted ? 'interrupted' : 'failed', (e as Error).message);
    if (!interrupted) throw e;
  }
  return { id, dir: recorder.dir, results, interrupted };
}
