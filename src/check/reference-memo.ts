// What a job computes from the spec, the reference and the seed alone (inputs, their perturbed copies, the
// reference's outputs on them) is the same for every candidate of a kernel screened with that seed. The sandbox
// worker serves a session's jobs in turn and keeps it from one job to the next, one kernel and seed at a time.
// Entries are never modified after they are made: their users copy them into instances or compare against them.
import { createHash } from 'node:crypto';
import type { KernelSpec } from '../spec/schema.js';

export class ReferenceMemo {
  private key = '';
  private readonly entries = new Map<string, unknown>();

  /** Starts over unless this job has the spec, reference build and seed of the last one. */
  use(spec: KernelSpec, reference: Uint8Array, seed: number): this {
    const key = createHash('sha256').update(JSON.stringify(spec)).update(reference).update(`\0${seed}`).digest('hex');
    if (key !== this.key) {
      this.entries.clear();
      this.key = key;
    }
    return this;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** The entry `id`, made now if it is not there (a `make` that throws leaves nothing behind). */
  get<T>(id: string, make: () => T): T {
    if (this.entries.has(id)) return this.entries.get(id) as T;
    const value = make();
    this.entries.set(id, value);
    return value;
  }
}
