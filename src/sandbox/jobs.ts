// Messages between the screen, the sandbox host process and its job workers.
import type { KernelSpec } from '../spec/schema.js';
import type { CheckVerdict } from '../check/verdict.js';
import type { ShapeSamples } from '../measure/sampler.js';

interface JobBase {
  spec: KernelSpec;
  reference: Uint8Array;
  candidate: Uint8Array;
  seed: number;
  maxMemoryBytes: number;
}

export type SandboxJob =
  | (JobBase & { kind: 'check' })
  | (JobBase & { kind: 'bench'; baseline: Uint8Array; probe: Uint8Array; pairs: number; sampleMs: number });

export type SandboxReply = { kind: 'check'; verdict: CheckVerdict } | { kind: 'bench'; shapes: ShapeSamples[] };
