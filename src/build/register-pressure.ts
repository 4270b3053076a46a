// How many float and vector values a built WASM module keeps live around its innermost loops: what V8 must hold in
// its floating-point registers (on x64 the 15 allocatable xmm registers, shared by f32, f64 and v128) for a loop
// to run without spilling. A register-blocked AVX2 kernel that fits 16 ymm natively needs twice as many v128 values
// in WASM, so its screen time carries spills its native build does not (docs/screen-schema.md, registerBound).
// A value counts when it is live at the loop header and the loop reads it: a loop-carried value (an accumulator) or
// a loop-invariant one (a splatted constant). Values only live through the loop are not counted: they need no
// register inside it. The reader decodes every instruction's immediates (MVP, SIMD and relaxed SIMD, the 0xfc and
// 0xfe prefixes); anything else makes the answer unknown, never an exception.
import type { ScreenTarget } from './screen-target.js';

/** The innermost loop with the most float/vector values live across its back edge, over every function of the module. */
export type LoopPressure =
  | { status: 'ok'; /** f32, f64 and v128 values */ liveValues: number; /** of which v128 */ liveV128: number; loops: number }
  | { status: 'unknown'; reason: string };

/**
 * A candidate whose loop keeps more float/vector values live than V8 has registers here (and more than the code it
 * is timed against), though the native target's register file holds them: its WASM time carries spills and reloads
 * every iteration that its native build does not, and its screen speedup understates it.
 */
export interface RegisterBound {
  /** f32, f64 and v128 values live across the back edge of its innermost loop with the most */
  liveValues: number;
  /** the same count for the code it was timed against (the baseline, or the agent's champion); absent if unreadable */
  baselineLiveValues?: number;
  /** floating-point registers V8 allocates on this host */
  allocatable: number;
  /** the candidate's values natively: a v128 pair is one ymm under avx2 */
  nativeValues: number;
  /** the native target's vector registers, named by `registerName` */
  nativeRegisters: number;
  registerName: string;
}

/** Floating-point registers V8's optimizing compiler allocates (Node 20: register-x64.h, register-arm64.h). */
export function allocatableFloatRegisters(arch: string = process.arch): number | undefined {
  if (arch === 'x64') return 15; // xmm0-xmm14; xmm15 is its scratch register
  if (arch === 'arm64') return 28; // d0-d14, d16-d28
  return undefined;
}

/** The native register files the screen targets model; the wasm target's is the engine's own. */
const NATIVE_REGISTERS: Partial<Record<ScreenTarget, { count: number; name: string; v128PerRegister: number }>> = {
  avx2: { count: 16, name: 'ymm', v128PerRegister: 2 },
  neon: { count: 32, name: 'q', v128PerRegister: 1 },
};

/**
 * The register bound of a built candidate timed against `baseline` under a screen target, or undefined when it has
 * none: its values fit V8's registers here, would not fit the native target's either, the baseline's worst loop
 * keeps as many live (both are timed under the same handicap), or the candidate could not be read. The loops
 * compared are each build's worst, whatever shapes run them.
 */
export function registerBound(candidate: Uint8Array, baseline: Uint8Array, target: ScreenTarget, arch: string = process.arch): RegisterBound | undefined {
  const native = NATIVE_REGISTERS[target];
  const allocatable = allocatableFloatRegisters(arch);
  if (!native || allocatable === undefined) return undefined;
  const pressure = loopPressure(candidate);
  if (pressure.status !== 'ok' || pressure.liveValues <= allocatable) return undefined;
  const nativeValues = Math.ceil(pressure.liveV128 / native.v128PerRegister) + pressure.liveValues - pressure.liveV128;
  if (nativeValues > native.count) return undefined;
  const reference = baselinePressure(baseline);
  if (reference.status === 'ok' && reference.liveValues >= pressure.liveValues) return undefined;
  return {
    liveValues: pressure.liveValues,
    ...(reference.status === 'ok' && { baselineLiveValues: reference.liveValues }),
    allocatable,
    nativeValues,
    nativeRegisters: native.count,
    registerName: native.name,
  };
}

/** A session times every candidate of a kernel against one baseline build: its pressure is read once. */
const baselinePressures = new WeakMap<Uint8Array, LoopPressure>();
function baselinePressure(baseline: Uint8Array): LoopPressure {
  const known = baselinePressures.get(baseline);
  if (known) return known;
  const pressure = loopPressure(baseline);
  baselinePressures.set(baseline, pressure);
  return pressure;
}

/** What a register-bound mark in a table means (the reports' note under it) */
export const REGISTER_BOUND_NOTE =
  'Register-bound in WASM (⚠): a loop of the candidate keeps more vector values live than the WASM engine has registers here, though natively they fit, so its WASM time carries spills its native build does not and its WASM speedup understates it.';

