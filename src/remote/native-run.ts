// `kbench run`: a native run of a kernel's candidates on one host, recorded like a screen (its own run folder with
// ledger, sources and reports), so report, compare and calibrate read it the same way.
import { resolve } from 'node:path';
import { Ledger, newRunId, runsDir } from '../ledger/ledger.js';
import { LEDGER_SCHEMA, type TargetResult } from '../ledger/records.js';
import { loadSnapshot, machineFacts } from '../ledger/machine.js';
import { writeRunReports } from '../report/index.js';
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
  reports: { markdownPath: string; htmlPath: string };
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
  const ledger = new Ledger(resolve(runsDir(workDir), id));
  ledger.append({ type: 'run-start', schema: LEDGER_SCHEMA, kind: 'run', id, at: new Date().toISOString(), argv: opts.argv, machine: machineFacts({ host: host.name }) });
  for (const c of sources) ledger.writeFile(`sources/${kernel.name}/${c.name}.c`, c.source);
  let results: TargetResult[] = [];
  let interrupted = false;
  try {
    results = await runNative(kernel, candidates, host, {
      ...opts,
      onEvent: (e) => {
        if (e.type === 'result') ledger.append({ type: 'result', at: new Date().toISOString(), result: e.result });
        opts.onEvent?.(e);
      },
    });
    ledger.append({ type: 'run-end', at: new Date().toISOString(), machine: { load: loadSnapshot() }, status: 'done' });
  } catch (e) {
    interrupted = !!opts.signal?.aborted;
    ledger.append({ type: 'run-end', at: new Date().toISOString(), machine: { load: loadSnapshot() }, status: interrupted ? 'interrupted' : 'failed', reason: (e as Error).message });
    if (!interrupted) throw e;
  }
  return { id, dir: ledger.dir, results, interrupted, reports: writeRunReports(ledger.dir) };
}
