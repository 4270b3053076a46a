// One kernel variant instantiated in the sandbox: its own imported memory with a hard maximum, no other imports,
// buffers laid out between guard zones, and 32-bit argument slots for the WASM runtime's kb_call / kb_batch
// (wasm/kb_wasm.c).
import type { Env } from '../spec/expr.js';
import type { KernelSpec } from '../spec/schema.js';
import { bufferLayouts, scalarValues, type BufferLayout } from '../check/inputs.js';
import { PROTOCOL } from '../check/rules.js';
import { firstDifference } from '../check/compare.js';

const PAGE = 65536;
const ALIGN = 64;
export const GUARD_BYTES = PROTOCOL.guardBytes;
const CANARY = 0xcb;
/** Bytes past a layout's end compared after every call (a store 1 KiB past the last buffer lands well inside). */
const TAIL_MARGIN_BYTES = 64 << 10;

interface GuardZones {
  /** canary bytes by distance from the data, walking away from it */
  before: Uint8Array;
  after: Uint8Array;
  /** `before` as it lies in memory (the byte next to the data last) */
  beforeInMemory: Uint8Array;
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
  return { before, after, beforeInMemory: before.slice().reverse() };
}

/** Distance from the data of the nearest guard byte (from `edge`, one step at a time) not holding its canary, or -1. */
function nearestBroken(heap: Uint8Array, edge: number, step: 1 | -1, zone: Uint8Array): number {
  for (let i = 0; i < zone.length; i++) if (heap[edge + step * i] !== zone[i]) return i;
  return -1;
}

