// The hosts a native run can use: those of kbench.config.json plus the implicit ones ('local' always; the
// qemu-aarch64 emulator under its own name), and the build settings each one gets.
import { arch as nodeArch } from 'node:os';
import { HostConfig, loadConfig } from '../config/config.js';
import { UsageError } from '../errors.js';

export const LOCAL_HOST = 'local';
export const QEMU_HOST = 'qemu-aarch64';

function localArch(): HostConfig['arch'] {
  return nodeArch() === 'arm64' ? 'aarch64' : 'x86_64';
}

/** The implicit 'local' host: this machine, its own architecture. */
export function localHost(): HostConfig {
  return HostConfig.parse({ name: LOCAL_HOST, executor: 'local', arch: localArch() });
}

/** Hosts of the config file, with the implicit ones unless the file declares a host of the same name. */
export function listHosts(workDir: string): HostConfig[] {
  const declared = loadConfig(workDir).hosts;
  const implicit = [
    localHost(),
    HostConfig.parse({ name: QEMU_HOST, executor: 'qemu-aarch64', arch: 'aarch64' }),
  ].filter((h) => !declared.some((d) => d.name === h.name));
  return [...implicit, ...declared];
}

export function findHosts(workDir: string, names: string[]): HostConfig[] {
  const hosts = listHosts(workDir);
  return names.map((name) => {
    const host = hosts.find((h) => h.name === name);
    if (!host) throw new UsageError(`unknown host '${name}' (known: ${hosts.map((h) => h.name).join(', ')}; declare it in kbench.config.json)`);
    return host;
  });
}

/** How a host builds: compiler, flags, CPU features the flags need, and a runner prefix (the emulator). */
export interface NativeToolchain {
  cc: string;
  cflags: string[];
  /** cpuinfo flag names the build needs; the host refuses the run when one is missing */
  needFeatures: string[];
  runner: string;
  objcopy: string;
  /** timings from an emulator: never a verdict */
  emulated: boolean;
}

export function toolchainFor(host: HostConfig): NativeToolchain {
  if (host.executor === 'qemu-aarch64') {
    return {
      cc: host.cc ?? 'aarch64-linux-gnu-gcc',
      cflags: host.cflags ?? ['-O3', '-march=armv8-a'],
      needFeatures: [],
      runner: 'qemu-aarch64 -L /usr/aarch64-linux-gnu',
      objcopy: 'aarch64-linux-gnu-objcopy',
      emulated: true,
    };
  }
  const cc = host.cc ?? 'cc';
  if (host.arch === 'aarch64') {
    // NEON (asimd) is part of armv8-a, so there is nothing to refuse on.
    return { cc, cflags: host.cflags ?? ['-O3', '-mcpu=native'], needFeatures: [], runner: '', objcopy: 'objcopy', emulated: false };
  }
  const cflags = host.cflags ?? (host.marchNative ? ['-O3', '-march=native'] : ['-O3', '-mavx2', '-mfma']);
  return { cc, cflags, needFeatures: x86FeaturesNeeded(cflags), runner: '', objcopy: 'objcopy', emulated: false };
}

/** cpuinfo flags the x86 build flags make the compiler use (-march=native needs none: it targets the CPU at hand). */
function x86FeaturesNeeded(cflags: string[]): string[] {
  const needed = new Set<string>();
  for (const flag of cflags) {
    const m = /^-m(avx2|fma|f16c|bmi2|avx512[a-z]+)$/.exec(flag);
    if (m) needed.add(m[1]);
    if (/^-march=(haswell|broadwell|skylake|znver\d|x86-64-v[34])$/.test(flag)) ['avx2', 'fma'].forEach((f) => needed.add(f));
  }
  return [...needed];
}