/** The register bound in one line, for tables and reports: "24 vector values live in a loop, baseline 16, …" */
export function describeRegisterBound(b: RegisterBound): string {
  const baseline = b.baselineLiveValues === undefined ? '' : `, baseline ${b.baselineLiveValues}`;
  return `${b.liveValues} vector values live in a loop${baseline}, ${b.allocatable} registers here; natively ${b.nativeValues} of ${b.nativeRegisters} ${b.registerName}`;
}

const V128 = 0x7b;
const FLOAT_TYPES = new Set([0x7d, 0x7c, V128]); // f32, f64, v128
const VALUE_TYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, V128, 0x70, 0x6f]);

class Unknown extends Error {}

class Reader {
  constructor(
    private readonly bytes: Uint8Array,
    public at = 0,
    private readonly end = bytes.length,
  ) {}
  get done(): boolean {
    return this.at >= this.end;
  }
  byte(): number {
    if (this.at >= this.end) throw new Unknown('truncated module');
    return this.bytes[this.at++];
  }
  skip(n: number): void {
    if (this.at + n > this.end) throw new Unknown('truncated module');
    this.at += n;
  }
  /** a LEB128 of at most `bits`; its value is meaningful for unsigned numbers (indices, sizes) */
  leb(bits = 32): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      if (shift >= Math.ceil(bits / 7) * 7) throw new Unknown('malformed LEB128');
      const b = this.byte();
      if (shift < 28) value |= (b & 0x7f) << shift;
      else value += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return value;
    }
  }
  u32(): number {
    const b = this.at < this.end ? this.bytes[this.at] : 0x80;
    if (b < 0x80) return (this.at++, b); // most indices and immediates fit a byte
    return this.leb(32);
  }
  vec<T>(item: () => T): T[] {
    return Array.from({ length: this.u32() }, item);
  }
}

/** What an instruction is to the liveness; its argument (a local, a label depth, a br_table) is kept beside it. */
const enum Kind { Plain, Block, Loop, If, Else, End, Br, BrIf, BrTable, Exit, Get, Set, Tee }

/** A function's instructions as parallel arrays: the kind and its argument (br_table: an index into `tables`). */
interface Code {
  length: number;
  kind: Uint8Array;
  arg: Int32Array;
  tables: number[][];
}

function memarg(r: Reader): void {
  const align = r.u32();
  if (align & 0x40) r.u32(); // multi-memory: a memory index follows
  r.leb(64);
}

function blockType(r: Reader): void {
  const b = r.byte();
  if (b === 0x40 || VALUE_TYPES.has(b)) return;
  r.at--;
  r.leb(33); // a type index
}

/** 0xfd: SIMD (0x00-0xff) and relaxed SIMD (0x100-0x113). */
function simd(r: Reader): void {
  const op = r.u32();
  if (op <= 11 || op === 92 || op === 93) return memarg(r);
  if (op === 12 || op === 13) return r.skip(16); // v128.const, i8x16.shuffle
  if (op >= 21 && op <= 34) return r.skip(1); // extract/replace lane
  if (op >= 84 && op <= 91) return (memarg(r), r.skip(1)); // load/store lane
  if (op > 0x113) throw new Unknown(`unknown SIMD opcode 0xfd ${op}`);
}

/** 0xfc: saturating truncation, bulk memory, tables. */
function misc(r: Reader): void {
  const op = r.u32();
  if (op <= 7) return;
  if (op === 8 || op === 10 || op === 12 || op === 14) return (r.u32(), void r.u32());
  if (op <= 17) return void r.u32();
  throw new Unknown(`unknown opcode 0xfc ${op}`);
}

/** 0xfe: atomics. */
function atomic(r: Reader): void {
  const op = r.u32();
  if (op === 3) return r.skip(1); // atomic.fence
  if (op <= 2 || (op >= 0x10 && op <= 0x4e)) return memarg(r);
  throw new Unknown(`unknown atomic opcode 0xfe ${op}`);
}

