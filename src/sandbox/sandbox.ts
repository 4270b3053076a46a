// The screen's handle on the sandbox host process: one per run, restarted if it dies.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SandboxJob, SandboxReply } from './jobs.js';
import { compiledUrl } from '../compiled.js';
import { AbortError } from '../spec/errors.js';

export class Sandbox {
  private child?: ChildProcess;
  private nextId = 0;
  private pending = new Map<number, (reply: SandboxReply) => void>();

  private host(): ChildProcess {
    if (this.child && this.child.exitCode === null && this.child.connected) return this.child;
    const child = fork(fileURLToPath(compiledUrl('./host.js', import.meta.url)), [], {
      execArgv: ['--no-liftoff'],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
    child.on('message', ({ id, reply }: { id: number; reply: SandboxReply }) => {
      this.pending.get(id)?.(reply);
      this.pending.delete(id);
    });
    child.on('exit', (code, signal) => {
      // Whatever was running in a dead host is a trap of that job, not a crash of the run.
      for (const resolve of this.pending.values())
        resolve({ kind: 'check', verdict: { status: 'trap', message: `sandbox host died (${signal ?? code}) ${stderr.trim().slice(-300)}` } });
      this.pending.clear();
    });
    this.child = child;
    return child;
  }

  /** Runs a job; an abort kills the host process (a new one starts for the next job) and rejects with AbortError. */
  run(job: SandboxJob, timeoutMs: number, signal?: AbortSignal): Promise<SandboxReply> {
    if (signal?.aborted) return Promise.reject(new AbortError());
    const id = this.nextId++;
    const child = this.host();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.pending.delete(id);
        this.close();
        reject(new AbortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, (reply) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(reply);
      });
      child.send({ id, job, timeoutMs });
    });
  }

  close(): void {
    this.child?.disconnect();
    this.child?.kill();
    this.child = undefined;
  }
}
