// `kbench hosts` (list + reachability) and `kbench hosts check` (compiler, CPU features, cores).
import type { Command } from 'commander';
import { findHosts, listHosts } from '../../remote/hosts.js';
import { probeHost, type HostProbe } from '../../remote/probe.js';
import { table, jsonOutput } from '../format.js';
import { exits } from '../exit.js';
import { EXIT } from '../../errors.js';

function yesNo(v: boolean | undefined): string {
  return v === undefined ? '—' : v ? 'yes' : 'no';
}

export function register(program: Command): void {
  const hosts = program
    .command('hosts')
    .description('native hosts (kbench.config.json + local + qemu-aarch64) and whether they answer')
    .addHelpText(
      'after',
      [
        '',
        'Exit status: 0, also when a host does not answer (the table says so); `hosts check` exits 3 when one does not.',
        '',
        'Examples:',
        '  kbench hosts',
        '  kbench hosts --json',
        '  kbench hosts check x86a arm1                    compiler, CPU features and cores',
        '  kbench hosts up c7i --arch x86 --dry-run        a SkyPilot host (see kbench hosts up --help)',
      ].join('\n'),
    )
    .action(async (_o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const all = listHosts(process.cwd());
      const probes = await Promise.all(all.map((h) => probeHost(h)));
      if (g.json) return void process.stdout.write(jsonOutput('hosts', { hosts: all.map((h, i) => ({ ...h, probe: probes[i] })) }));
      const rows = all.map((h, i) => [
        h.name,
        h.executor,
        h.arch,
        h.ssh ?? (h.executor === 'ssh' ? h.name : ''),
        probes[i].reachable ? `yes (${probes[i].latencyMs} ms)` : 'no',
        h.usdPerHour ? `$${h.usdPerHour}/h` : '',
        probes[i].error ?? '',
      ]);
      process.stdout.write(table(['host', 'executor', 'arch', 'ssh', 'reachable', 'cost', 'problem'], rows));
    });

  hosts
    .command('check [names...]')
    .description('connect to each host and report its compiler, CPU features (avx2/fma/neon) and cores')
    .addHelpText(
      'after',
      [
        '',
        'Exit status 3 when a host does not answer or lacks a CPU feature its build flags need (1 is kept for kbench failing).',
        '',
        'Examples:',
        '  kbench hosts check                              every host',
        '  kbench hosts check x86a --json',
      ].join('\n'),
    )
    .action(exits(async (names: string[], _o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const selected = names.length ? findHosts(process.cwd(), names) : listHosts(process.cwd());
      const probes: HostProbe[] = await Promise.all(selected.map((h) => probeHost(h, { full: true })));
      if (g.json) return void process.stdout.write(jsonOutput('hosts-check', { hosts: probes }));
      const rows = probes.map((p) => [
        p.host,
        p.reachable ? (p.machine ?? '') : 'unreachable',
        p.cores ? String(p.cores) : '—',
        yesNo(p.features?.avx2),
        yesNo(p.features?.fma),
        yesNo(p.features?.neon),
        (p.compiler ?? '').slice(0, 40),
        p.error ?? 'ok',
      ]);
      process.stdout.write(table(['host', 'machine', 'cores', 'avx2', 'fma', 'neon', 'compiler', 'status'], rows));
      // a host problem is not a kbench failure (1): it has its own status, as in run and promote
      return probes.some((p) => p.error) ? EXIT.host : EXIT.ok;
    }));
}
