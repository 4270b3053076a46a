// The machine a run happened on, recorded in its run-start event (reports and the gbench context read it), and how
// busy it was at the start and the end of the run (run-start and run-end), the evidence reports judge stability by.
import { readdirSync, readFileSync } from 'node:fs';
import { arch, cpus, hostname, loadavg, platform } from 'node:os';
import type { LoadSnapshot } from '../measure/stability.js';

/** The facts of run-start's `machine`; old ledgers may lack any of them, and stages add their own (toolchain, host). */
export interface MachineFacts {
  hostname?: string;
  platform?: string;
  arch?: string;
  cpus?: number;
  cpuModel?: string;
  mhz?: number;
  loadAvg?: number[];
  node?: string;
  load?: LoadSnapshot;
  [extra: string]: unknown;
}

export function machineFacts(extra: Record<string, unknown> = {}): MachineFacts {
  const cpu = cpus();
  return {
    hostname: hostname(),
    platform: platform(),
    arch: arch(),
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    mhz: cpu[0]?.speed ?? 0,
    loadAvg: loadavg(),
    node: process.version,
    load: loadSnapshot(),
    ...extra,
  };
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Load average, the CPU time counters of /proc/stat (steal included) and the current clock, where readable. */
export function loadSnapshot(): LoadSnapshot {
  return snapshotFrom({
    loadAvg1: loadavg()[0],
    cpus: cpus().length,
    procStat: readOrUndefined('/proc/stat'),
    ownProcStats: ownProcessStats(),
    curFreqKhz: readOrUndefined('/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq'),
    fallbackMhz: cpus()[0]?.speed,
  });
}

/**
 * /proc/<pid>/stat of this process and every live process below it (the sandbox host, a native driver), so the
 * CPU kbench spends in children it has not reaped yet counts as its own; undefined without /proc.
 */
function ownProcessStats(): string[] | undefined {
  const self = readOrUndefined('/proc/self/stat');
  if (!self) return undefined;
  const stats = new Map<number, string>();
  for (const entry of readdirOrEmpty('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readOrUndefined(`/proc/${entry}/stat`);
    if (stat) stats.set(Number(entry), stat);
  }
  const parentOf = (stat: string) => Number(statFields(stat)[1]);
  const mine = new Set([process.pid]);
  // a child's pid may be below its parent's (pids wrap), so repeat until no process joins
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, stat] of stats)
      if (!mine.has(pid) && mine.has(parentOf(stat))) {
        mine.add(pid);
        grew = true;
      }
  }
  return [self, ...[...mine].filter((pid) => pid !== process.pid).map((pid) => stats.get(pid)!)];
}

function readdirOrEmpty(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** The fields of a /proc/<pid>/stat line after "pid (comm) ", from the state on (proc(5): field 3 is index 0). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** A snapshot from what a Linux host shows: read here by loadSnapshot, or printed by a probe on another host. */
export function snapshotFrom(raw: { loadAvg1: number; cpus: number; procStat?: string; ownProcStats?: string[]; curFreqKhz?: string; fallbackMhz?: number }): LoadSnapshot {
  const snapshot: LoadSnapshot = { at: new Date().toISOString(), loadAvg1: raw.loadAvg1, cpus: raw.cpus };
  // "cpu  user nice system idle iowait irq softirq steal ...", in clock ticks since boot (proc(5))
  const line = raw.procStat?.split('\n').find((l) => l.startsWith('cpu '));
  if (line) {
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    snapshot.totalTicks = ticks.reduce((a, b) => a + b, 0);
    snapshot.stealTicks = ticks[7] ?? 0;
    snapshot.idleTicks = ticks[3] + (ticks[4] ?? 0);
  }
  // utime stime cutime cstime (proc(5) fields 14–17): each process's own CPU and that of its reaped children
  const own = raw.ownProcStats?.flatMap((stat) => statFields(stat).slice(11, 15).map(Number));
  if (own?.length && own.every(Number.isFinite)) snapshot.ownTicks = own.reduce((a, b) => a + b, 0);
  const khz = Number(raw.curFreqKhz);
  const mhz = khz > 0 ? khz / 1000 : raw.fallbackMhz;
  if (mhz) snapshot.mhz = mhz;
  return snapshot;
}
