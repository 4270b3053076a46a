// `kbench screen <kernel> --candidate file.c --watch`: the edit–measure loop of a person working on one candidate.
// One session stays open, so the compiler is warm and the reference and baseline are built once; the baseline is
// checked once and its result kept; the candidate is screened again each time its file changes (saved). Nothing is
// written to .kbench/runs: a watch round is a draft, `kbench screen` without --watch records.
import { existsSync, readFileSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { sha256, type TargetResult } from '../ledger/records.js';
import { UsageError } from '../errors.js';
import type { Kernel } from '../spec/suite.js';
import { ScreenSession, type ScreenOptions } from './session.js';

export interface WatchOptions extends ScreenOptions {
  kernel: Kernel;
  /** the candidate file to watch */
  path: string;
  signal: AbortSignal;
  /** the baseline's check, once, before the first round */
  onBaseline?: (result: TargetResult) => void;
  /** every screen of the candidate: round 1 is the file as found */
  onRound: (round: { round: number; result: TargetResult; elapsedMs: number }) => void;
  /** wait this long after a change for the editor to finish writing (default 150 ms) */
  debounceMs?: number;
}

/** Resolves when `signal` aborts (Ctrl-C); the round in progress is stopped and left out. */
export async function watchScreen(opts: WatchOptions): Promise<{ rounds: number; toolchain: string }> {
  if (!existsSync(opts.path)) throw new UsageError(`--watch: ${opts.path} does not exist`);
  const session = ScreenSession.open(opts);
  const name = basename(opts.path, '.c');
  let rounds = 0;
  // An editor may replace the file (write a new one, rename it over): watch the folder, filter by name.
  let changed: () => void = () => {};
  let dirty = false; // a change seen while a round ran
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(dirname(opts.path), (_event, file) => {
    if (file !== null && file !== basename(opts.path)) return;
    clearTimeout(timer);
    timer = setTimeout(() => ((dirty = true), changed()), opts.debounceMs ?? 150);
  });
  const wake = () => changed();
  opts.signal.addEventListener('abort', wake, { once: true });
  const nextChange = () => new Promise<void>((resolve) => (dirty || opts.signal.aborted ? resolve() : (changed = resolve)));
  try {
    await session.prepareKernel(opts.kernel, opts.signal);
    const baseline = await session.screenCandidate(opts.kernel, { name: 'baseline', path: opts.kernel.baselinePath, source: readFileSync(opts.kernel.baselinePath, 'utf8') }, { bench: false, signal: opts.signal });
    opts.onBaseline?.(baseline);
    let last = '';
    while (!opts.signal.aborted) {
      dirty = false;
      const source = existsSync(opts.path) ? readFileSync(opts.path, 'utf8') : '';
      // a save that changed nothing (or a half-written, empty file) does not cost a round
      if (source && sha256(source) !== last) {
        last = sha256(source);
        const started = Date.now();
        const result = await session.screenCandidate(opts.kernel, { name, path: opts.path, source }, { signal: opts.signal });
        opts.onRound({ round: ++rounds, result, elapsedMs: Date.now() - started });
      }
      await nextChange();
    }
  } catch (e) {
    if ((e as Error).name !== 'AbortError') throw e;
  } finally {
    clearTimeout(timer);
    watcher.close();
    opts.signal.removeEventListener('abort', wake);
    await session.close();
  }
  return { rounds, toolchain: session.description };
}
