// Messages between the screen, the sandbox host process and its job workers.
import type { KernelSpec } from '../spec/schema.js';
import type { CheckVerdict } from '../check/verdict.js';
import type { ShapeSamples } from './sampler.js';
import type { SpeedOfLight } from '../measure/speed-of-light.js';

interface JobBase {
  spec: KernelSpec;
  reference: Uint8Array;
  candidate: Uint8Array;
  seed: number;
  maxMemoryBytes: number;
}

export type SandboxJob =
  | (JobBase & { kind: 'check' })
  | (JobBase & {
      kind: 'bench';
      baseline: Uint8Array;
      pairs: number;
      /** groups of freshly compiled baseline and candidate instances the pairs are split over (see sampleShapes) */
      groups: number;
      sampleMs: number;
      /** the speed-of-light probe, and the footprints (bytes) to measure it at after the samples */
      probe: Uint8Array;
      lightFootprints: number[];
    });

export type SandboxReply = { kind: 'check'; verdict: CheckVerdict } | { kind: 'bench'; shapes: ShapeSamples[]; light: SpeedOfLight[] };
