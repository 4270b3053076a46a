// The GGUF container (ggml/include/gguf.h, version 3): a header of typed key-value metadata and tensor infos, then
// the tensor data, each tensor at an offset aligned to general.alignment (default 32) from the data section's start.
// Encoding helpers for the writer (random-model.ts) and a header reader that checks a user-supplied model file.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { UsageError } from '../errors.js';

export const GGUF_MAGIC = 'GGUF';
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** gguf_type: how a metadata value is stored */
export const GgufType = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 } as const;
export type GgufTypeName = keyof typeof GgufType;

/** ggml_type of tensor data; only the two the random model uses are named */
export const GgmlType = { f32: 0, f16: 1 } as const;
const GGML_TYPE_COUNT = 43; // ggml.h at de3ff815; gguf_init rejects types at or above it

export type GgufScalar = number | bigint | string | boolean;
export type GgufValue = GgufScalar | GgufScalar[];

export interface GgufKv {
  key: string;
  type: GgufTypeName;
  /** element type of an array */
  arrayType?: GgufTypeName;
  value: GgufValue;
}

export interface GgufTensorInfo {
  name: string;
  /** ne[0] first: the element count of a row comes first */
  dims: number[];
  ggmlType: number;
  /** from the start of the data section */
  offset: number;
}

/** Data bytes of an f32 or f16 tensor; 0 for other (block-quantized) types, whose sizes this reader does not know. */
export function knownTensorBytes(t: Pick<GgufTensorInfo, 'dims' | 'ggmlType'>): number {
  const elementBytes = t.ggmlType === GgmlType.f32 ? 4 : t.ggmlType === GgmlType.f16 ? 2 : 0;
  return t.dims.reduce((a, b) => a * b, elementBytes);
}

export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

// ---- encoding -------------------------------------------------------------------------------------------------

const SCALAR_BYTES: Partial<Record<GgufTypeName, number>> = { u8: 1, i8: 1, bool: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, u64: 8, i64: 8, f64: 8 };

function encodeString(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  const out = Buffer.alloc(8 + bytes.length);
  out.writeBigUInt64LE(BigInt(bytes.length), 0);
  bytes.copy(out, 8);
  return out;
}

function encodeScalar(type: GgufTypeName, v: GgufScalar): Buffer {
  if (type === 'string') return encodeString(String(v));
  const b = Buffer.alloc(SCALAR_BYTES[type]!);
  const n = typeof v === 'boolean' ? Number(v) : v;
  switch (type) {
    case 'u8': case 'bool': b.writeUInt8(Number(n)); break;
    case 'i8': b.writeInt8(Number(n)); break;
    case 'u16': b.writeUInt16LE(Number(n)); break;
    case 'i16': b.writeInt16LE(Number(n)); break;
    case 'u32': b.writeUInt32LE(Number(n)); break;
    case 'i32': b.writeInt32LE(Number(n)); break;
    case 'f32': b.writeFloatLE(Number(n)); break;
    case 'f64': b.writeDoubleLE(Number(n)); break;
    case 'u64': b.writeBigUInt64LE(BigInt(n)); break;
    case 'i64': b.writeBigInt64LE(BigInt(n)); break;
    default: throw new RangeError(`not a GGUF scalar type: ${type}`);
  }
  return b;
}

function encodeKv(kv: GgufKv): Buffer[] {
  const head = [encodeString(kv.key), u32(GgufType[kv.type])];
  if (kv.type !== 'array') return [...head, encodeScalar(kv.type, kv.value as GgufScalar)];
  const items = kv.value as GgufScalar[];
  const arrayType = kv.arrayType!;
  const count = Buffer.alloc(8);
  count.writeBigUInt64LE(BigInt(items.length));
  return [...head, u32(GgufType[arrayType]), count, ...items.map((v) => encodeScalar(arrayType, v))];
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/**
 * Everything before the data section: magic, version, counts, metadata, tensor infos, and the zero padding up to
 * the data section's aligned start. Tensor offsets are the caller's (each a multiple of the alignment).
 */
export function encodeGgufHeader(kvs: readonly GgufKv[], tensors: readonly GgufTensorInfo[], alignment = GGUF_DEFAULT_ALIGNMENT): Buffer {
  const counts = Buffer.alloc(16);
  counts.writeBigInt64LE(BigInt(tensors.length), 0);
  counts.writeBigInt64LE(BigInt(kvs.length), 8);
  const parts: Buffer[] = [Buffer.from(GGUF_MAGIC, 'ascii'), u32(GGUF_VERSION), counts, ...kvs.flatMap(encodeKv)];
  for (const t of tensors) {
    const info = Buffer.alloc(4 + 8 * t.dims.length + 4 + 8);
    info.writeUInt32LE(t.dims.length, 0);
    t.dims.forEach((d, i) => info.writeBigInt64LE(BigInt(d), 4 + 8 * i));
    info.writeInt32LE(t.ggmlType, 4 + 8 * t.dims.length);
    info.writeBigUInt64LE(BigInt(t.offset), 8 + 8 * t.dims.length);
    parts.push(encodeString(t.name), info);
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, Buffer.alloc(alignUp(body.length, alignment) - body.length)]);
}

