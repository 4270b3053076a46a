// What a host has: reachability, compiler, CPU features, cores (`kbench hosts` and `kbench hosts check`).
import type { HostConfig } from '../config/config.js';
import { HostError } from './executor.js';
import { toolchainFor } from './hosts.js';
import { createExecutor } from './native.js';

export interface HostProbe {
  host: string;
  executor: HostConfig['executor'];
  arch: HostConfig['arch'];
  reachable: boolean;
  /** why not reachable, or why the build flags cannot run there */
  error?: string;
  latencyMs: number;
  /** set by a full check */
  machine?: string;
  cores?: number;
  compiler?: string;
  features?: { avx2: boolean; fma: boolean; avx512f: boolean; neon: boolean };
  /** CPU features the host's build flags need but the CPU lacks (runs there are refused) */
  missingFeatures?: string[];
}

function probeScript(cc: string, runner: string): string {
  return [
    'echo "machine=$(uname -m)"',
    'echo "cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null)"',
    `echo "compiler=$(${cc} --version 2>/dev/null | head -n 1)"`,
    `if [ -r /proc/cpuinfo ] && [ -z "${runner}" ]; then echo "flags=$(grep -m1 -E '^(flags|Features)[[:space:]]*:' /proc/cpuinfo | cut -d: -f2)"; fi`,
    `echo "macros=$(${cc} ${runner ? '-march=armv8-a' : '-march=native'} -dM -E - </dev/null 2>/dev/null | grep -o -E '__(AVX2|FMA|AVX512F|ARM_NEON)__' | tr '\\n' ' ')"`,
    runner ? `echo "runner=$(${runner.split(' ')[0]} --version 2>/dev/null | head -n 1)"` : 'true',
  ].join('; ');
}

function parse(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]),
  );
}

/** Reachability only (`full` false), or compiler, features and cores too. Never throws for a host problem. */
export async function probeHost(host: HostConfig, { full = false, timeoutMs = 20_000, env = process.env }: { full?: boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<HostProbe> {
  const toolchain = toolchainFor(host);
  const executor = createExecutor(host, env);
  const started = Date.now();
  const base = { host: host.name, executor: host.executor, arch: host.arch };
  try {
    const run = await executor.exec(full ? probeScript(toolchain.cc, toolchain.runner) : 'true', { timeoutMs });
    const latencyMs = Date.now() - started;
    if (!full) return { ...base, reachable: run.exitCode === 0, latencyMs, ...(run.exitCode === 0 ? {} : { error: run.stderr.trim() }) };
    const facts = parse(run.stdout);
    const flags = ` ${facts.flags ?? ''} ${(facts.macros ?? '').replace(/__/g, ' ').toLowerCase().replace('arm_neon', 'asimd')} `;
    const has = (f: string) => flags.includes(` ${f} `);
    const features = { avx2: has('avx2'), fma: has('fma'), avx512f: has('avx512f'), neon: has('asimd') || host.arch === 'aarch64' };
    const missingFeatures = toolchain.needFeatures.filter((f) => !has(f));
    const compiler = facts.compiler || undefined;
    const problems = [
      ...(compiler ? [] : [`no C compiler '${toolchain.cc}'`]),
      ...(toolchain.runner && !facts.runner ? [`no emulator '${toolchain.runner.split(' ')[0]}'`] : []),
      ...(missingFeatures.length ? [`CPU lacks ${missingFeatures.join(', ')} (needed by ${toolchain.cflags.join(' ')})`] : []),
    ];
    return {
      ...base,
      reachable: true,
      latencyMs,
      machine: toolchain.runner ? 'aarch64 (emulated)' : facts.machine,
      cores: Number(facts.cores) || undefined,
      compiler,
      features,
      missingFeatures,
      ...(problems.length ? { error: problems.join('; ') } : {}),
    };
  } catch (e) {
    if (!(e instanceof HostError)) throw e;
    return { ...base, reachable: false, error: e.reason, latencyMs: Date.now() - started };
  } finally {
    await executor.close();
  }
}
