// Promotion: the survivors of a WASM screen run natively on the named hosts, in parallel (one experiment per host
// at a time, the rest queued). Every result is appended to the screen run's ledger as it arrives; the caller
// rewrites the screen's reports afterwards (the CLI does).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HostConfig } from '../config/config.js';
import { readLedger, LEDGER_FILE } from '../ledger/ledger.js';
import { RunRecorder } from '../ledger/recorder.js';
import type { TargetResult } from '../ledger/records.js';
import { isAbort, UsageError } from '../errors.js';
import { findKernel, type Kernel } from '../spec/suite.js';
import type { Candidate } from './bundle.js';
import type { Executor } from './executor.js';
import { createExecutor, runNative, type NativeEvent, type NativeOptions } from './native.js';
import { toolchainFor } from './hosts.js';
import { bestSpeedup } from './outcome.js';

/**
 * WASM rank-correlates with native AVX2 only at ρ ≈ 0.5–0.84, so the screen only rejects what it finds clearly
 * slow: a candidate goes on unless even its best bench shape is more than this fraction slower in WASM.
 */
export const DEFAULT_MARGIN = 0.25;

/** The baseline the screen checks alongside the candidates; it is what candidates are timed against, not one of them. */
const BASELINE = 'baseline';

export interface PromoteOptions {
  kernelsDir: string;
  /** see DEFAULT_MARGIN */
  marginFraction?: number;
  /** candidate settings for every native run (pairs, threads, timeouts …) */
  native?: Omit<NativeOptions, 'signal' | 'onEvent' | 'executor'>;
  signal?: AbortSignal;
  onEvent?: (event: PromoteEvent) => void;
  /** environment for executors (KBENCH_SSH_CONFIG); tests set it */
  env?: NodeJS.ProcessEnv;
}

export interface PromotionJob {
  kernel: Kernel;
  candidate: Candidate;
  /** hosts of one group share the group's experiments: an arch, with emulators a group of their own */
  group: string;
  /** hosts this experiment already failed on */
  failedOn: string[];
}

export type PromoteEvent =
  | { type: 'plan'; survivors: { kernel: string; candidate: string; group: string }[]; rejected: { kernel: string; candidate: string; reason: string }[] }
  | { type: 'experiment'; kernel: string; candidate: string; host: string; attempt: number }
  | { type: 'retry'; kernel: string; candidate: string; from: string; reason: string }
  | { type: 'host-down'; host: string; reason: string }
  | NativeEvent;

export interface PromoteSummary {
  results: TargetResult[];
  rejected: { kernel: string; candidate: string; reason: string }[];
  interrupted: boolean;
}

/** Why the screen result stops a candidate here, or undefined when it goes on to native hosts. */
export function wasmRejection(result: TargetResult, marginFraction = DEFAULT_MARGIN): string | undefined {
  if (result.hostFailure) return `not screened: ${result.hostFailure}`;
  if (result.check.status !== 'pass') return `failed the WASM check (${result.check.status})`;
  const suspect = result.speed.find((s) => s.suspect);
  if (suspect) return `its WASM timing on ${suspect.shape} is past the speed of light: ${suspect.suspect}`;
  const best = bestSpeedup(result);
  if (best < 1 - marginFraction) return `WASM speedup ${best.toFixed(3)} on its best shape is below ${(1 - marginFraction).toFixed(2)} (margin ${marginFraction})`;
  return undefined;
}

/** The latest WASM result per kernel/candidate of a run folder. */
export function screenResults(runDir: string): TargetResult[] {
  const file = join(runDir, LEDGER_FILE);
  if (!existsSync(file)) throw new UsageError(`${runDir}: no ${LEDGER_FILE} (not a kbench run folder)`);
  const latest = new Map<string, TargetResult>();
  for (const e of readLedger(file)) {
    if (e.type !== 'result') continue;
    const r = e.result;
    if (r.target === 'wasm') latest.set(`${r.kernel}/${r.candidate}`, r);
  }
  return [...latest.values()];
}

/** An emulator checks correctness only, so it must not take a real host's share of the work. */
function groupOf(host: HostConfig): string {
  return toolchainFor(host).emulated ? `${host.arch} (emulated)` : host.arch;
}

/**
 * Runs the survivors of the screen in `runDir` on `hosts`: each survivor once per arch among the hosts (emulators
 * count as an arch of their own), spread over that arch's hosts.
 */