// ---- reading --------------------------------------------------------------------------------------------------

export interface GgufHeader {
  path: string;
  version: number;
  alignment: number;
  kvs: GgufKv[];
  tensors: GgufTensorInfo[];
  /** file offset of the data section */
  dataOffset: number;
  fileBytes: number;
}

/** Reads a file front to back in chunks, so a header is parsed without loading the tensor data. */
class FileCursor {
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  pos = 0;
  constructor(private readonly fd: number, readonly size: number, private readonly fail: (problem: string) => never) {}

  take(n: number): Buffer {
    if (n > this.size - this.pos) this.fail(`ends inside its header (wanted ${n} bytes at offset ${this.pos}, the file has ${this.size})`);
    if (this.pos + n > this.bufStart + this.buf.length) {
      const want = Math.max(n, 1 << 20);
      const chunk = Buffer.alloc(Math.min(want, this.size - this.pos));
      readSync(this.fd, chunk, 0, chunk.length, this.pos);
      this.buf = chunk;
      this.bufStart = this.pos;
    }
    const at = this.pos - this.bufStart;
    this.pos += n;
    return this.buf.subarray(at, at + n);
  }

  u32(): number { return this.take(4).readUInt32LE(0); }
  i32(): number { return this.take(4).readInt32LE(0); }
  /** a u64/i64 count or size; more than 2^53 cannot be a real one */
  count(what: string): number {
    const v = this.take(8).readBigUInt64LE(0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} is implausibly large (${v})`);
    return Number(v);
  }
  string(what: string): string {
    return this.take(this.count(`the length of ${what}`)).toString('utf8');
  }
}

const TYPE_NAMES = Object.fromEntries(Object.entries(GgufType).map(([k, v]) => [v, k])) as Record<number, GgufTypeName>;

function readScalar(c: FileCursor, type: GgufTypeName, what: string): GgufScalar {
  if (type === 'string') return c.string(what);
  const b = c.take(SCALAR_BYTES[type]!);
  switch (type) {
    case 'u8': return b.readUInt8(0);
    case 'i8': return b.readInt8(0);
    case 'bool': return b.readUInt8(0) !== 0;
    case 'u16': return b.readUInt16LE(0);
    case 'i16': return b.readInt16LE(0);
    case 'u32': return b.readUInt32LE(0);
    case 'i32': return b.readInt32LE(0);
    case 'f32': return b.readFloatLE(0);
    case 'f64': return b.readDoubleLE(0);
    case 'u64': return b.readBigUInt64LE(0);
    case 'i64': return b.readBigInt64LE(0);
    default: throw new RangeError(type);
  }
}

function readType(c: FileCursor, what: string, fail: (p: string) => never): GgufTypeName {
  const code = c.u32();
  const name = TYPE_NAMES[code];
  if (!name) fail(`${what} has unknown value type ${code}`);
  return name;
}

/**
 * The header of a GGUF file: metadata and tensor infos, checked the way gguf_init_from_file checks them (magic,
 * version, alignment, offsets in order and inside the file). Any problem is a UsageError naming the file.
 */
export function readGgufHeader(path: string): GgufHeader {
  const fail = (problem: string): never => {
    throw new UsageError(`${path}: not a usable GGUF model: ${problem}`);
  };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new UsageError(`${path}: cannot open the model file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    const size = fstatSync(fd).size;
    const c = new FileCursor(fd, size, fail);
    if (size < 4 || c.take(4).toString('latin1') !== GGUF_MAGIC) fail('it does not start with the GGUF magic bytes');
    const version = c.u32();
    // v2 has v3's layout (64-bit counts); v1 (32-bit) is gone from llama.cpp, and a version with zero low bits is
    // a file of the other byte order
    if ((version & 0xffff) === 0) fail(`GGUF version ${version} is a big-endian file; llama.cpp reads little-endian ones`);
    if (version < 2 || version > GGUF_VERSION) fail(`GGUF version ${version}; llama.cpp reads versions 2 and ${GGUF_VERSION}`);
    const nTensors = c.count('the tensor count');
    const nKv = c.count('the metadata count');
    const kvs: GgufKv[] = [];
    for (let i = 0; i < nKv; i++) {
      const key = c.string(`metadata key ${i}`);
      const type = readType(c, `metadata '${key}'`, fail);
      if (type !== 'array') {
        kvs.push({ key, type, value: readScalar(c, type, key) });
        continue;
      }
      const arrayType = readType(c, `array '${key}'`, fail);
      if (arrayType === 'array') fail(`array '${key}' holds arrays, which GGUF does not allow`);
      const n = c.count(`the length of '${key}'`);
      const items: GgufScalar[] = [];
      for (let j = 0; j < n; j++) items.push(readScalar(c, arrayType, `${key}[${j}]`));
      kvs.push({ key, type, arrayType, value: items });
    }
    const alignmentKv = kvs.find((kv) => kv.key === 'general.alignment');
    if (alignmentKv && alignmentKv.type !== 'u32') fail(`general.alignment must be a u32, it is a ${alignmentKv.type}`);
    const alignment = alignmentKv ? (alignmentKv.value as number) : GGUF_DEFAULT_ALIGNMENT;
    if (!(alignment > 0 && (alignment & (alignment - 1)) === 0)) fail(`general.alignment ${alignment} is not a power of 2`);
    const tensors: GgufTensorInfo[] = [];
    for (let i = 0; i < nTensors; i++) {
      const name = c.string(`tensor name ${i}`);
      const nDims = c.u32();
      if (nDims > 4) fail(`tensor '${name}' has ${nDims} dimensions (at most 4)`);
      const dims = Array.from({ length: nDims }, () => c.count(`a dimension of '${name}'`));
      const ggmlType = c.i32();
      if (ggmlType < 0 || ggmlType >= GGML_TYPE_COUNT) fail(`tensor '${name}' has unknown ggml type ${ggmlType}`);
      const offset = c.count(`the offset of '${name}'`);
      if (offset % alignment !== 0) fail(`tensor '${name}' starts at data offset ${offset}, not a multiple of the alignment ${alignment}`);
      tensors.push({ name, dims, ggmlType, offset });
    }
    const dataOffset = alignUp(c.pos, alignment);
    for (const t of tensors)
      if (dataOffset + t.offset + knownTensorBytes(t) > size) fail(`tensor '${t.name}' runs past the end of the file (${size} bytes): is it truncated?`);
    return { path, version, alignment, kvs, tensors, dataOffset, fileBytes: size };
  } finally {
    closeSync(fd);
  }
}

/** A metadata value by key, or undefined. */
export function ggufValue(header: GgufHeader, key: string): GgufValue | undefined {
  return header.kvs.find((kv) => kv.key === key)?.value;
}

export interface ModelFacts {
  path: string;
  architecture: string;
  name?: string;
  tensors: number;
  fileBytes: number;
}

/** What the e2e report says about a user's model, checked at the edge: a GGUF with weights and an architecture. */
export function checkModelFile(path: string): ModelFacts {
  const header = readGgufHeader(path);
  const architecture = ggufValue(header, 'general.architecture');
  if (typeof architecture !== 'string' || !architecture) throw new UsageError(`${path}: not a usable GGUF model: no general.architecture string`);
  if (header.tensors.length === 0) throw new UsageError(`${path}: not a usable GGUF model: it holds no tensors (a vocabulary-only file?)`);
  const name = ggufValue(header, 'general.name');
  return { path, architecture, ...(typeof name === 'string' ? { name } : {}), tensors: header.tensors.length, fileBytes: header.fileBytes };
}
