// A screen run: every selected kernel's baseline (checked) and candidates (checked and timed), each result appended
// to .kbench/runs/<id>/ledger.jsonl as it arrives, with the sources as screened. Reports are the caller's (the CLI
// writes them once the run has ended).
import { existsSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { newRunId, runsDir } from '../ledger/ledger.js';
import type { TargetResult } from '../ledger/records.js';
import { RunRecorder } from '../ledger/recorder.js';
import { findKernel, loadSuite, type Kernel } from '../spec/suite.js';
import { isAbort, UsageError } from '../errors.js';
import { ScreenSession, type CandidateSource, type ScreenOptions } from './session.js';

export interface ScreenRunOptions extends ScreenOptions {
  kernelsDir: string;
  /** kernel names; all of the suite when empty */
  kernels?: string[];
  /** a candidate name of the kernel, or a path to a .c file outside the suite */
  candidate?: string;
  argv?: string[];
  signal?: AbortSignal;
}

export interface ScreenRun {
  id: string;
  dir: string;
  toolchain: string;
  results: TargetResult[];
  interrupted: boolean;
}

export function selectCandidates(kernel: Kernel, wanted: string | undefined, workDir: string): CandidateSource[] {
  const all = kernel.candidates.map((c) => ({ name: c.name, path: c.path, source: readFileSync(c.path, 'utf8') }));
  if (!wanted) return all;
  const byName = all.find((c) => c.name === wanted);
  if (byName) return [byName];
  const path = resolve(workDir, wanted);
  if (wanted.endsWith('.c') && existsSync(path)) return [{ name: basename(path, '.c'), path, source: readFileSync(path, 'utf8') }];
  throw new UsageError(`--candidate ${wanted}: not a candidate of ${kernel.name} (${kernel.candidates.map((c) => c.name).join(', ') || 'none'}) nor an existing .c file`);
}

export async function runScreen(opts: ScreenRunOptions): Promise<ScreenRun> {
  const kernels = opts.kernels?.length ? opts.kernels.map((k) => findKernel(opts.kernelsDir, k)) : loadSuite(opts.kernelsDir);
  if (!kernels.length) throw new UsageError(`${opts.kernelsDir}: no kernels found`);
  const plan = kernels.map((kernel) => ({ kernel, candidates: selectCandidates(kernel, opts.candidate, opts.workDir) }));
  const queue = plan.flatMap(({ kernel, candidates }) => {
    const baseline = { name: 'baseline', source: readFileSync(kernel.baselinePath, 'utf8'), path: kernel.baselinePath };
    return [{ kernel, candidate: baseline, bench: false }, ...candidates.map((candidate) => ({ kernel, candidate, bench: true }))];
  });
  opts.onEvent?.({ type: 'plan', total: queue.length });
  const session = ScreenSession.open(opts);
  const id = newRunId();
  let recorder: RunRecorder;
  try {
    // A suite that does not build is a spec error: found before the run folder exists, not midway through it.
    for (const { kernel } of plan) {
      opts.onEvent?.({ type: 'stage', kernel: kernel.name, candidate: 'baseline', stage: 'compile' });
      await session.prepareKernel(kernel, opts.signal);
    }
  } catch (e) {
    // an interrupted preparation still leaves an (empty, interrupted) run behind, like any other Ctrl-C
    if (!isAbort(e)) {
      await session.close();
      throw e;
    }
  }
  try {
    recorder = new RunRecorder(resolve(runsDir(opts.workDir), id));
    recorder.start('screen', id, { argv: opts.argv, kernelsDir: resolve(opts.kernelsDir), machine: { toolchain: session.description } });
  } catch (e) {
    await session.close(); // the compiler may still be warming: the process must not exit under it
    throw e;
  }
  const results: TargetResult[] = [];
  const record = (r: TargetResult, source: string) => {
    results.push(r);
    recorder.source(r.kernel, r.candidate, source);
    recorder.result(r);
  };
  let interrupted = false;
  try {
    for (const [i, { kernel, candidate, bench }] of queue.entries()) {
      if (opts.signal?.aborted) break;
      const next = queue[i + 1];
      if (next) session.prepare(next.kernel, next.candidate);
      try {
        record(await session.screenCandidate(kernel, candidate, { bench, signal: opts.signal }), candidate.source);
      } catch (e) {
        if (isAbort(e)) break; // the candidate in progress is left out, not half-judged
        throw e;
      }
    }
    interrupted = !!opts.signal?.aborted;
    recorder.end(interrupted ? 'interrupted' : 'done');
  } catch (e) {
    recorder.end('failed', (e as Error).message);
    throw e;
  } finally {
    await session.close();
  }
  return { id, dir: recorder.dir, toolchain: session.description, results, interrupted };
}