interface Exports {
  kb_call(args: number): void;
  kb_batch(sets: number, nsets: number, reps: number, outElements: number): void;
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

/**
 * The module with a custom section naming timing group `group` appended: other wire bytes, so V8 compiles it anew
 * (it shares compiled code between modules of identical bytes) and each group's code lands elsewhere. Custom sections
 * do not change what a module does.
 */
export function withGroupSection(bytes: Uint8Array, group: number): Uint8Array {
  const name = new TextEncoder().encode('kbench.group');
  const section = Uint8Array.of(0, name.length + 2, name.length, ...name, group & 0x7f);
  const out = new Uint8Array(bytes.length + section.length);
  out.set(bytes);
  out.set(section, bytes.length);
  return out;
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
  /** address of the element counts of the outputs, for kb_batch's one poisoned element per call */
  private outElements = 0;
  /**
   * What every byte from the heap base to the end of memory should hold: host writes go to both, so that after a
   * call everything but the called set's outputs can be compared with it (a stray write anywhere shows).
   */
  private snapshot = new Uint8Array(0);
  private watching = false;
  /** the snapshot past the layout's region was last compared equal to memory (strayWrite 'whole') */
  private tailChecked = false;
  /** outputs were poisoned in memory only (poisonEveryOutput): the snapshot of what the sets own is stale */
  private ownedStale = false;
  private heapBase = 0;

  constructor(module: WebAssembly.Module, maxMemoryBytes: number) {
    // 64 pages covers the module's own declared minimum (the glue links with a 4 MiB initial memory).
    this.memory = new WebAssembly.Memory({ initial: 64, maximum: Math.max(64, Math.floor(maxMemoryBytes / PAGE)) });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.exports = instance.exports as unknown as Exports;
  }

  get bytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  /**
   * Places every buffer of the shape `sets` times, each between guard zones, `padding` more bytes (a multiple of 64)
   * before each buffer's zones: timing over several paddings samples over the buffers' placement relative to each
   * other and to cache sets. Returns false when it does not fit.
   */
  layout(spec: KernelSpec, env: Env, sets: number, padding = 0): boolean {
    const layouts = bufferLayouts(spec, env);
    let cursor = align(this.exports.kb_heap_base() + padding + GUARD_BYTES, ALIGN);
    this.buffers = layouts.map((b) => ({ ...b, addresses: [] }));
    for (let s = 0; s < sets; s++)
      for (const b of this.buffers) {
        b.addresses.push(cursor);
        cursor = align(cursor + b.bytes + 2 * GUARD_BYTES + padding, ALIGN);
      }
    const scalars = scalarValues(spec, env);
    this.threaded = !!spec.threads;
    this.slots = spec.params.length + (spec.threads ? 2 : 0);
    this.sets = sets;
    this.argsBase = cursor;
    this.outElements = cursor + sets * this.slots * 4;
    const end = this.outElements + this.outputs().length * 4;
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
    this.outputs().forEach((b, i) => view.setUint32(this.outElements + 4 * i, b.elements, true));
    this.heapBase = this.exports.kb_heap_base();
    this.watching = false;
    return true;
  }

  /**
   * Starts watching all memory from the heap base for stray writes (see strayWrite); call after layout. Only the
   * layout's region is copied when the memory has not grown: the rest held its snapshot at the last full check.
   */
  watch(): void {
    const live = this.bytes.subarray(this.heapBase);
    if (this.tailChecked && this.snapshot.length === live.length) this.snapshot.set(live.subarray(0, this.headEnd()));
    else this.snapshot = live.slice();
    this.watching = true;
    this.ownedStale = false;
    this.tailChecked = false;
  }

  /**
   * End of the region compared after every call (relative to the heap base): the layout and a margin past it. The
   * memory beyond, often megabytes left from larger shapes, is compared by strayWrite(…, 'whole') once a shape is
   * done: nothing rewrites it in between, so a stray write there stays visible until then.
   */
  private headEnd(): number {
    return Math.min(this.snapshot.length, this.outElements + this.outputs().length * 4 + TAIL_MARGIN_BYTES - this.heapBase);
  }

  private hostFill(byte: number, start: number, end: number): void {
    this.bytes.fill(byte, start, end);
    if (this.watching) this.snapshot.fill(byte, start - this.heapBase, end - this.heapBase);
  }

  private buffer(name: string): Placed {
    return this.buffers.find((b) => b.name === name)!;
  }

  write(set: number, name: string, data: Uint8Array): void {
    const at = this.buffer(name).addresses[set];
    this.bytes.set(data, at);
    if (this.watching) this.snapshot.set(data, at - this.heapBase);
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
    for (const b of this.buffers) if (b.role !== 'in') this.hostFill(byte, b.addresses[set], b.addresses[set] + b.bytes);
  }

  /**
   * poisonOutputs of every set, in memory only (the timed loop's poisoning before each batch: the snapshot would double
   * its cost). The only stray check it allows is strayWrite('all'), which compares nothing any set owns and then takes
   * it from memory; strayWrite(set) would compare other sets' outputs with a stale snapshot, and refuses until then.
   */
  poisonEveryOutput(byte = 0xff): void {
    const heap = this.bytes;
    for (const b of this.buffers) if (b.role !== 'in') for (const at of b.addresses) heap.fill(byte, at, at + b.bytes);
    if (this.watching) this.ownedStale = true;
  }

  /**
   * The first byte from the heap base to the end of memory (guards, other argument sets, argument slots, the heap
   * past the buffers) that changed since the host last wrote it, except the outputs and scratch of `set` ('all': of
   * every set), attributed to the nearest buffer of that set; null when there is none. The module's data and stack,
   * below the heap base, change legitimately and are not compared. What the set owns is then taken as the new state.
   */
  strayWrite(set: number | 'all', extent: 'layout' | 'whole' = 'layout'): GuardViolation | null {
    if (!this.watching) throw new Error('strayWrite before watch()');
    if (this.ownedStale && set !== 'all') throw new Error(`strayWrite(${set}) after poisonEveryOutput: only strayWrite('all') may follow it`);
    const until = extent === 'whole' ? this.snapshot.length : this.headEnd();
    const live = this.bytes;
    const owned = this.buffers
      .filter((b) => b.role !== 'in')
      .flatMap((b) => (set === 'all' ? b.addresses : [b.addresses[set]]).map((a) => [a - this.heapBase, a - this.heapBase + b.bytes]))
      .sort((x, y) => x[0] - y[0]);
    let from = 0;
    for (const [start, end] of [...owned, [until, until]]) {
      const got = Buffer.from(live.buffer, this.heapBase + from, start - from);
      const want = Buffer.from(this.snapshot.buffer, from, start - from);
      if (!got.equals(want)) return this.attribute(this.heapBase + from + firstDifference(got, want), set === 'all' ? 0 : set);
      from = end;
    }
    for (const [start, end] of owned) this.snapshot.set(live.subarray(this.heapBase + start, this.heapBase + end), start);
    if (set === 'all') this.ownedStale = false;
    if (extent === 'whole') this.tailChecked = true;
    return null;
  }

  private attribute(address: number, set: number): GuardViolation {
    let best: GuardViolation = { buffer: this.buffers[0].name, side: 'after', offset: Infinity };
    for (const b of this.buffers) {
      const start = b.addresses[set];
      const v: GuardViolation =
        address < start ? { buffer: b.name, side: 'before', offset: start - 1 - address } : { buffer: b.name, side: 'after', offset: address - start - b.bytes };
      if (v.offset >= 0 && v.offset < best.offset) best = v;
    }
    return best;
  }

  outputs(): BufferLayout[] {
    return this.buffers.filter((b) => b.role === 'out');
  }

  /** Every guard byte (of argument set `set`, or of all) must still hold its canary. */
  checkGuards(set?: number): GuardViolation | null {
    const heap = this.bytes;
    for (const [index, b] of this.buffers.entries())
      for (const start of set === undefined ? b.addresses : [b.addresses[set]]) {
        // memcmp first: intact guards are the rule
        if (
          Buffer.from(heap.buffer, start - GUARD_BYTES, GUARD_BYTES).equals(this.zones[index].beforeInMemory) &&
          Buffer.from(heap.buffer, start + b.bytes, GUARD_BYTES).equals(this.zones[index].after)
        )
          continue;
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

  /** `reps` rounds over every argument set, with (ith, nth) = (0, 1): the timed loop (one output element poisoned before every call). */
  batch(reps: number): void {
    for (let s = 0; s < this.sets; s++) this.setThread(s, 0, 1);
    this.exports.kb_batch(this.argsBase, this.sets, reps, this.outElements);
  }

  private setThread(set: number, ith: number, nth: number): void {
    if (!this.threaded) return;
    const view = new DataView(this.memory.buffer);
    const base = this.argsBase + set * this.slots * 4;
    for (const [at, value] of [[base + (this.slots - 2) * 4, ith], [base + (this.slots - 1) * 4, nth]]) {
      view.setInt32(at, value, true);
      if (this.watching) this.snapshot.set(new Uint8Array(this.memory.buffer, at, 4), at - this.heapBase);
    }
  }
}
