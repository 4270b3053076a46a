// Where the end-to-end steps run: this machine or a host over ssh, seen through its Executor. Every step of
// `kbench e2e` (the cmake builds, the graft, the candidate's compile, the logits tool, llama-bench) is a shell
// command on the host, and every file a step needs is shipped there first, so local and ssh share one code path;
// what differs is only where the host keeps its build cache.
import { outputTail } from '../format.js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostConfig } from '../config/config.js';
import { HostError, UsageError } from '../errors.js';
import type { ExecResult, Executor } from '../remote/executor.js';
import { localHost, toolchainFor, type NativeToolchain } from '../remote/hosts.js';
import { createExecutor } from '../remote/native.js';
import { shellQuote } from '../remote/ssh.js';
import { cacheDir } from '../upstream/source.js';

export interface E2eHost {
  config: HostConfig;
  executor: Executor;
  /** the e2e build cache on the host: <kbench cache>/upstream/e2e here, <remoteDir>/kbench-cache/e2e over ssh */
  root: string;
  local: boolean;
  toolchain: NativeToolchain;
  /** `<cmd> --version` first lines, asked once */
  versions: Map<string, Promise<string>>;
}

/** The emulator cannot time llama.cpp, so it is refused (exit 2). */
export function checkE2eHost(config: HostConfig): void {
  if (config.executor === 'qemu-aarch64') throw new UsageError(`--on ${config.name}: e2e times llama.cpp natively; ${config.name} is an emulator (use local or an ssh host)`);
}

/** The host's e2e side. */
export function e2eHost(config: HostConfig = localHost(), executor: Executor = createExecutor(config)): E2eHost {
  checkE2eHost(config);
  const local = config.executor === 'local';
  const root = local ? join(cacheDir(), 'upstream', 'e2e') : `${config.remoteDir.replace(/\/+$/, '')}/kbench-cache/e2e`;
  return { config, executor, root, local, toolchain: toolchainFor(config), versions: new Map() };
}

let localE2eHost: E2eHost | undefined;
/** This machine (shared: its executor holds nothing open). */
export function localE2e(): E2eHost {
  return (localE2eHost ??= e2eHost());
}

export const q = shellQuote;

/** A host path joined from parts (the host is POSIX whatever this machine is). */
export function hostPath(...parts: string[]): string {
  return parts.join('/').replace(/\/+/g, '/');
}

export interface StepOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A shell command on the host; only the host failing throws (HostError). Builds may take long: 1 h by default. */
export function runOn(h: E2eHost, command: string, opts: StepOptions = {}): Promise<ExecResult> {
  return h.executor.exec(command, { timeoutMs: opts.timeoutMs ?? 3_600_000, signal: opts.signal });
}

/** The last lines a failed step wrote. */

/** A step that must succeed: its stdout, or a HostError naming the host, the step and its last output. */
export async function sh(h: E2eHost, command: string, what: string, opts: StepOptions = {}): Promise<string> {
  const r = await runOn(h, command, opts);
  if (r.exitCode !== 0) throw new HostError(h.config.name, `${what} failed (status ${r.exitCode ?? r.signal}):\n${outputTail(r)}`);
  return r.stdout;
}

/** A text file on the host, or null when it is not there. */
export async function readOn(h: E2eHost, path: string): Promise<string | null> {
  const r = await runOn(h, `cat -- ${q(path)}`, { timeoutMs: 120_000 });
  return r.exitCode === 0 ? r.stdout : null;
}

export async function existsOn(h: E2eHost, path: string): Promise<boolean> {
  return (await runOn(h, `test -e ${q(path)}`, { timeoutMs: 60_000 })).exitCode === 0;
}

/** Writes `files` (name → contents) into `dir` on the host. */
export async function putOn(h: E2eHost, dir: string, files: Record<string, string | Uint8Array>): Promise<void> {
  const staging = mkdtempSync(join(tmpdir(), 'kbench-e2e-put-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(staging, name), text);
    await h.executor.upload(staging, Object.keys(files), dir, { timeoutMs: 600_000 });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Ships `entries` of `localDir` to `dest` on the host once: into a fresh folder beside it, then renamed, so a copy cut
 * off half-way is never taken for a whole one and two runs shipping at once do not mix.
 */
export async function shipOnce(h: E2eHost, localDir: string, entries: string[], dest: string, marker: string): Promise<void> {
  if (await existsOn(h, hostPath(dest, marker))) return;
  const part = `${dest}.part-${randomBytes(4).toString('hex')}`;
  await h.executor.upload(localDir, entries, part, { timeoutMs: 3_600_000 });
  await sh(h, `if [ -e ${q(hostPath(dest, marker))} ]; then rm -rf ${q(part)}; else rm -rf ${q(dest)} && mv ${q(part)} ${q(dest)}; fi`, `placing ${dest}`);
}

/** The first line of `cmd --version` on the host, or 'missing' (as toolVersion says it on this machine). */
export function versionOn(h: E2eHost, cmd: string): Promise<string> {
  let v = h.versions.get(cmd);
  if (!v) {
    v = sh(h, `v=$(${q(cmd)} --version 2>/dev/null) && printf '%s\\n' "$v" | head -n 1 || echo missing`, `asking ${cmd} its version`).then((s) => s.trim() || 'missing');
    h.versions.set(cmd, v);
  }
  return v;
}

export interface HostFacts {
  hostname: string;
  /** as Node names it (x64, arm64), which the build options and cache keys use */
  arch: string;
}

/** The host's name and architecture. */
export async function factsOf(h: E2eHost): Promise<HostFacts> {
  const [hostname, machine] = (await sh(h, 'uname -n; uname -m', 'asking the host its name')).trim().split('\n');
  const arch = ({ x86_64: 'x64', amd64: 'x64', aarch64: 'arm64', arm64: 'arm64' } as Record<string, string>)[machine] ?? machine;
  return { hostname, arch };
}
