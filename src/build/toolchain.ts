// Which C → WASM compiler to use. First found wins: emcc (EMSDK or PATH) → system clang with wasm-ld and a WASI
// sysroot → @yowasp/clang (an npm dependency, always there). `--cc` forces one.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UsageError } from '../errors.js';

export const TOOLCHAIN_KINDS = ['emcc', 'clang', 'yowasp'] as const;
export type ToolchainKind = (typeof TOOLCHAIN_KINDS)[number];

export interface Toolchain {
  kind: ToolchainKind;
  /** human-readable, e.g. "clang 14.0.6 (/usr/bin/clang, sysroot /usr/share/wasi-sysroot)" */
  description: string;
  /** absolute path of the driver (not for yowasp) */
  command?: string;
  /** WASI sysroot passed as --sysroot (unset when the compiler finds its libc by itself) */
  sysroot?: string;
  version: string;
}

export interface ToolchainProbe {
  kind: ToolchainKind;
  found: Toolchain | null;
  /** why it is not usable */
  reason?: string;
}

function which(cmd: string, extraDirs: string[] = []): string | null {
  for (const dir of [...extraDirs, ...(process.env.PATH ?? '').split(delimiter)]) {
    const path = join(dir, cmd);
    if (dir && existsSync(path)) return path;
  }
  return null;
}

function versionOf(command: string): string {
  try {
    const out = execFileSync(command, ['--version'], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return /(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? out.split('\n')[0];
  } catch {
    return '';
  }
}

function probeEmcc(): ToolchainProbe {
  const emsdk = process.env.EMSDK ? [join(process.env.EMSDK, 'upstream', 'emscripten')] : [];
  const command = which('emcc', emsdk);
  if (!command) return { kind: 'emcc', found: null, reason: 'emcc not on PATH and EMSDK not set' };
  const version = versionOf(command);
  if (!version) return { kind: 'emcc', found: null, reason: `${command} --version failed` };
  return { kind: 'emcc', found: { kind: 'emcc', command, version, description: `emcc ${version} (${command})` } };
}

const SYSROOTS = ['/usr/share/wasi-sysroot', '/opt/wasi-sdk/share/wasi-sysroot'];

function probeClang(): ToolchainProbe {
  const command = which('clang');
  if (!command) return { kind: 'clang', found: null, reason: 'clang not on PATH' };
  const version = versionOf(command);
  const major = version.split('.')[0];
  if (!which('wasm-ld') && !which(`wasm-ld-${major}`)) return { kind: 'clang', found: null, reason: 'wasm-ld not found (install lld)' };
  // Debian's wasi-libc installs multiarch (/usr/include/wasm32-wasi), which its clang finds without --sysroot.
  const debianMultiarch = existsSync('/usr/include/wasm32-wasi/stdlib.h');
  const sysroot = process.env.WASI_SYSROOT ?? SYSROOTS.find((s) => existsSync(join(s, 'include')));
  if (!sysroot && !debianMultiarch) return { kind: 'clang', found: null, reason: 'no WASI libc (install wasi-libc or set WASI_SYSROOT)' };
  return {
    kind: 'clang',
    found: { kind: 'clang', command, version, sysroot, description: `clang ${version} (${command}, WASI libc ${sysroot ?? '/usr/include/wasm32-wasi'})` },
  };
}

function probeYowasp(): ToolchainProbe {
  return { kind: 'yowasp', found: { kind: 'yowasp', version: '22.1.0', description: '@yowasp/clang 22.1.0 (npm, runs in WASM)' } };
}

export function probeToolchains(): ToolchainProbe[] {
  return [probeEmcc(), probeClang(), probeYowasp()];
}

/** Unless one is forced, the first found toolchain that has what `prefer` asks (any found one when none has). */
export function resolveToolchain(forced?: string, prefer?: (t: Toolchain) => boolean): Toolchain {
  if (forced !== undefined && !(TOOLCHAIN_KINDS as readonly string[]).includes(forced))
    throw new UsageError(`--cc: unknown compiler '${forced}' (choose ${TOOLCHAIN_KINDS.join(', ')})`);
  const probes = probeToolchains();
  if (forced) {
    const probe = probes.find((p) => p.kind === forced)!;
    if (!probe.found) throw new UsageError(`--cc ${forced}: not usable here: ${probe.reason}`);
    return probe.found;
  }
  const found = probes.flatMap((p) => (p.found ? [p.found] : []));
  return (prefer && found.find(prefer)) || found[0];
}
