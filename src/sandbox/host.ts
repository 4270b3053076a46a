// The sandbox host: a separate Node process started with --no-liftoff (so timings are of TurboFan code and the
// compiler's own WASM is not affected), running jobs in a worker with a wall-clock timeout. A worker serves job
// after job (a candidate's WASM reaches nothing but its own memory, so nothing a candidate did reaches the next job;
// the worker keeps only inputs and reference outputs, see ReferenceMemo),
// which spares every job a worker's start and a cold JIT; a worker that timed out or failed is never reused.
import { Worker } from 'node:worker_threads';
import type { SandboxJob, SandboxReply } from './jobs.js';

interface Request {
  id: number;
  job: SandboxJob;
  timeoutMs: number;
}

const send = (msg: { id: number; reply: SandboxReply }) => process.send!(msg);

function startWorker(): Worker {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: 1024 } });
  // a worker that fails while idle is dropped (the next job starts another); during a job, the job's handlers report it
  worker.on('error', () => {}).on('exit', () => idle === worker && (idle = undefined));
  return worker;
}
/** the worker for the next job: started ahead, so that even the first job does not wait for it */
let idle: Worker | undefined = startWorker();

process.on('message', ({ id, job, timeoutMs }: Request) => {
  const worker = idle ?? startWorker();
  idle = undefined;
  let done = false;
  const finish = (reply: SandboxReply, reusable: boolean) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    if (reusable && !idle) idle = worker;
    else void worker.terminate();
    send({ id, reply });
  };
  // worker.terminate() stops even a WASM infinite loop (~13 ms on Node 20).
  const timer = setTimeout(() => finish({ kind: 'check', verdict: { status: 'timeout', ms: timeoutMs, during: job.kind } }, false), timeoutMs);
  const onMessage = (reply: SandboxReply) => finish(reply, true);
  // The job's own code catches what the candidate raises: anything escaping the worker is kbench's failure.
  const onError = (e: Error) => finish({ kind: 'check', verdict: { status: 'harness-error', message: `sandbox worker: ${e.name}: ${e.message}` } }, false);
  const onExit = (code: number) => finish({ kind: 'check', verdict: { status: 'harness-error', message: `sandbox worker exited with code ${code} without an answer` } }, false);
  worker.once('message', onMessage).once('error', onError).once('exit', onExit);
  worker.postMessage(job);
});
process.on('disconnect', () => process.exit(0));
// Ctrl-C reaches the whole process group; the screen decides what stops (it kills this host at once). Dying here
// first would turn the job in progress into a 'sandbox host died' trap of the candidate.
process.on('SIGINT', () => {});