export async function promote(runDir: string, hosts: HostConfig[], opts: PromoteOptions): Promise<PromoteSummary> {
  if (!hosts.length) throw new UsageError('promote: name at least one host (--on)');
  const emit = opts.onEvent ?? (() => undefined);
  const recorder = new RunRecorder(runDir);
  const rejected: PromoteSummary['rejected'] = [];
  const queue: PromotionJob[] = [];
  const groups = [...new Set(hosts.map(groupOf))];
  const kernels = new Map<string, Kernel>();
  for (const r of screenResults(runDir)) {
    if (r.candidate === BASELINE) continue;
    const why = wasmRejection(r, opts.marginFraction ?? DEFAULT_MARGIN);
    if (why) {
      rejected.push({ kernel: r.kernel, candidate: r.candidate, reason: why });
      continue;
    }
    if (!kernels.has(r.kernel)) kernels.set(r.kernel, findKernel(opts.kernelsDir, r.kernel));
    const kernel = kernels.get(r.kernel)!;
    const path = join(runDir, 'sources', r.kernel, `${r.candidate}.c`);
    if (!existsSync(path)) {
      rejected.push({ kernel: r.kernel, candidate: r.candidate, reason: `source not saved in the run (${path})` });
      continue;
    }
    for (const group of groups) queue.push({ kernel, candidate: { name: r.candidate, path }, group, failedOn: [] });
  }
  emit({ type: 'plan', survivors: queue.map((x) => ({ kernel: x.kernel.name, candidate: x.candidate.name, group: x.group })), rejected });

  const results: TargetResult[] = [];
  const down = new Set<string>();
  const executors = new Map<string, Executor>(hosts.map((h) => [h.name, createExecutor(h, opts.env)]));
  const record = (result: TargetResult) => {
    results.push(result);
    recorder.result(result);
  };

  // A host takes the next experiment of its arch it has not failed; after a host failure the experiment goes back
  // on the queue once, for another host of the same arch, and the failed host takes no more work. An idle host
  // waits while experiments of its arch are still running, since one of them may come back for a retry.
  let running = 0;
  let wake = () => {};
  let changed = new Promise<void>((r) => (wake = r));
  const notify = () => {
    wake();
    changed = new Promise<void>((r) => (wake = r));
  };
  const worker = async (host: HostConfig) => {
    for (;;) {
      if (opts.signal?.aborted || down.has(host.name)) return;
      const index = queue.findIndex((x) => x.group === groupOf(host) && !x.failedOn.includes(host.name));
      if (index < 0) {
        if (running === 0) return;
        await changed;
        continue;
      }
      const [x] = queue.splice(index, 1);
      running++;
      try {
        await attempt(host, x);
      } finally {
        running--;
        notify();
      }
    }
  };
  const attempt = async (host: HostConfig, x: PromotionJob) => {
    emit({ type: 'experiment', kernel: x.kernel.name, candidate: x.candidate.name, host: host.name, attempt: x.failedOn.length + 1 });
    let result: TargetResult;
    try {
      [result] = await runNative(x.kernel, [x.candidate], host, { ...opts.native, signal: opts.signal, onEvent: emit, executor: executors.get(host.name) });
    } catch (e) {
      if (!isAbort(e)) throw e;
      queue.push(x);
      return;
    }
    record(result);
    if (!result.hostFailure) return;
    down.add(host.name);
    emit({ type: 'host-down', host: host.name, reason: result.hostFailure });
    if (x.failedOn.length === 0 && hosts.some((h) => groupOf(h) === x.group && h.name !== host.name && !down.has(h.name))) {
      emit({ type: 'retry', kernel: x.kernel.name, candidate: x.candidate.name, from: host.name, reason: result.hostFailure });
      queue.unshift({ ...x, failedOn: [host.name] });
    }
  };
  try {
    await Promise.all(hosts.map(worker));
  } finally {
    await Promise.all([...executors.values()].map((e) => e.close()));
  }
  const interrupted = !!opts.signal?.aborted;
  for (const x of interrupted ? [] : queue) {
    // Left over: every host of its arch went down.
    const reason = `no host of ${x.group} left (${x.failedOn.length ? `failed on ${x.failedOn.join(', ')}` : 'all down'})`;
    rejected.push({ kernel: x.kernel.name, candidate: x.candidate.name, reason });
  }
  recorder.event({ type: 'promote-end', at: new Date().toISOString(), status: interrupted ? 'interrupted' : 'done', hosts: hosts.map((h) => h.name) });
  return { results, rejected, interrupted };
}
