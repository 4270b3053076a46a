import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { halfToFloat } from '../../src/check/f16.js';
import { UsageError } from '../../src/errors.js';
import { alignUp, checkModelFile, encodeGgufHeader, ggufValue, knownTensorBytes, readGgufHeader } from '../../src/e2e/gguf.js';
import { cachedRandomLlamaGguf, randomLlamaOptions, writeRandomLlamaGguf } from '../../src/e2e/random-model.js';

const dir = mkdtempSync(join(tmpdir(), 'kbench-gguf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 72 wide (heads of 18) and 301 tokens: f16 rows of 144 bytes, so tensors need padding to the 32-byte alignment
const TINY = { layers: 2, embd: 72, heads: 4, kvHeads: 2, ff: 100, vocab: 301, ctx: 512, seed: 7 };

describe('the random llama GGUF', () => {
  const path = join(dir, 'tiny.gguf');
  const written = writeRandomLlamaGguf(path, TINY);
  const header = readGgufHeader(path);

  it('has a GGUF v3 header with llama metadata of the types llama.cpp reads', () => {
    expect(readFileSync(path).subarray(0, 4).toString()).toBe('GGUF');
    expect(header.version).toBe(3);
    expect(header.alignment).toBe(32);
    const kv = (key: string) => header.kvs.find((k) => k.key === key);
    expect(kv('general.architecture')).toMatchObject({ type: 'string', value: 'llama' });
    expect(kv('llama.block_count')).toMatchObject({ type: 'u32', value: 2 });
    expect(kv('llama.embedding_length')).toMatchObject({ type: 'u32', value: 72 });
    expect(kv('llama.attention.head_count_kv')).toMatchObject({ type: 'u32', value: 2 });
    expect(kv('llama.rope.dimension_count')).toMatchObject({ type: 'u32', value: 18 });
    expect(kv('llama.context_length')).toMatchObject({ type: 'u32', value: 512 });
    expect(kv('llama.attention.layer_norm_rms_epsilon')?.type).toBe('f32');
    expect(kv('tokenizer.ggml.model')).toMatchObject({ type: 'string', value: 'llama' });
    expect(kv('tokenizer.ggml.token_type')).toMatchObject({ type: 'array', arrayType: 'i32' });
    expect(kv('tokenizer.ggml.scores')).toMatchObject({ type: 'array', arrayType: 'f32' });
  });

  it('has an SPM vocabulary: special tokens, the 256 byte tokens, then distinct words', () => {
    const tokens = ggufValue(header, 'tokenizer.ggml.tokens') as string[];
    const types = ggufValue(header, 'tokenizer.ggml.token_type') as number[];
    expect(tokens).toHaveLength(301);
    expect(tokens.slice(0, 4)).toEqual(['<unk>', '<s>', '</s>', '<0x00>']);
    expect(tokens[3 + 0x0a]).toBe('<0x0A>');
    expect(tokens[258]).toBe('<0xFF>');
    expect(types.slice(0, 4)).toEqual([2, 3, 3, 6]);
    expect(types[259]).toBe(1);
    expect(new Set(tokens).size).toBe(tokens.length); // llama.cpp asserts distinct token texts
    expect(ggufValue(header, 'tokenizer.ggml.bos_token_id')).toBe(1);
  });

  it('lays tensors out in order at aligned offsets, ending exactly at the end of the file', () => {
    expect(header.tensors.map((t) => t.name)).toEqual([
      'token_embd.weight',
      ...[0, 1].flatMap((i) => ['attn_norm', 'attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_norm', 'ffn_gate', 'ffn_up', 'ffn_down'].map((n) => `blk.${i}.${n}.weight`)),
      'output_norm.weight',
      'output.weight',
    ]);
    const byName = Object.fromEntries(header.tensors.map((t) => [t.name, t]));
    expect(byName['token_embd.weight']).toMatchObject({ dims: [72, 301], ggmlType: 1 });
    expect(byName['blk.0.attn_k.weight']).toMatchObject({ dims: [72, 36], ggmlType: 1 }); // 2 kv heads of 18
    expect(byName['blk.1.ffn_down.weight']).toMatchObject({ dims: [100, 72] });
    expect(byName['output_norm.weight']).toMatchObject({ dims: [72], ggmlType: 0 });
    expect(header.tensors.some((t) => knownTensorBytes(t) % 32 !== 0)).toBe(true);
    expect(header.dataOffset % 32).toBe(0);
    let expected = 0;
    for (const t of header.tensors) {
      expect(t.offset).toBe(expected);
      expected += alignUp(knownTensorBytes(t), 32);
    }
    expect(header.dataOffset + expected).toBe(written.bytes);
    expect(written.params).toBe(header.tensors.reduce((s, t) => s + t.dims.reduce((a, b) => a * b, 1), 0));
  });

  it('writes norm weights of one and finite random f16 weights within sqrt(3 / n_in)', () => {
    const bytes = readFileSync(path);
    const at = (name: string) => header.tensors.find((t) => t.name === name)!;
    const norm = at('blk.0.ffn_norm.weight');
    const normValues = new Float32Array(bytes.buffer.slice(bytes.byteOffset + header.dataOffset + norm.offset, bytes.byteOffset + header.dataOffset + norm.offset + 72 * 4));
    expect([...normValues].every((v) => v === 1)).toBe(true);
    const q = at('blk.0.attn_q.weight');
    const values: number[] = [];
    for (let i = 0; i < 72 * 72; i++) values.push(halfToFloat(bytes.readUInt16LE(header.dataOffset + q.offset + 2 * i)));
    const bound = Math.sqrt(3 / 72);
    expect(values.every((v) => Number.isFinite(v) && Math.abs(v) <= bound * 1.001)).toBe(true);
    const variance = values.reduce((s, v) => s + v * v, 0) / values.length;
    expect(variance).toBeGreaterThan(0.8 / 72);
    expect(variance).toBeLessThan(1.2 / 72);
  });

  it('is the same file for the same seed and a different one for another seed', () => {
    const again = join(dir, 'again.gguf');
    const other = join(dir, 'other.gguf');
    writeRandomLlamaGguf(again, TINY);
    writeRandomLlamaGguf(other, { ...TINY, seed: 8 });
    expect(readFileSync(again).equals(readFileSync(path))).toBe(true);
    expect(readFileSync(other).equals(readFileSync(path))).toBe(false);
  });
});

describe('model options', () => {
  it('defaults to the 4-layer 512-wide model and checks every field, naming it', () => {
    expect(randomLlamaOptions()).toMatchObject({ layers: 4, embd: 512, heads: 8, kvHeads: 8, ff: 1536, vocab: 32000 });
    expect(randomLlamaOptions({ heads: 4 }).kvHeads).toBe(4);
    expect(() => randomLlamaOptions({ embd: 500 })).toThrow(/option embd: 500 is not a multiple of heads/);
    expect(() => randomLlamaOptions({ heads: 8, kvHeads: 3 })).toThrow(/option kvHeads/);
    expect(() => randomLlamaOptions({ vocab: 100 })).toThrow(/option vocab: must be at least 260/);
    expect(() => randomLlamaOptions({ layers: 0 })).toThrow(UsageError);
    expect(() => randomLlamaOptions({ ff: 1.5 })).toThrow(/option ff/);
  });

  it('caches the file by its options: a second request reuses it, other options get another file', () => {
    const cache = join(dir, 'cache');
    const first = cachedRandomLlamaGguf(TINY, cache);
    const second = cachedRandomLlamaGguf(TINY, cache);
    const other = cachedRandomLlamaGguf({ ...TINY, layers: 1 }, cache);
    expect(first.cached).toBe(false);
    expect(second).toMatchObject({ cached: true, path: first.path, bytes: first.bytes, params: first.params });
    expect(other.path).not.toBe(first.path);
    expect(readGgufHeader(other.path).tensors).toHaveLength(1 + 9 + 2);
  });
});

describe('reading a user-supplied model', () => {
  const expectUsage = (path: string, message: RegExp, read: (path: string) => unknown = readGgufHeader) => {
    let error: unknown;
    try {
      read(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(message);
  };

  it('rejects a file that is not GGUF, naming it', () => {
    const path = join(dir, 'model.bin');
    writeFileSync(path, 'PK\u0003\u0004 definitely a zip');
    expectUsage(path, /does not start with the GGUF magic/);
  });

  it('rejects a missing file and a truncated one', () => {
    expectUsage(join(dir, 'nowhere.gguf'), /cannot open the model file \(ENOENT\)/);
    const whole = readFileSync(join(dir, 'tiny.gguf'));
    const cut = join(dir, 'cut-header.gguf');
    writeFileSync(cut, whole.subarray(0, 2000));
    expectUsage(cut, /ends inside its header/);
    const cutData = join(dir, 'cut-data.gguf');
    writeFileSync(cutData, whole.subarray(0, whole.length - 100));
    expectUsage(cutData, /'output.weight' runs past the end of the file/);
  });

  it('names the architecture of a model, and refuses a file without one or without tensors', () => {
    expect(checkModelFile(join(dir, 'tiny.gguf'))).toMatchObject({ architecture: 'llama', name: 'kbench random llama 2x72', tensors: 21 });
    const vocabOnly = join(dir, 'vocab-only.gguf');
    writeFileSync(vocabOnly, encodeGgufHeader([{ key: 'general.architecture', type: 'string', value: 'llama' }], []));
    expectUsage(vocabOnly, /holds no tensors/, checkModelFile);
    const nameless = join(dir, 'nameless.gguf');
    writeFileSync(nameless, encodeGgufHeader([{ key: 'general.name', type: 'string', value: 'x' }], []));
    expectUsage(nameless, /no general.architecture/, checkModelFile);
  });

  it('reads versions 2 and 3, as llama.cpp does, and rejects the others', () => {
    const withVersion = (version: number) => {
      const bytes = Buffer.from(readFileSync(join(dir, 'tiny.gguf')));
      bytes.writeUInt32LE(version, 4);
      const path = join(dir, `v${version}.gguf`);
      writeFileSync(path, bytes);
      return path;
    };
    expect(readGgufHeader(withVersion(2)).version).toBe(2);
    expectUsage(withVersion(1), /GGUF version 1; llama.cpp reads versions 2 and 3/);
    expectUsage(withVersion(4), /GGUF version 4/);
    expectUsage(withVersion(0x03000000), /big-endian/);
  });
});
