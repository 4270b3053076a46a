// The screen's handle on the sandbox host process: one per run, restarted if it dies.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SandboxJob, SandboxReply } from './jobs.js';
import { compiledUrl } from '../compiled.js';
import { AbortError } from '../errors.js';

/** How long past a job's own timeout the host may stay silent before it is taken for lost and replaced. */
const HOST_GRACE_MS = 10_000;
/** How long close() waits for the killed host to be reaped. */
const CLOSE_WAIT_MS = 2_000;

const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null && child.connected;

/**
 * V8 flags of the sandbox host: TurboFan only (timings are of optimized code), and relaxed SIMD, which the avx2 and
 * neon screen models use for FMA (tests/build/screen-target.test.ts checks its results under these flags).
 */
export const SANDBOX_EXEC_ARGV = ['--no-liftoff', '--experimental-wasm-relaxed-simd'];

export class Sandbox {
  private child?: ChildProcess;
  private nextId = 0;
  private pending = new Map<number, { child: ChildProcess; answer: (reply: SandboxReply) => void }>();

  /** `nodeFlags`: extra flags of the host process (scripts/bench-sandbox.mjs --profile passes --cpu-prof). */
  constructor(private readonly nodeFlags: string[] = []) {}

  private host(): ChildProcess {
    if (this.child && alive(this.child)) return this.child;
    const child = fork(fileURLToPath(compiledUrl('./host.js', import.meta.url)), [], {
      execArgv: [...SANDBOX_EXEC_ARGV, ...this.nodeFlags],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
    child.on('message', ({ id, reply }: { id: number; reply: SandboxReply }) => this.answer(id, reply));
    // A failed send is answered through send's callback or the exit below; without a listener it would crash the run.
    child.on('error', () => {});
    child.on('exit', (code, signal) => {
      // Whatever was running in a dead host is a trap of that job, not a crash of the run.
      for (const [id, p] of this.pending)
        if (p.child === child) this.answer(id, { kind: 'check', verdict: { status: 'trap', message: `sandbox host died (${signal ?? code}) ${stderr.trim().slice(-300)}` } });
    });
    this.child = child;
    return child;
  }

  private answer(id: number, reply: SandboxReply): void {
    const p = this.pending.get(id);
    this.pending.delete(id);
    p?.answer(reply);
  }

  /** Runs a job; an abort kills the host process (a new one starts for the next job) and rejects with AbortError. */
  run(job: SandboxJob, timeoutMs: number, signal?: AbortSignal): Promise<SandboxReply> {
    if (signal?.aborted) return Promise.reject(new AbortError());
    const id = this.nextId++;
    const child = this.host();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.pending.delete(id);
        clearTimeout(backstop);
        void this.close();
        reject(new AbortError());
      };
      // The host enforces the job's timeout itself; this only catches a host that stopped answering altogether.
      const backstop = setTimeout(() => {
        this.answer(id, { kind: 'check', verdict: { status: 'harness-error', message: `the sandbox host did not answer within ${timeoutMs + HOST_GRACE_MS} ms` } });
        if (this.child === child) void this.close();
      }, timeoutMs + HOST_GRACE_MS);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        child,
        answer: (reply) => {
          clearTimeout(backstop);
          signal?.removeEventListener('abort', onAbort);
          resolve(reply);
        },
      });
      child.send({ id, job, timeoutMs }, (err) => {
        if (err) this.answer(id, { kind: 'check', verdict: { status: 'harness-error', message: `the sandbox host could not be reached: ${err.message}` } });
      });
    });
  }

  /** Kills the host and waits (at most CLOSE_WAIT_MS) until it is gone; a host already dead or disconnected is fine. */
  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const waited = () => Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]).finally(() => clearTimeout(timer));
    // A host with extra flags (--cpu-prof) is let exit on its own first: a killed process writes no profile.
    if (this.nodeFlags.length && child.connected) {
      child.disconnect();
      await waited();
      if (child.exitCode !== null || child.signalCode !== null) return;
    }
    child.kill('SIGKILL');
    await waited();
  }
}
