// One interface for every way of running a bundle: on this machine (local, qemu-aarch64) or over ssh.
import { spawn, type ChildProcess } from 'node:child_process';
import type { HostConfig } from '../config/config.js';
import { AbortError, HostError } from '../errors.js';

export { HostError };

export interface ExecResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface ExecOptions {
  /** whole command, including shipping the bundle */
  timeoutMs: number;
  signal?: AbortSignal;
  /** output as it arrives */
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
}

export interface Executor {
  readonly host: HostConfig;
  /**
   * Makes `bundleDir` the working directory of `command` (sh) on the host, runs it, and brings the host's copy of
   * `collect` (a path inside the bundle) back into `bundleDir`. Throws HostError when the host, not the command,
   * failed; AbortError when cancelled (after stopping everything it started, on the host too).
   */
  runBundle(bundleDir: string, command: string, collect: string, opts: ExecOptions): Promise<ExecResult>;
  /** A shell command on the host, no bundle (probes). */
  exec(command: string, opts: ExecOptions): Promise<ExecResult>;
  /**
   * Copies `entries` (names inside `localDir`) into `remoteDir` on the host, creating it; for files that outlive a
   * run (a source tree, a model, build inputs). Throws HostError when the host or the copy failed.
   */
  upload(localDir: string, entries: string[], remoteDir: string, opts: ExecOptions): Promise<void>;
  /** Closes shared connections (the ssh ControlMaster). */
  close(): Promise<void>;
}


export interface Spawned {
  /** kills everything the spawn started (process groups) */
  kill(): void;
  done: Promise<ExecResult>;
}

export interface SpawnOptions {
  cwd?: string;
  onOutput?: ExecOptions['onOutput'];
}

/**
 * Spawns a process in its own process group (so a kill reaches its children), collecting and streaming its
 * output. The promise resolves on exit.
 */
export function spawnCollect(file: string, args: string[], options: SpawnOptions = {}): Spawned {
  const started = Date.now();
  const child = spawn(file, args, { cwd: options.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
    options.onOutput?.('stdout', text);
  });
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
    options.onOutput?.('stderr', text);
  });
  const done = new Promise<ExecResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode, signal) => resolve({ exitCode, signal, stdout, stderr, durationMs: Date.now() - started }));
  });
  return { kill: () => killGroup(child), done };
}

/**
 * `producer | consumer` without a shell: bytes (a tar stream) flow from one to the other. The result carries the
 * status of `primary` (the ssh side, whose 255 means the host failed) unless it succeeded and the other did not.
 */
export function spawnPipe(producer: [string, string[]], consumer: [string, string[]], primary: 'producer' | 'consumer'): Spawned {
  const started = Date.now();
  const from = spawn(producer[0], producer[1], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const to = spawn(consumer[0], consumer[1], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  from.stdout!.pipe(to.stdin!);
  // A consumer that dies early must not crash us with EPIPE, nor leave the producer blocked on a full pipe. One that
  // is done (tar stops at the archive's end marker) may exit before the producer has: the rest is drained, and the
  // producer left to end by itself (killed, it would turn a complete transfer into a failure).
  to.stdin!.on('error', () => undefined);
  to.on('close', (code) => {
    if (code !== 0) return killGroup(from);
    from.stdout!.unpipe(to.stdin!);
    from.stdout!.resume();
  });
  let stderr = '';
  let stdout = '';
  for (const c of [from, to]) c.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  to.stdout!.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  const exited = (c: ChildProcess) =>
    new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      c.on('error', reject);
      c.on('close', (exitCode, signal) => resolve({ exitCode, signal }));
    });
  const done = Promise.all([exited(from), exited(to)]).then(([p, c]) => {
    const [first, second] = primary === 'producer' ? [p, c] : [c, p];
    return { ...(first.exitCode === 0 ? second : first), stdout, stderr, durationMs: Date.now() - started };
  });
  return {
    kill: () => {
      killGroup(from);
      killGroup(to);
    },
    done,
  };
}

export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Waits for a spawned process under a deadline and an abort signal. On either, kills it and rejects (HostError
 * for the deadline, AbortError for the signal) after `onStop` (e.g. remote cleanup) ran.
 */
export async function supervise(spawned: Spawned, host: string, what: string, opts: ExecOptions, onStop?: () => Promise<void>): Promise<ExecResult> {
  let stopped: Error | undefined;
  const stop = (error: Error) => {
    if (stopped) return;
    stopped = error;
    spawned.kill();
  };
  const timer = setTimeout(() => stop(new HostError(host, `${what} timed out after ${Math.round(opts.timeoutMs / 1000)} s`)), opts.timeoutMs);
  const onAbort = () => stop(new AbortError());
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort);
  try {
    const result = await spawned.done;
    if (stopped) {
      await onStop?.().catch(() => undefined);
      throw stopped;
    }
    return result;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
