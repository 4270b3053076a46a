// The host pre-check of `kbench run` and `kbench promote`: an unreachable host is said once, before any run
// folder is made, instead of one identical failure row per candidate.
import type { HostConfig } from '../../config/config.js';
import { probeHost } from '../../remote/probe.js';
import { EXIT } from '../../errors.js';

/** Exit status when a named host cannot be reached (README "Exit codes"): the command did not run there. */
export const EXIT_HOST_UNREACHABLE = EXIT.host;

/** One line per host that does not answer, e.g. "host x86a (ssh my-x86) is unreachable: ssh: connect … refused". */
export async function unreachableHosts(hosts: HostConfig[]): Promise<string[]> {
  const probes = await Promise.all(hosts.map((h) => probeHost(h)));
  return probes.flatMap((p, i) => {
    if (p.reachable) return [];
    const h = hosts[i];
    const via = h.executor === 'ssh' ? ` (ssh ${h.ssh ?? h.name})` : '';
    const why = (p.error ?? '').split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? 'no answer';
    return [`host ${h.name}${via} is unreachable: ${why}; check it with \`kbench hosts check ${h.name}\``];
  });
}
