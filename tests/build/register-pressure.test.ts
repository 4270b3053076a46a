// The static count of float/vector values live around a module's innermost loops (src/build/register-pressure.ts):
// hand-built modules pin the reader (every immediate form, structured control flow, unreadable input) and the
// liveness; real builds of a register-blocked candidate pin what the screen flags.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loopPressure, registerBound } from '../../src/build/register-pressure.js';
import { WasmCompiler } from '../../src/build/compiler.js';
import { screenModel } from '../../src/build/screen-target.js';
import { resolveToolchain } from '../../src/build/toolchain.js';
import { loadKernel } from '../../src/spec/suite.js';
import { FIXTURE_KERNELS, FIXTURES, tempDir } from '../helpers/fixtures.js';

const uleb = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...uleb(n >>> 7)]);
function sleb(n: number): number[] {
  const b = n & 0x7f;
  const rest = n >> 7;
  return (rest === 0 && !(b & 0x40)) || (rest === -1 && b & 0x40) ? [b] : [b | 0x80, ...sleb(rest)];
}
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const [I32, F32, V128] = [0x7f, 0x7d, 0x7b];
const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const LOOP = [0x03, 0x40];
const END = 0x0b;
const V128_ZERO = simd(12, ...Array(16).fill(0));
const [F32X4_ADD, F32X4_SUB, F32X4_MUL] = [228, 229, 230];

/**
 * A module of functions (type 0: () → (), type 1: (i32) → ()) with a table and a memory, so that loads and
 * call_indirect validate: each function is its type, its local declarations ([count, type]) and its code.
 */
