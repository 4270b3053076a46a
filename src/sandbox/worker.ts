// Sandbox jobs run one after another in a worker thread (terminated on timeout) inside the sandbox host process.
// WASM modules get their own capped memory and no other imports; nothing of the harness is reachable from them.
import { parentPort } from 'node:worker_threads';
import { KernelInstance, withGroupSection } from './instance.js';
import { runCheck } from './check-protocol.js';
import { ReferenceMemo } from '../check/reference-memo.js';
import { thrownVerdict } from '../check/verdict.js';
import { sampleShapes } from './sampler.js';
import { measureInSandbox } from './speed-of-light-probe.js';
import type { SandboxJob, SandboxReply } from './jobs.js';

function instantiate(bytes: Uint8Array, maxMemoryBytes: number, group = 0): KernelInstance {
  return new KernelInstance(new WebAssembly.Module((group ? withGroupSection(bytes, group) : bytes) as Uint8Array<ArrayBuffer>), maxMemoryBytes);
}

/** kept from job to job: the next candidate of a kernel reuses its inputs and reference outputs */
const memo = new ReferenceMemo();

function run(job: SandboxJob): SandboxReply {
  try {
    const ref = instantiate(job.reference, job.maxMemoryBytes);
    const cand = instantiate(job.candidate, job.maxMemoryBytes);
    if (job.kind === 'check') return { kind: 'check', verdict: runCheck(job.spec, cand, ref, job.seed, memo.use(job.spec, job.reference, job.seed)) };
    const groups = Array.from({ length: job.groups }, (_, g) => ({
      base: instantiate(job.baseline, job.maxMemoryBytes, g),
      cand: g === 0 ? cand : instantiate(job.candidate, job.maxMemoryBytes, g),
    }));
    const result = sampleShapes(job.spec, groups, ref, { pairs: job.pairs, sampleMs: job.sampleMs, seed: job.seed, memo: memo.use(job.spec, job.reference, job.seed) });
    if (!result.ok) return { kind: 'check', verdict: result.verdict };
    const light = job.lightFootprints.length ? measureInSandbox(instantiate(job.probe, job.maxMemoryBytes), job.lightFootprints) : [];
    return { kind: 'bench', shapes: result.shapes, light };
  } catch (e) {
    return { kind: 'check', verdict: thrownVerdict(e) };
  }
}

parentPort!.on('message', (job: SandboxJob) => parentPort!.postMessage(run(job)));
