// Is a run's figure something a re-run would see? Confidence intervals describe one process; what moves between
// processes and sessions shows in evidence the run already has: the baseline, timed beside every candidate, should
// take the same time each time, and the machine should not have been busy or throttled. Pure rules over that evidence.

/** How busy the machine was at one moment (see ledger/machine.ts loadSnapshot). */
export interface LoadSnapshot {
  at: string;
  loadAvg1: number;
  cpus: number;
  /** /proc/stat counters since boot, when readable (clock ticks summed over the CPUs) */
  totalTicks?: number;
  stealTicks?: number;
  /** idle and iowait ticks */
  idleTicks?: number;
  /** CPU ticks of kbench's own process, its live descendants and its reaped children (/proc/<pid>/stat); this machine only */
  ownTicks?: number;
  mhz?: number;
}

export interface Stability {
  status: 'stable' | 'unstable';
  reasons: string[];
}

/** Load average per CPU above which other work was competing for the cores when the run started. */
const BUSY_LOAD_PER_CPU = 0.5;
/** Share of CPU time the hypervisor gave to other guests during the run. */
const STEAL_SHARE = 0.02;
/** Clock change between start and end (thermal or power throttling). */
const CLOCK_CHANGE = 0.1;
/**
 * The baseline of one shape, timed again beside each candidate, may differ between those timings by this much
 * before it counts as drift: beyond it, a speedup computed against that baseline moves by more than the margins
 * verdicts and promotion are decided with.
 */
export const BASELINE_DRIFT = 0.1;
/** A CI whose upper end is this many times its lower end says the samples disagree with each other. */
const WIDE_CI = 1.5;

export function stabilityOf(reasons: string[]): Stability {
  return { status: reasons.length ? 'unstable' : 'stable', reasons };
}

/** Shortest run, in CPU ticks per CPU (1 s at the usual 100 Hz), whose tick counts say how busy others kept the CPUs. */
const MIN_TICKS_PER_CPU = 100;

/** Reasons the machine itself gave, from the snapshots at the start and the end of a run. */
export function machineReasons(start?: LoadSnapshot, end?: LoadSnapshot): string[] {
  const reasons: string[] = [];
  const others = otherProgramsCpus(start, end);
  if (others !== undefined) {
    if (others > BUSY_LOAD_PER_CPU * start!.cpus) reasons.push(`other programs kept ${others.toFixed(2)} of the ${start!.cpus} CPUs busy during the run`);
  } else if (start && start.loadAvg1 > BUSY_LOAD_PER_CPU * start.cpus) {
    // without tick counts of its own: the end's load average includes kbench's own work, so only the start says
    // others were busy (a load average lags by a minute, so this also flags a run that began just after others ended)
    reasons.push(`the machine was busy when the run started (load average ${start.loadAvg1.toFixed(2)} on ${start.cpus} CPUs)`);
  }
  if (start?.totalTicks !== undefined && end?.totalTicks !== undefined && end.totalTicks > start.totalTicks) {
    const steal = ((end.stealTicks ?? 0) - (start.stealTicks ?? 0)) / (end.totalTicks - start.totalTicks);
    if (steal > STEAL_SHARE) reasons.push(`the hypervisor took ${(steal * 100).toFixed(1)}% of CPU time during the run (steal)`);
  }
  if (start?.mhz && end?.mhz && Math.abs(end.mhz / start.mhz - 1) > CLOCK_CHANGE)
    reasons.push(`the CPU clock moved from ${Math.round(start.mhz)} to ${Math.round(end.mhz)} MHz during the run`);
  return reasons;
}

/**
 * How many CPUs other programs kept busy on average over the run: busy ticks (neither idle nor stolen) between the
 * snapshots, less kbench's own (ownTicks). Undefined unless both snapshots were taken
 * on this machine with /proc readable and the run lasted long enough for ticks to mean something.
 */
function otherProgramsCpus(start?: LoadSnapshot, end?: LoadSnapshot): number | undefined {
  if (!start || !end) return undefined;
  const { totalTicks: t0, idleTicks: i0, stealTicks: s0 = 0, ownTicks: o0 } = start;
  const { totalTicks: t1, idleTicks: i1, stealTicks: s1 = 0, ownTicks: o1 } = end;
  if (t0 === undefined || t1 === undefined || i0 === undefined || i1 === undefined || o0 === undefined || o1 === undefined) return undefined;
  const total = t1 - t0;
  if (!(total >= MIN_TICKS_PER_CPU * start.cpus)) return undefined;
  const othersBusy = total - (i1 - i0) - (s1 - s0) - (o1 - o0);
  return Math.max(0, othersBusy / total) * start.cpus;
}

/** The baseline's median on one shape in one result, with the median over every result of the run for that shape. */
export function baselineDriftReason(shape: string, medianNs: number, runMedianNs: number, formatNs: (ns: number) => string): string | null {
  const ratio = medianNs / runMedianNs;
  if (!(ratio > 1 / (1 + BASELINE_DRIFT) && ratio < 1 + BASELINE_DRIFT))
    return `the baseline took ${formatNs(medianNs)} on ${shape} here against ${formatNs(runMedianNs)} across the run`;
  return null;
}

export function wideCiReason(shape: string, lo: number, hi: number): string | null {
  return lo > 0 && hi / lo > WIDE_CI ? `the CI on ${shape} spans ${lo.toFixed(2)}–${hi.toFixed(2)}×: the samples disagree` : null;
}

/** What to do about it, hyperfine style. */
export const UNSTABLE_ADVICE =
  'Re-run on a quiet machine (close other programs, or use a dedicated host), or add pairs; compare the runs with `kbench compare` before trusting a change.';