function module(functions: { type: 0 | 1; locals: [number, number][]; code: number[] }[], { validate = true } = {}): Uint8Array {
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...section(1, vec([[0x60, 0, 0], [0x60, 1, I32, 0]])),
    ...section(3, vec(functions.map((f) => [f.type]))),
    ...section(4, vec([[0x70, 0x00, 1]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(10, vec(functions.map((f) => {
      const body = [...vec(f.locals.map(([n, t]) => [...uleb(n), t])), ...f.code, END];
      return [...uleb(body.length), ...body];
    }))),
  ];
  const wasm = new Uint8Array(bytes);
  if (validate) new WebAssembly.Module(wasm); // the test's own encoding is valid WASM
  return wasm;
}

describe('the loop pressure of hand-built modules', () => {
  it('counts the accumulators and invariants a loop reads, not its temporaries nor what only the code after it reads', () => {
    // v128 locals 0-2 accumulators, 3 invariant, 4 a temporary, 5 read after the loop; f32 6 an accumulator; i32 7 the count
    const wasm = module([{
      type: 0,
      locals: [[6, V128], [1, F32], [1, I32]],
      code: [
        ...V128_ZERO, ...set(3),
        ...LOOP,
        ...[0x41, 0], ...simd(0, 4, 0), ...set(4),
        ...get(0), ...get(4), ...simd(F32X4_ADD), ...set(0),
        ...get(1), ...get(3), ...simd(F32X4_MUL), ...set(1),
        ...get(2), ...get(4), ...simd(F32X4_SUB), ...set(2),
        ...get(6), 0x43, 0, 0, 0x80, 0x3f, 0x92, ...set(6),
        ...get(7), 0x41, 1, 0x6b, 0x22, 7, 0x0d, 0,
        END,
        ...get(5), 0x1a,
      ],
    }]);
    expect(loopPressure(wasm)).toEqual({ status: 'ok', liveValues: 5, liveV128: 4, loops: 1 });
  });

  it('reads every immediate form inside a loop: SIMD constants and shuffles, lanes, memargs, 0xfc, br_table, call_indirect', () => {
    // local 0 the i32 parameter, 1 an accumulator, 2 an invariant, both read at the end of the loop. Immediates
    // hold `end` (0x0b), `loop` (0x03) and `unreachable` (0x00) bytes: a reader that skips too few ends the loop
    // early or makes its end unreachable, and the count changes.
    const wasm = module([{
      type: 1,
      locals: [[2, V128]],
      code: [
        ...LOOP,
        0x02, 0x40, ...get(0), 0x0e, ...vec([[1]]), 0, END, // br_table to the loop's header, by default past the block
        ...V128_ZERO, ...simd(12, ...Array(16).fill(END)), ...simd(13, ...Array(16).fill(0x03)), 0x1a, // v128.const, i8x16.shuffle
        ...V128_ZERO, ...simd(22, 11), 0x1a, ...V128_ZERO, ...simd(31, 0), 0x1a, // i8x16.extract_lane_u 11, f32x4.extract_lane 0
        0x41, 0, ...V128_ZERO, ...simd(86, 2, 0, 0), 0x1a, // v128.load32_lane 0
        0x41, 0, ...simd(92, 2, 0x80, END), 0x1a, // v128.load32_zero, a two-byte offset
        0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 11, 0, // memory.fill
        0x43, 0, 0, 0xc0, 0x3f, 0xfc, 0, 0x1a, // i32.trunc_sat_f32_s
        0x42, ...sleb(-300), 0x1a, 0x44, ...Array(8).fill(END), 0x1a, // i64.const, f64.const
        0x41, 0, 0x41, 0, 0x41, 1, 0x1c, ...vec([[I32]]), 0x1a, // typed select
        0x41, 0, 0x11, 0, 0, // call_indirect type 0, table 0
        0x02, 0x00, END, // a block typed by a type index
        ...get(1), ...get(2), ...simd(F32X4_ADD), ...set(1),
        ...get(0), 0x0d, 0,
        END,
      ],
    }]);
    expect(loopPressure(wasm)).toEqual({ status: 'ok', liveValues: 2, liveV128: 2, loops: 1 });
  });

  it("follows if/else: a value one branch leaves unwritten is live at the header, one both write is not", () => {
    const wasm = module([{
      type: 1,
      locals: [[2, V128]],
      code: [
        ...LOOP,
        ...get(0), 0x04, 0x40, ...V128_ZERO, ...set(1), ...V128_ZERO, ...set(2), 0x05, ...V128_ZERO, ...set(2), END,
        ...get(1), ...get(2), ...simd(F32X4_ADD), 0x1a,
        ...get(0), 0x0d, 0,
        END,
      ],
    }]);
    expect(loopPressure(wasm)).toMatchObject({ liveValues: 1 });
  });

  it('takes the innermost loop with the most values over every function, not an outer loop', () => {
    const carried = (n: number) => Array.from({ length: n }, (_, i) => [...get(i + 1), ...get(i + 1), ...simd(F32X4_ADD), ...set(i + 1)]).flat();
    const inner = (n: number) => [...LOOP, ...carried(n), ...get(0), 0x0d, 0, END];
    const wasm = module([
      { type: 1, locals: [[3, V128]], code: inner(3) },
      // the outer loop's own value (local 7) is not counted: only the innermost loop's 6
      { type: 1, locals: [[7, V128]], code: [...LOOP, ...inner(6), ...get(7), 0x1a, ...get(0), 0x0d, 0, END] },
    ]);
    expect(loopPressure(wasm)).toEqual({ status: 'ok', liveValues: 6, liveV128: 6, loops: 2 });
  });

  it('answers unknown, never throws, for an opcode it does not know, a truncated module or bytes that are no module', () => {
    const valid = module([{ type: 0, locals: [], code: [...LOOP, END] }]);
    const tryBlock = module([{ type: 0, locals: [], code: [...LOOP, 0x06, 0x40, END, END] }], { validate: false }); // legacy exception handling
    expect(loopPressure(tryBlock)).toEqual({ status: 'unknown', reason: 'unknown opcode 0x6' });
    expect(loopPressure(valid.slice(0, valid.length - 2))).toMatchObject({ status: 'unknown' });
    expect(loopPressure(new TextEncoder().encode('int main() {}'))).toEqual({ status: 'unknown', reason: 'not a WASM module' });
    expect(registerBound(tryBlock, valid, 'avx2', 'x64')).toBeUndefined();
  });
});

describe('the register bound of a real build', () => {
  const kernel = loadKernel(join(FIXTURE_KERNELS, 'row_sum'));
  const yowasp = resolveToolchain('yowasp');
  const model = screenModel('avx2', yowasp);
  const compiler = new WasmCompiler(yowasp, { cacheDir: join(tempDir(), 'cache'), flags: model.flags, intrinsics: model.intrinsics, branchlessMinMax: model.branchlessMinMax });
  afterAll(() => compiler.close());

  /** tests/fixtures/register-bound/blocked.c over `rows` rows at a time: 6 v128 per row in the avx2 screen */
  async function blocked(rows: number): Promise<Uint8Array> {
    const source = `#define ROWS ${rows}\n${readFileSync(join(FIXTURES, 'register-bound', 'blocked.c'), 'utf8')}`;
    const r = await compiler.compile(kernel.spec, source, `blocked${rows}.c`);
    if (!r.ok) throw new Error(r.diagnostic);
    return r.wasm;
  }

  it('flags 24 v128 accumulators (12 ymm natively) on x64 against a baseline with fewer, and not 12, nor on a host or target with room for them', async () => {
    const [two, four] = await Promise.all([blocked(2), blocked(4)]);
    expect(loopPressure(two)).toMatchObject({ status: 'ok', liveValues: 12, liveV128: 12 });
    expect(loopPressure(four)).toMatchObject({ status: 'ok', liveValues: 24, liveV128: 24 });
    expect(registerBound(four, two, 'avx2', 'x64')).toEqual({ liveValues: 24, baselineLiveValues: 12, allocatable: 15, nativeValues: 12, nativeRegisters: 16, registerName: 'ymm' });
    expect(registerBound(two, two, 'avx2', 'x64')).toBeUndefined();
    // timed against a baseline that spills as much, its ratio carries no handicap of its own
    expect(registerBound(four, four, 'avx2', 'x64')).toBeUndefined();
    // an unreadable baseline does not hide the candidate's bound
    expect(registerBound(four, new Uint8Array(8), 'avx2', 'x64')).toMatchObject({ liveValues: 24 });
    expect(registerBound(four, new Uint8Array(8), 'avx2', 'x64')).not.toHaveProperty('baselineLiveValues');
    // arm64's V8 allocates 28 vector registers; the wasm target has no other register file to fit them in
    expect(registerBound(four, two, 'neon', 'arm64')).toBeUndefined();
    expect(registerBound(four, two, 'wasm', 'x64')).toBeUndefined();
  }, 60_000);
});
