// One kernel variant instantiated in the sandbox: its own imported memory with a hard maximum, no other imports,
// buffers laid out between guard zones, and 32-bit argument slots for the generated kb_call / kb_batch glue.
import type { Env } from '../spec/expr.js';
import type { KernelSpec } from '../spec/schema.js';
import { bufferLayouts, scalarValues, type BufferLayout } from '../check/inputs.js';
import { PROTOCOL } from '../check/rules.js';

const PAGE = 65536;
const ALIGN = 64;
export const GUARD_BYTES = PROTOCOL.guardBytes;
const CANARY = 0xcb;

interface GuardZones {
  /** canary bytes by distance from the data, walking away from it */
  before: Uint8Array;
  after: Uint8Array;
}

/**
 * The guard zones of buffer number `index`: they differ between buffers and sides, since an overrun that copies past
 * the end of one buffer into the end of another would otherwise write the other's canary unseen.
 */
function guardZones(index: number): GuardZones {
  const before = new Uint8Array(GUARD_BYTES);
  const after = new Uint8Array(GUARD_BYTES);
  for (let i = 0; i < GUARD_BYTES; i++) {
    before[i] = CANARY ^ ((index * 0x3b) & 0xff) ^ ((i * 29) & 0xff);
    after[i] = before[i] ^ 0x55;
  }
  return { before, after };
}

/** Distance from the data of the nearest guard byte (from `edge`, one step at a time) not holding its canary, or -1. */
function nearestBroken(heap: Uint8Array, edge: number, step: 1 | -1, zone: Uint8Array): number {
  for (let i = 0; i < zone.length; i++) if (heap[edge + step * i] !== zone[i]) return i;
  return -1;
}

interface Exports {
  kb_call(args: number): void;
  kb_batch(sets: number, nsets: number, reps: number): void;
  kb_heap_base(): number;
}

export interface GuardViolation {
  buffer: string;
  side: 'before' | 'after';
  /** bytes before the data start (before) or past the data end (after) */
  offset: number;
}

interface Placed extends BufferLayout {
  /** byte address of the data, per argument set */
  addresses: number[];
}

const align = (x: number, a: number) => Math.ceil(x / a) * a;

export class KernelInstance {
  private readonly memory: WebAssembly.Memory;
  private readonly exports: Exports;
  private buffers: Placed[] = [];
  private zones: GuardZones[] = [];
  private argsBase = 0;
  private slots = 0;
  private sets = 0;
  private threaded = false;

  constructor(module: WebAssembly.Module, maxMemoryBytes: number) {
    // 64 pages covers the module's own declared minimum (the glue links with a 4 MiB initial memory).
    this.memory = new WebAssembly.Memory({ initial: 64, maximum: Math.max(64, Math.floor(maxMemoryBytes / PAGE)) });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.exports = instance.exports as unknown as Exports;
  }

  get bytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  /** Places every buffer of the shape `sets` times, each between guard zones; returns false when it does not fit. */
  layout(spec: KernelSpec, env: Env, sets: number): boolean {
    const layouts = bufferLayouts(spec, env);
    let cursor = align(this.exports.kb_heap_base() + GUARD_BYTES, ALIGN);
    this.buffers = layouts.map((b) => ({ ...b, addresses: [] }));
    for (let s = 0; s < sets; s++)
      for (const b of this.buffers) {
        b.addresses.push(cursor);
        cursor = align(cursor + b.bytes + 2 * GUARD_BYTES, ALIGN);
      }
    const scalars = scalarValues(spec, env);
    this.threaded = !!spec.threads;
    this.slots = spec.params.length + (spec.threads ? 2 : 0);
    this.sets = sets;
    this.argsBase = cursor;
    const end = cursor + sets * this.slots * 4;
    const needPages = Math.ceil(end / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (needPages > 0) {
      try {
        this.memory.grow(needPages);
      } catch {
        return false;
      }
    }
    const heap = this.bytes;
    heap.fill(CANARY, align(this.exports.kb_heap_base(), 8), this.argsBase);
    this.zones = this.buffers.map((_, index) => guardZones(index));
    this.buffers.forEach((b, index) => {
      for (const start of b.addresses)
        for (let i = 0; i < GUARD_BYTES; i++) {
          heap[start - 1 - i] = this.zones[index].before[i];
          heap[start + b.bytes + i] = this.zones[index].after[i];
        }
    });
    const view = new DataView(this.memory.buffer);
    for (let s = 0; s < sets; s++) {
      let slot = this.argsBase + s * this.slots * 4;
      let bufferIndex = 0;
      for (const p of spec.params) {
        if (p.kind === 'buffer') view.setUint32(slot, this.buffers[bufferIndex++].addresses[s], true);
        else {
          const v = scalars.find((x) => x.name === p.name)!.value;
          if (p.type === 'f32') view.setFloat32(slot, v, true);
          else view.setInt32(slot, v, true);
        }
        slot += 4;
      }
    }
    return true;
  }

  private buffer(name: string): Placed {
    return this.buffers.find((b) => b.name === name)!;
  }

  write(set: number, name: string, data: Uint8Array): void {
    this.bytes.set(data, this.buffer(name).addresses[set]);
  }

  /** A live view of a buffer; take it anew after every call (the module may grow and so move its memory). */
  view(set: number, name: string): Uint8Array {
    const b = this.buffer(name);
    return new Uint8Array(this.memory.buffer, b.addresses[set], b.bytes);
  }

  read(set: number, name: string): Uint8Array {
    const b = this.buffer(name);
    return this.bytes.slice(b.addresses[set], b.addresses[set] + b.bytes);
  }

  /**
   * Fills outputs with a poison byte (0xFF is NaN for floats) so a buffer left untouched cannot pass as stale; scratch
   * buffers too, so nothing computed in one call can be read back in the next.
   */
  poisonOutputs(set: number, byte = 0xff): void {
    for (const b of this.buffers) if (b.role !== 'in') this.bytes.fill(byte, b.addresses[set], b.addresses[set] + b.bytes);
  }

  outputs(): BufferLayout[] {
    return this.buffers.filter((b) => b.role === 'out');
  }

  /** Every guard byte must still hold its canary. */
  checkGuards(): GuardViolation | null {
    const heap = this.bytes;
    for (const [index, b] of this.buffers.entries())
      for (const start of b.addresses) {
        const before = nearestBroken(heap, start - 1, -1, this.zones[index].before);
        if (before >= 0) return { buffer: b.name, side: 'before', offset: before };
        const after = nearestBroken(heap, start + b.bytes, 1, this.zones[index].after);
        if (after >= 0) return { buffer: b.name, side: 'after', offset: after };
      }
    return null;
  }

  call(set: number, ith = 0, nth = 1): void {
    this.setThread(set, ith, nth);
    this.exports.kb_call(this.argsBase + set * this.slots * 4);
  }

  /** `reps` rounds over every argument set, with (ith, nth) = (0, 1): the timed loop. */
  batch(reps: number): void {
    for (let s = 0; s < this.sets; s++) this.setThread(s, 0, 1);
    this.exports.kb_batch(this.argsBase, this.sets, reps);
  }

  private setThread(set: number, ith: number, nth: number): void {
    if (!this.threaded) return;
    const view = new DataView(this.memory.buffer);
    const base = this.argsBase + set * this.slots * 4;
    view.setInt32(base + (this.slots - 2) * 4, ith, true);
    view.setInt32(base + (this.slots - 1) * 4, nth, true);
  }
}
