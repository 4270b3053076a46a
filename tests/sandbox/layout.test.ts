// Where KernelInstance.layout puts buffers and their guard zones, read back from a real module's memory: every
// buffer of every argument set 64-byte aligned, between guard zones (PROTOCOL.guardBytes) that lie above the heap
// base and overlap nothing, each zone's canaries its own, and the memory just past the layout compared after
// every call (the tail margin).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { WasmCompiler } from '../../src/build/compiler.js';
import { resolveToolchain } from '../../src/build/toolchain.js';
import { GUARD_BYTES, KernelInstance } from '../../src/sandbox/instance.js';
import type { KernelSpec } from '../../src/spec/schema.js';
import { tempDir } from '../helpers/fixtures.js';

// element sizes 1, 2, 1 and 4 and lengths that are rarely multiples of the alignment
const spec: KernelSpec = {
  name: 'layout_probe',
  description: 'buffers of every element size',
  function: 'layout_probe',
  params: [
    { name: 'a', kind: 'buffer', dtype: 'u8', length: 'n', role: 'in' },
    { name: 'h', kind: 'buffer', dtype: 'f16', length: 'n+1', role: 'in' },
    { name: 's', kind: 'buffer', dtype: 'i8', length: '3', role: 'scratch' },
    { name: 'y', kind: 'buffer', dtype: 'f32', length: 'n', role: 'out' },
    { name: 'n', kind: 'scalar', type: 'i32', value: 'n' },
  ],
  shapes: { check: [{ n: 1 }], bench: [{ n: 1 }] },
  vary: {},
  inputs: { a: { kind: 'constant', value: 0 }, h: { kind: 'constant', value: 0 } },
  distributions: {},
  tolerance: { nmse: 0, atol: 0, rtol: 0 },
  cost: { bytes: 'n', flops: 'n' },
  trials: 1,
};
const NAMES = ['a', 'h', 's', 'y'];

let module: WebAssembly.Module;
let heapBase: number;

beforeAll(async () => {
  const compiler = new WasmCompiler(resolveToolchain('yowasp'), { cacheDir: join(tempDir(), 'cache') });
  const r = await compiler.compile(spec, 'void layout_probe(const uint8_t *a, const uint16_t *h, int8_t *s, float *y, int n) { (void)a, (void)h, (void)s, (void)y, (void)n; }', 'probe.c');
  await compiler.close();
  if (!r.ok) throw new Error(r.diagnostic);
  module = new WebAssembly.Module(r.wasm as Uint8Array<ArrayBuffer>);
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 64 });
  heapBase = (new WebAssembly.Instance(module, { env: { memory } }).exports.kb_heap_base as () => number)();
});

interface Placed {
  name: string;
  set: number;
  start: number;
  bytes: number;
}

function placed(inst: KernelInstance, sets: number): Placed[] {
  return Array.from({ length: sets }, (_, set) => NAMES.map((name) => ({ name, set, start: inst.view(set, name).byteOffset, bytes: inst.view(set, name).length }))).flat();
}

const CASES = [1, 3, 63, 64, 65, 4097].flatMap((n) => [1, 3].map((sets) => ({ n, sets })));

describe('the sandbox layout', () => {
  it.each(CASES)('n=$n, $sets set(s): every buffer aligned, between guard zones above the heap base, none overlapping', ({ n, sets }) => {
    const inst = new KernelInstance(module, 64 << 20);
    expect(inst.layout(spec, { n }, sets)).toBe(true);
    const buffers = placed(inst, sets);
    expect(buffers.map((b) => b.bytes)).toEqual(Array(sets).fill([n, 2 * (n + 1), 3, 4 * n]).flat());
    const zones = buffers.map((b) => [b.start - GUARD_BYTES, b.start + b.bytes + GUARD_BYTES]).sort((x, y) => x[0] - y[0]);
    for (const b of buffers) expect(b.start % 64, `${b.name}[${b.set}] at ${b.start}`).toBe(0);
    expect(zones[0][0]).toBeGreaterThanOrEqual(heapBase);
    for (let i = 1; i < zones.length; i++) expect(zones[i][0], `zone ${i} starts inside zone ${i - 1}`).toBeGreaterThanOrEqual(zones[i - 1][1]);
    expect(inst.checkGuards()).toBeNull();
  });

  it.each(CASES)('n=$n, $sets set(s): each zone holds canaries of its own, and a byte changed at either end of it is named', ({ n, sets }) => {
    const inst = new KernelInstance(module, 64 << 20);
    inst.layout(spec, { n }, sets);
    const heap = inst.bytes;
    const zones = placed(inst, sets).flatMap((b) => [
      { ...b, side: 'before' as const, at: (offset: number) => b.start - 1 - offset },
      { ...b, side: 'after' as const, at: (offset: number) => b.start + b.bytes + offset },
    ]);
    // canaries differ between buffers and sides (an overrun from one buffer's end into another's must not match)
    const patterns = new Set(zones.map((z) => Array.from({ length: GUARD_BYTES }, (_, i) => heap[z.at(i)]).join()));
    expect(patterns.size).toBe(zones.length / sets);
    for (const z of zones)
      for (const offset of [0, GUARD_BYTES - 1]) {
        heap[z.at(offset)] ^= 0x01;
        expect(inst.checkGuards(z.set), `${z.name}[${z.set}] ${z.side} +${offset}`).toEqual({ buffer: z.name, side: z.side, offset });
        heap[z.at(offset)] ^= 0x01;
      }
    expect(inst.checkGuards()).toBeNull();
  });

  it('compares the memory just past the layout after every call (the tail margin), and farther only per shape', () => {
    const inst = new KernelInstance(module, 64 << 20);
    inst.layout(spec, { n: 65 }, 2);
    inst.watch();
    const end = Math.max(...placed(inst, 2).map((b) => b.start + b.bytes + GUARD_BYTES));
    // past the last guard zone lie the argument slots and element counts; a store 1 KiB and 32 KiB past it is caught
    for (const past of [1024, 32 << 10]) {
      inst.bytes[end + past] ^= 0xff;
      expect(inst.strayWrite(0), `${past} bytes past the layout`).not.toBeNull();
      inst.bytes[end + past] ^= 0xff;
      expect(inst.strayWrite(0)).toBeNull();
    }
    // 1 MiB past it: left to the once-per-shape whole-memory compare
    inst.bytes[end + (1 << 20)] ^= 0xff;
    expect(inst.strayWrite(0)).toBeNull();
    expect(inst.strayWrite(0, 'whole')).not.toBeNull();
  });
});
