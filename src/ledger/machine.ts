// The machine a run happened on, recorded in its run-start event (reports and the gbench context read it).
import { arch, cpus, hostname, loadavg, platform } from 'node:os';

export function machineFacts(extra: Record<string, unknown> = {}): Record<string, unknown> {
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
    ...extra,
  };
}
