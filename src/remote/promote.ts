// Promotion: the survivors of a WASM screen (wasmRejection, with the verdict rules in outcome.ts) run natively on the
// named hosts through the one scheduler (schedule.ts). Every result is appended to the screen run's ledger as it
// arrives; the caller rewrites the screen's reports afterwards (the CLI does).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HostConfig } from '../config/config.js';
import { readLedger, LEDGER_FILE } from '../ledger/ledger.js';
import { RunRecorder } from '../ledger/recorder.js';
import type { TargetResult } from '../ledger/records.js';
import { UsageError } from '../errors.js';
import { findKernel, type Kernel } from '../spec/suite.js';
import type { Candidate } from './bundle.js';
import type { NativeOptions } from './native.js';
import { DEFAULT_MARGIN, wasmRejection } from './outcome.js';
import { groupOf, jobsFor, runScheduled, type ScheduleEvent } from './schedule.js';

export { DEFAULT_MARGIN, wasmRejection } from './outcome.js';

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
  /** run every survivor on every host, not once per arch spread over that arch's hosts */
  everyHost?: boolean;
}

export type PromoteEvent = { type: 'plan'; survivors: { kernel: string; candidate: string; group: string }[]; rejected: { kernel: string; candidate: string; reason: string }[] } | ScheduleEvent;

export interface PromoteSummary {
  results: TargetResult[];
  rejected: { kernel: string; candidate: string; reason: string }[];
  interrupted: boolean;
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

/** Hosts that share an arch group, and so share (not each run) its experiments unless `everyHost`: arch → names. */
export function sharedArchHosts(hosts: HostConfig[]): Map<string, string[]> {
  const byGroup = new Map<string, string[]>();
  for (const h of hosts) byGroup.set(groupOf(h), [...(byGroup.get(groupOf(h)) ?? []), h.name]);
  return new Map([...byGroup].filter(([, names]) => names.length > 1));
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
  const survivors: { kernel: Kernel; candidate: Candidate }[] = [];
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
    survivors.push({ kernel, candidate: { name: r.candidate, path } });
  }
  const queue = jobsFor(survivors, hosts, opts.everyHost);
  emit({ type: 'plan', survivors: queue.map((x) => ({ kernel: x.kernel.name, candidate: x.candidate.name, group: x.group })), rejected });

  const { results, leftOver } = await runScheduled(queue, hosts, { native: opts.native, signal: opts.signal, onEvent: emit, env: opts.env, everyHost: opts.everyHost, onResult: (r) => recorder.result(r) });
  const interrupted = !!opts.signal?.aborted;
  for (const x of interrupted ? [] : leftOver) {
    // Left over: every host of its arch went down.
    const reason = `no host of ${x.group} left (${x.failedOn.length ? `failed on ${x.failedOn.join(', ')}` : 'all down'})`;
    rejected.push({ kernel: x.kernel.name, candidate: x.candidate.name, reason });
  }
  recorder.event({ type: 'promote-end', at: new Date().toISOString(), status: interrupted ? 'interrupted' : 'done', hosts: hosts.map((h) => h.name) });
  return { results, rejected, interrupted };
}
