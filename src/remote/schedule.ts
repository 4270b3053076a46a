// The one scheduler of native work: each job runs once per arch among the hosts (emulators an arch of their own),
// spread over that arch's hosts, one job per host at a time; after a host failure the job goes back on the queue
// once, for another host of the same arch, and the failed host takes no more work. `kbench promote` and the
// agent's confirmations both run through it.
import type { HostConfig } from '../config/config.js';
import type { TargetResult } from '../ledger/records.js';
import { isAbort } from '../errors.js';
import type { Kernel } from '../spec/suite.js';
import type { Candidate } from './bundle.js';
import type { Executor } from './executor.js';
import { toolchainFor } from './hosts.js';
import { createExecutor, runNative, type NativeEvent, type NativeOptions } from './native.js';

export interface PromotionJob {
  kernel: Kernel;
  candidate: Candidate;
  /** hosts of one group share the group's jobs: an arch, with emulators a group of their own */
  group: string;
  /** hosts this job already failed on */
  failedOn: string[];
}

export type ScheduleEvent =
  | { type: 'experiment'; kernel: string; candidate: string; host: string; attempt: number }
  | { type: 'retry'; kernel: string; candidate: string; from: string; reason: string }
  | { type: 'host-down'; host: string; reason: string }
  | NativeEvent;

export interface ScheduleOptions {
  /** candidate settings for every native run (pairs, threads, timeouts …) */
  native?: Omit<NativeOptions, 'signal' | 'onEvent' | 'executor'>;
  signal?: AbortSignal;
  onEvent?: (event: ScheduleEvent) => void;
  /** each result as it arrives (promote appends it to the ledger) */
  onResult?: (result: TargetResult) => void;
  /** environment for executors (KBENCH_SSH_CONFIG); tests set it */
  env?: NodeJS.ProcessEnv;
  /** every job on every host (a group per host) instead of once per arch */
  everyHost?: boolean;
}

/**
 * The group a host shares its jobs with: its arch (an emulator checks correctness only, so it must not take a real
 * host's share of the work: an arch of its own), or the host alone when every job runs on every host.
 */
export function groupOf(host: HostConfig, everyHost = false): string {
  if (everyHost) return `host ${host.name}`;
  return toolchainFor(host).emulated ? `${host.arch} (emulated)` : host.arch;
}

/** One job per (kernel, candidate) and per group among `hosts`. */
export function jobsFor(work: { kernel: Kernel; candidate: Candidate }[], hosts: HostConfig[], everyHost = false): PromotionJob[] {
  const groups = [...new Set(hosts.map((h) => groupOf(h, everyHost)))];
  return work.flatMap(({ kernel, candidate }) => groups.map((group) => ({ kernel, candidate, group, failedOn: [] })));
}

/**
 * Runs `queue` on `hosts`; returns the results in the order they arrived and the jobs left over (every host of
 * their group went down, or the run was stopped). Rejects only on an internal error.
 */
export async function runScheduled(queue: PromotionJob[], hosts: HostConfig[], opts: ScheduleOptions): Promise<{ results: TargetResult[]; leftOver: PromotionJob[] }> {
  const emit = opts.onEvent ?? (() => undefined);
  const results: TargetResult[] = [];
  const down = new Set<string>();
  const executors = new Map<string, Executor>(hosts.map((h) => [h.name, createExecutor(h, opts.env)]));
  const record = (result: TargetResult) => {
    results.push(result);
    opts.onResult?.(result);
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
      const index = queue.findIndex((x) => x.group === groupOf(host, opts.everyHost) && !x.failedOn.includes(host.name));
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
    if (x.failedOn.length === 0 && hosts.some((h) => groupOf(h, opts.everyHost) === x.group && h.name !== host.name && !down.has(h.name))) {
      emit({ type: 'retry', kernel: x.kernel.name, candidate: x.candidate.name, from: host.name, reason: result.hostFailure });
      queue.unshift({ ...x, failedOn: [host.name] });
    }
  };
  try {
    await Promise.all(hosts.map(worker));
  } finally {
    await Promise.all([...executors.values()].map((e) => e.close()));
  }
  return { results, leftOver: queue };
}
