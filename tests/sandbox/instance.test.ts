// The sandbox instance's own defences, on a real build: kb_batch poisons one output element before every timed call
// in the native driver's sequence, and strayWrite sees a store anywhere in memory the called set does not own.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasmCompiler } from '../../src/build/compiler.js';
import { resolveToolchain } from '../../src/build/toolchain.js';
import { KernelInstance, withGroupSection } from '../../src/sandbox/instance.js';
import { loadKernel } from '../../src/spec/suite.js';
import { FIXTURE_KERNELS, tempDir } from '../helpers/fixtures.js';

const kernel = loadKernel(join(FIXTURE_KERNELS, 'scale_rows'));
let compiler: WasmCompiler;
let module: WebAssembly.Module;
let wasm: Uint8Array;

beforeAll(async () => {
  compiler = new WasmCompiler(resolveToolchain('yowasp'), { cacheDir: join(tempDir(), 'cache') });
  // writes nothing: what the batch leaves in y is the glue's poison alone; a store far past y on request (rows = 99)
  const r = await compiler.compile(
    kernel.spec,
    'void scale_rows(const float *x, float *y, int n, int rows, int ith, int nth) { if (rows == 99) y[n * rows + 4096] = 1; (void)x; (void)ith; (void)nth; }',
    'idle.c',
  );
  if (!r.ok) throw new Error(r.diagnostic);
  wasm = r.wasm;
  module = new WebAssembly.Module(r.wasm as Uint8Array<ArrayBuffer>);
});
afterAll(() => compiler.close());

/** the native driver's poison_one index: ((call * 0x9E3779B97F4A7C15) mod 2^64 >> 17) mod elements */
const nativeIndex = (call: number, elements: number) => Number((((BigInt(call) * 0x9e3779b97f4a7c15n) & (2n ** 64n - 1n)) >> 17n) % BigInt(elements));

describe('the sandbox instance', () => {
  it('poisons one output element before every timed call, in the native driver sequence', () => {
    const inst = new KernelInstance(module, 64 << 20);
    const env = { n: 37, rows: 3 };
    expect(inst.layout(kernel.spec, env, 2)).toBe(true);
    for (const set of [0, 1]) inst.poisonOutputs(set, 0);
    inst.batch(7);
    const elements = env.n * env.rows;
    for (const set of [0, 1]) {
      const y = new Uint32Array(inst.read(set, 'y').slice().buffer);
      const poisoned = [...y.keys()].filter((i) => y[i] === 0xffffffff);
      // calls alternate over the two argument sets: call c goes to set c % 2
      const expected = [...new Set(Array.from({ length: 14 }, (_, c) => c).filter((c) => c % 2 === set).map((c) => nativeIndex(c, elements)))].sort((a, b) => a - b);
      expect(poisoned).toEqual(expected);
      expect(y.every((v, i) => v === 0 || poisoned.includes(i))).toBe(true);
    }
  });

  it('finds a store far past every guard zone, attributed to the nearest buffer of the called set', () => {
    const inst = new KernelInstance(module, 64 << 20);
    const env = { n: 5, rows: 99 };
    expect(inst.layout(kernel.spec, env, 2)).toBe(true);
    inst.watch();
    inst.call(0);
    expect(inst.checkGuards()).toBeNull();
    // the first byte of the stored 1.0f that differs from what was there (its low bytes are zero)
    expect(inst.strayWrite(0)).toEqual({ buffer: 'y', side: 'after', offset: 4096 * 4 + 2 });
  });

  it('takes the called set\'s own outputs and the host\'s writes as legitimate', () => {
    const inst = new KernelInstance(module, 64 << 20);
    const env = { n: 5, rows: 2 };
    expect(inst.layout(kernel.spec, env, 2)).toBe(true);
    inst.watch();
    inst.write(1, 'x', new Uint8Array(40).fill(7));
    inst.poisonOutputs(1, 0xa5);
    inst.view(0, 'y').fill(3);
    expect(inst.strayWrite(0)).toBeNull();
    inst.view(1, 'y')[0] = 1;
    expect(inst.strayWrite(0)).toMatchObject({ side: 'after' });
  });

  it("poisons every set's outputs in memory only before a timed batch: strayWrite('all') still sees a store elsewhere, strayWrite(set) waits for it", () => {
    const inst = new KernelInstance(module, 64 << 20);
    expect(inst.layout(kernel.spec, { n: 5, rows: 99 }, 2)).toBe(true);
    inst.watch();
    inst.poisonEveryOutput();
    expect([0, 1].every((set) => inst.view(set, 'y').every((b) => b === 0xff))).toBe(true);
    // the snapshot still holds the outputs as they were: comparing them for one set would blame the poison
    expect(() => inst.strayWrite(1)).toThrow(/poisonEveryOutput/);
    inst.batch(1); // stores far past y on every call (rows = 99)
    expect(inst.strayWrite('all', 'whole')).toMatchObject({ buffer: 'y', side: 'after' });

    const honest = new KernelInstance(module, 64 << 20);
    expect(honest.layout(kernel.spec, { n: 5, rows: 2 }, 2)).toBe(true);
    honest.watch();
    honest.poisonEveryOutput();
    honest.batch(3);
    expect(honest.strayWrite('all', 'whole')).toBeNull();
    // strayWrite('all') took the outputs from memory: one set may be checked again
    honest.view(1, 'y')[0] = 1;
    expect(honest.strayWrite(0)).toMatchObject({ buffer: 'y', side: 'after' });
  });

  it('moves every buffer by the layout padding, and still sees a store into the padding', () => {
    const env = { n: 5, rows: 2 };
    const addresses = (padding: number) => {
      const inst = new KernelInstance(module, 64 << 20);
      expect(inst.layout(kernel.spec, env, 2, padding)).toBe(true);
      return [0, 1].flatMap((set) => ['x', 'y'].map((name) => inst.view(set, name).byteOffset));
    };
    const plain = addresses(0);
    // the k-th buffer placed lies k + 1 paddings further on
    expect(addresses(640)).toEqual(plain.map((a, k) => a + 640 * (k + 1)));
    const inst = new KernelInstance(module, 64 << 20);
    inst.layout(kernel.spec, env, 2, 640);
    inst.watch();
    const y = inst.view(0, 'y');
    inst.bytes[y.byteOffset + y.length + 300] = 1; // past y's guard zone, inside the padding
    expect(inst.strayWrite(0)).toEqual({ buffer: 'y', side: 'after', offset: 300 });
  });

  it('a group section gives the same module other wire bytes (so V8 compiles it anew)', () => {
    const grouped = withGroupSection(wasm, 2);
    expect(grouped.subarray(0, wasm.length)).toEqual(wasm);
    expect(grouped.length).toBeGreaterThan(wasm.length);
    const again = new WebAssembly.Module(grouped as Uint8Array<ArrayBuffer>);
    expect(WebAssembly.Module.customSections(again, 'kbench.group').map((b) => [...new Uint8Array(b)])).toEqual([[2]]);
    expect(WebAssembly.Module.exports(again)).toEqual(WebAssembly.Module.exports(module));
  });
});
