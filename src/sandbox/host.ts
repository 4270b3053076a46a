// The sandbox host: a separate Node process started with --no-liftoff (so timings are of TurboFan code and the
// compiler's own WASM is not affected), running each job in a fresh worker with a wall-clock timeout.
import { Worker } from 'node:worker_threads';
import type { SandboxJob, SandboxReply } from './jobs.js';

interface Request {
  id: number;
  job: SandboxJob;
  timeoutMs: number;
}

const send = (msg: { id: number; reply: SandboxReply }) => process.send!(msg);

process.on('message', ({ id, job, timeoutMs }: Request) => {
  let done = false;
  const finish = (reply: SandboxReply) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    send({ id, reply });
  };
  const worker = new Worker(new URL('./worker.js', import.meta.url), {
    workerData: job,
    resourceLimits: { maxOldGenerationSizeMb: 1024 },
  });
  // worker.terminate() stops even a WASM infinite loop (~13 ms on Node 20).
  const timer = setTimeout(() => {
    finish({ kind: 'check', verdict: { status: 'timeout', ms: timeoutMs, during: job.kind } });
    void worker.terminate();
  }, timeoutMs);
  worker.once('message', (reply: SandboxReply) => {
    finish(reply);
    void worker.terminate();
  });
  // The job's own code catches what the candidate raises: anything escaping the worker is kbench's failure.
  worker.once('error', (e) => finish({ kind: 'check', verdict: { status: 'harness-error', message: `sandbox worker: ${e.name}: ${e.message}` } }));
  worker.once('exit', (code) => finish({ kind: 'check', verdict: { status: 'harness-error', message: `sandbox worker exited with code ${code} without an answer` } }));
});
process.on('disconnect', () => process.exit(0));
// Ctrl-C reaches the whole process group; the screen decides what stops (it kills this host at once). Dying here
// first would turn the job in progress into a 'sandbox host died' trap of the candidate.
process.on('SIGINT', () => {});
