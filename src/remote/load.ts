// How busy a host is, read through its executor, so a run on an ssh host gets the same stability evidence
// (ledger/machine.ts loadSnapshot) as a run on this machine. Linux hosts only; elsewhere the snapshot is missing.
import { isAbort } from '../errors.js';
import { snapshotFrom } from '../ledger/machine.js';
import type { LoadSnapshot } from '../measure/stability.js';
import { type Executor } from './executor.js';

const SECTION = '--kbench-load--';

/** One shell line printing /proc/loadavg, the CPU count, /proc/stat's cpu line and the clock, separated by markers. */
export const LOAD_PROBE = [
  'cat /proc/loadavg',
  '(getconf _NPROCESSORS_ONLN || nproc)',
  "grep '^cpu ' /proc/stat",
  'cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq',
]
  .map((part) => `${part} 2>/dev/null; echo ${SECTION}`)
  .join('; ');

/** The probe's output as a snapshot; undefined when it is not a Linux host's. */
export function parseLoadProbe(stdout: string): LoadSnapshot | undefined {
  const [loadavg, cpus, procStat, khz] = stdout.split(SECTION).map((s) => s.trim());
  const loadAvg1 = Number(loadavg?.split(/\s+/)[0]);
  const count = Number(cpus);
  if (!(Number.isFinite(loadAvg1) && loadavg) || !(count >= 1)) return undefined;
  return snapshotFrom({ loadAvg1, cpus: count, procStat: procStat || undefined, curFreqKhz: khz || undefined });
}

/** A load snapshot of the executor's host; undefined when it cannot be read (never fails the run). */
export async function probeLoad(executor: Executor, timeoutMs = 30_000): Promise<LoadSnapshot | undefined> {
  try {
    return parseLoadProbe((await executor.exec(LOAD_PROBE, { timeoutMs })).stdout);
  } catch (e) {
    if (isAbort(e)) throw e;
    return undefined;
  }
}