/** Decodes one instruction at `r` into `code` at index `i`. */
function decodeOp(r: Reader, code: Code, i: number): void {
  const op = r.byte();
  let kind = Kind.Plain;
  let arg = 0;
  switch (op) {
    case 0x00:
    case 0x0f:
      kind = Kind.Exit; // unreachable, return
      break;
    case 0x02:
    case 0x03:
    case 0x04:
      blockType(r);
      kind = op === 0x02 ? Kind.Block : op === 0x03 ? Kind.Loop : Kind.If;
      break;
    case 0x05:
      kind = Kind.Else;
      break;
    case 0x0b:
      kind = Kind.End;
      break;
    case 0x0c:
    case 0x0d:
      kind = op === 0x0c ? Kind.Br : Kind.BrIf;
      arg = r.u32();
      break;
    case 0x0e: {
      const depths = r.vec(() => r.u32());
      depths.push(r.u32());
      kind = Kind.BrTable;
      arg = code.tables.push(depths) - 1;
      break;
    }
    case 0x11: // call_indirect
    case 0x13: // return_call_indirect
      r.u32();
      r.u32();
      if (op === 0x13) kind = Kind.Exit;
      break;
    case 0x12: // return_call
      r.u32();
      kind = Kind.Exit;
      break;
    case 0x1c: // select with types
      r.vec(() => r.byte());
      break;
    case 0x20:
    case 0x21:
    case 0x22:
      kind = op === 0x20 ? Kind.Get : op === 0x21 ? Kind.Set : Kind.Tee;
      arg = r.u32();
      break;
    case 0x41:
      r.leb(32);
      break;
    case 0x42:
      r.leb(64);
      break;
    case 0x43:
      r.skip(4);
      break;
    case 0x44:
      r.skip(8);
      break;
    case 0xd0: // ref.null
      r.byte();
      break;
    case 0xfc:
      misc(r);
      break;
    case 0xfd:
      simd(r);
      break;
    case 0xfe:
      atomic(r);
      break;
    // call, global.get/set, table.get/set, memory.size/grow, ref.func: one index
    case 0x10:
    case 0x23:
    case 0x24:
    case 0x25:
    case 0x26:
    case 0x3f:
    case 0x40:
    case 0xd2:
      r.u32();
      break;
    default:
      if (op >= 0x28 && op <= 0x3e) memarg(r);
      else if (!(op === 0x01 || op === 0x1a || op === 0x1b || (op >= 0x45 && op <= 0xc4) || op === 0xd1))
        throw new Unknown(`unknown opcode 0x${op.toString(16)}`);
  }
  code.kind[i] = kind;
  code.arg[i] = arg;
}

interface FunctionBody {
  /** value type of every local, parameters first */
  localTypes: number[];
  code: Code;
}

/** The code section's functions with their locals' types; throws Unknown on anything it cannot read. */
function readFunctions(wasm: Uint8Array): FunctionBody[] {
  const r = new Reader(wasm);
  if (r.byte() !== 0x00 || r.byte() !== 0x61 || r.byte() !== 0x73 || r.byte() !== 0x6d) throw new Unknown('not a WASM module');
  r.skip(4);
  let types: number[][] = [];
  let typeOf: number[] = [];
  const bodies: FunctionBody[] = [];
  while (!r.done) {
    const id = r.byte();
    const size = r.u32();
    const start = r.at;
    const s = new Reader(wasm, start, start + size);
    if (id === 1) {
      types = s.vec(() => {
        if (s.byte() !== 0x60) throw new Unknown('a type that is not a function type');
        const params = s.vec(() => s.byte());
        s.vec(() => s.byte());
        return params;
      });
    } else if (id === 3) {
      typeOf = s.vec(() => s.u32());
    } else if (id === 10) {
      const count = s.u32();
      for (let f = 0; f < count; f++) {
        const bodySize = s.u32();
        const b = new Reader(wasm, s.at, s.at + bodySize);
        s.skip(bodySize);
        const params = types[typeOf[f]];
        if (!params) throw new Unknown(`function ${f} of the code section has no type`);
        const localTypes = [...params];
        for (const [n, type] of b.vec(() => [b.u32(), b.byte()] as const)) {
          if (localTypes.length + n > 50_000) throw new Unknown('too many locals');
          for (let i = 0; i < n; i++) localTypes.push(type);
        }
        // every instruction takes at least a byte
        const code: Code = { length: 0, kind: new Uint8Array(bodySize), arg: new Int32Array(bodySize), tables: [] };
        while (!b.done) decodeOp(b, code, code.length++);
        bodies.push({ localTypes, code });
      }
    }
    r.at = start + size;
  }
  return bodies;
}

/**
 * For each innermost loop of a function, how many float/vector locals are live at its header and read in it. The
 * loop is innermost, so its only backward edges return to the header: a value live there is read on a path from the
 * header that does not come back to it, and one backward pass with back edges and exits as "nothing live" finds it.
 */
function innermostLoopLiveness({ code, localTypes }: FunctionBody): { floats: number; v128: number }[] {
  const { kind, length } = code;
  // the matching `end` (and `else`) of every block/loop/if, and the innermost loops
  const endOf = new Int32Array(length);
  const elseOf = new Int32Array(length).fill(-1);
  const open: number[] = [];
  const hasLoop: boolean[] = [];
  const loops: [number, number][] = [];
  for (let i = 0; i < length; i++) {
    const k = kind[i];
    if (k === Kind.Block || k === Kind.Loop || k === Kind.If) {
      if (k === Kind.Loop) hasLoop.fill(true);
      open.push(i);
      hasLoop.push(false);
    } else if (k === Kind.Else && open.length) elseOf[open[open.length - 1]] = i;
    else if (k === Kind.End) {
      if (!open.length) {
        if (i === length - 1) break; // the function's own end
        throw new Unknown('unbalanced blocks');
      }
      const at = open.pop()!;
      endOf[at] = i;
      if (!hasLoop.pop() && kind[at] === Kind.Loop) loops.push([at, i]);
    }
  }
  if (open.length) throw new Unknown('unbalanced blocks');
  return loops.map(([start, end]) => headerLiveness(code, localTypes, start, end, endOf, elseOf));
}

function headerLiveness({ kind, arg, tables }: Code, localTypes: number[], start: number, end: number, endOf: Int32Array, elseOf: Int32Array) {
  // float/vector locals read in the loop, numbered densely for bitsets
  const bitOf = new Map<number, number>();
  for (let i = start + 1; i < end; i++)
    if (kind[i] === Kind.Get && FLOAT_TYPES.has(localTypes[arg[i]]) && !bitOf.has(arg[i])) bitOf.set(arg[i], bitOf.size);
  if (!bitOf.size) return { floats: 0, v128: 0 };
  const words = Math.ceil(bitOf.size / 32);
  // row r: what is live before instruction start + 1 + r; the last row is the loop's end, where nothing is
  const n = end - start - 1;
  const live = new Uint32Array((n + 1) * words);
  // successors, all after their instruction (the loop is innermost); the header and exits are -1: nothing live
  const next = new Int32Array(2 * n).fill(-1);
  const branchTables = new Map<number, number[]>();
  const frames: number[] = [start]; // the opening instruction of each enclosing construct, innermost last
  const target = (depth: number): number => {
    const at = frames[frames.length - 1 - depth];
    const to = at === undefined || at <= start ? -1 : endOf[at] + 1;
    return to < end ? to : -1;
  };
  for (let i = start + 1, r = 0; i < end; i++, r++) {
    const k = kind[i];
    if (k === Kind.Exit) continue;
    if (k === Kind.Br || k === Kind.BrTable) {
      if (k === Kind.Br) next[2 * r] = target(arg[i]);
      else branchTables.set(r, tables[arg[i]].map(target));
      continue;
    }
    next[2 * r] = k === Kind.Else ? endOf[frames[frames.length - 1]] + 1 : i + 1;
    if (k === Kind.BrIf) next[2 * r + 1] = target(arg[i]);
    if (k === Kind.If) next[2 * r + 1] = (elseOf[i] >= 0 ? elseOf[i] : endOf[i]) + 1;
    if (k === Kind.Block || k === Kind.If) frames.push(i);
    else if (k === Kind.End) frames.pop();
  }
  const join = (row: number, to: number) => {
    if (to < 0) return;
    const from = (to - start - 1) * words;
    for (let w = 0; w < words; w++) live[row + w] |= live[from + w];
  };
  for (let r = n - 1; r >= 0; r--) {
    const row = r * words;
    join(row, next[2 * r]);
    join(row, next[2 * r + 1]);
    for (const to of branchTables.get(r) ?? []) join(row, to);
    const i = start + 1 + r;
    const bit = kind[i] === Kind.Get || kind[i] === Kind.Set || kind[i] === Kind.Tee ? bitOf.get(arg[i]) : undefined;
    if (bit === undefined) continue;
    if (kind[i] === Kind.Get) live[row + (bit >> 5)] |= 1 << (bit & 31);
    else live[row + (bit >> 5)] &= ~(1 << (bit & 31));
  }
  let floats = 0;
  let v128 = 0;
  for (const [local, bit] of bitOf)
    if (live[bit >> 5] & (1 << (bit & 31))) {
      floats++;
      if (localTypes[local] === V128) v128++;
    }
  return { floats, v128 };
}

/** The pressure of a module's hottest-looking loop: the innermost loop with the most live float/vector values. */
export function loopPressure(wasm: Uint8Array): LoopPressure {
  try {
    let best = { floats: 0, v128: 0 };
    let loops = 0;
    for (const fn of readFunctions(wasm))
      for (const l of innermostLoopLiveness(fn)) {
        loops++;
        if (l.floats > best.floats) best = l;
      }
    return { status: 'ok', liveValues: best.floats, liveV128: best.v128, loops };
  } catch (e) {
    if (e instanceof Unknown) return { status: 'unknown', reason: e.message };
    return { status: 'unknown', reason: `unreadable module (${(e as Error).message})` };
  }
}
