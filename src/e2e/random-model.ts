// The default e2e model: a llama-architecture GGUF with seeded random weights that llama.cpp loads and llama-bench
// runs. Weights do not change speed, only shapes do, so the file needs the right metadata and tensor shapes
// (src/models/llama.cpp, src/llama-model.cpp load_hparams at de3ff815), an SPM vocabulary (src/llama-vocab.cpp) and
// values that keep activations finite. Written streaming to a temporary file and renamed, cached by its options.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { floatToHalf } from '../check/f16.js';
import { UsageError } from '../errors.js';
import { createRng, type Rng } from '../rng.js';
import { cacheDir } from '../upstream/source.js';
import { alignUp, encodeGgufHeader, GgmlType, GGUF_DEFAULT_ALIGNMENT, knownTensorBytes, type GgufKv, type GgufTensorInfo } from './gguf.js';

export interface RandomLlamaOptions {
  /** transformer blocks */
  layers: number;
  /** hidden size (n_embd) */
  embd: number;
  /** attention heads; embd / heads is the head size */
  heads: number;
  /** key/value heads (grouped-query attention when fewer than heads) */
  kvHeads: number;
  /** feed-forward size (n_ff) */
  ff: number;
  /** tokens in the vocabulary, at least 260 (3 special, 256 bytes, one word) */
  vocab: number;
  /** trained context length: llama-bench warns past it, so it must cover depth + prompt */
  ctx: number;
  seed: number;
}

/**
 * 4 layers of a 512-wide llama with 8 heads of 64, n_ff 1536 and a 32000-token vocabulary: 46 M parameters, 89 MiB
 * of f16, written in about 1.5 s. Head size and vocabulary are a small real llama's, so attention at depth and the
 * output layer weigh what they do there. Measured with perf at 1 thread, flash attention off (de3ff815, AVX2 build):
 * rms_norm (fused with its mul) takes 0.07% of tg and 0.2% of pp at depth 0; softmax 0.3% / 1.9% at depth 0 and
 * 3.0% / 10.7% at depth 4096. Scaling the op's elements against the bytes (tg) or multiply-adds (pp) of a token,
 * Llama-3.2-1B q8_0 would show 0.7–1× these shares in tg and 0.35–0.5× in pp: close, erring on the op's side, while
 * a token here takes milliseconds, so a round of llama-bench stays short.
 */
export const DEFAULT_RANDOM_LLAMA: RandomLlamaOptions = { layers: 4, embd: 512, heads: 8, kvHeads: 8, ff: 1536, vocab: 32000, ctx: 8192, seed: 1 };

/** Bump when the file's content for the same options changes, so cached files are rewritten. */
const WRITER_VERSION = 1;
const SPECIAL_TOKENS = ['<unk>', '<s>', '</s>'];
/** llama_token_type (llama.h): how the vocabulary marks each token */
const TokenType = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;

/** Defaults filled in and every field checked; a bad value is a UsageError naming the option. */
export function randomLlamaOptions(partial: Partial<RandomLlamaOptions> = {}): RandomLlamaOptions {
  const o = { ...DEFAULT_RANDOM_LLAMA, ...partial, kvHeads: partial.kvHeads ?? partial.heads ?? DEFAULT_RANDOM_LLAMA.kvHeads };
  const bad = (field: string, problem: string): never => {
    throw new UsageError(`e2e model option ${field}: ${problem}`);
  };
  for (const field of ['layers', 'embd', 'heads', 'kvHeads', 'ff', 'vocab', 'ctx'] as const)
    if (!(Number.isInteger(o[field]) && o[field] >= 1 && o[field] <= 1 << 24)) bad(field, `must be a whole number from 1 to ${1 << 24}, got ${o[field]}`);
  if (!Number.isSafeInteger(o.seed)) bad('seed', `must be a whole number, got ${o.seed}`);
  if (o.layers > 512) bad('layers', `llama.cpp loads at most 512 layers, got ${o.layers}`);
  if (o.embd % o.heads !== 0) bad('embd', `${o.embd} is not a multiple of heads (${o.heads})`);
  if ((o.embd / o.heads) % 2 !== 0) bad('heads', `the head size embd/heads = ${o.embd / o.heads} must be even for rope`);
  if (o.heads % o.kvHeads !== 0) bad('kvHeads', `heads (${o.heads}) must be a multiple of kvHeads (${o.kvHeads})`);
  if (o.vocab < SPECIAL_TOKENS.length + 256 + 1) bad('vocab', `must be at least ${SPECIAL_TOKENS.length + 256 + 1} (special and byte tokens plus one word), got ${o.vocab}`);
  return o;
}

interface TensorPlan extends GgufTensorInfo {
  /** uniform weights in [-amplitude, amplitude]; 0 means a norm weight of ones (f32) */
  amplitude: number;
}

/**
 * Uniform weights with variance 1/n_in (amplitude sqrt(3/n_in)) keep every matmul's output at the variance of its
 * input, so the residual stream, attention scores and logits stay near unit scale through any number of layers.
 */
function tensorPlan(o: RandomLlamaOptions): TensorPlan[] {
  const headSize = o.embd / o.heads;
  const kvWidth = headSize * o.kvHeads;
  const matrix = (name: string, nIn: number, nOut: number): Omit<TensorPlan, 'offset'> => ({ name, dims: [nIn, nOut], ggmlType: GgmlType.f16, amplitude: Math.sqrt(3 / nIn) });
  const norm = (name: string): Omit<TensorPlan, 'offset'> => ({ name, dims: [o.embd], ggmlType: GgmlType.f32, amplitude: 0 });
  const plan: Omit<TensorPlan, 'offset'>[] = [{ name: 'token_embd.weight', dims: [o.embd, o.vocab], ggmlType: GgmlType.f16, amplitude: Math.sqrt(3) }];
  for (let i = 0; i < o.layers; i++) {
    const b = `blk.${i}`;
    plan.push(
      norm(`${b}.attn_norm.weight`),
      matrix(`${b}.attn_q.weight`, o.embd, o.embd),
      matrix(`${b}.attn_k.weight`, o.embd, kvWidth),
      matrix(`${b}.attn_v.weight`, o.embd, kvWidth),
      matrix(`${b}.attn_output.weight`, o.embd, o.embd),
      norm(`${b}.ffn_norm.weight`),
      matrix(`${b}.ffn_gate.weight`, o.embd, o.ff),
      matrix(`${b}.ffn_up.weight`, o.embd, o.ff),
      matrix(`${b}.ffn_down.weight`, o.ff, o.embd),
    );
  }
  plan.push(norm('output_norm.weight'), matrix('output.weight', o.embd, o.vocab));
  let offset = 0;
  return plan.map((t) => {
    const placed = { ...t, offset };
    offset += alignUp(knownTensorBytes(t), GGUF_DEFAULT_ALIGNMENT);
    return placed;
  });
}

/** Bijective base 26 (a … z, aa, ab …): distinct words, since llama.cpp requires distinct token texts. */
function word(k: number): string {
  let s = '';
  for (let n = k + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(97 + ((n - 1) % 26)) + s;
  return s;
}

/** LLaMA's SentencePiece layout: <unk> <s> </s>, the 256 byte tokens <0x00>…<0xFF>, then words with and without ▁. */
function vocabulary(n: number): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = [...SPECIAL_TOKENS];
  const types: number[] = [TokenType.unknown, TokenType.control, TokenType.control];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TokenType.byte);
  }
  for (let k = 0; tokens.length < n; k++) {
    tokens.push(k % 2 === 0 ? `\u2581${word(k >> 1)}` : word(k >> 1));
    types.push(TokenType.normal);
  }
  // SPM merges prefer higher scores: shorter, earlier words first, as a trained vocabulary roughly does
  return { tokens, scores: tokens.map((_, i) => (types[i] === TokenType.normal ? -i : 0)), types };
}

function metadata(o: RandomLlamaOptions): GgufKv[] {
  const u32 = (key: string, value: number): GgufKv => ({ key, type: 'u32', value });
  const f32 = (key: string, value: number): GgufKv => ({ key, type: 'f32', value });
  const str = (key: string, value: string): GgufKv => ({ key, type: 'string', value });
  const v = vocabulary(o.vocab);
  return [
    str('general.architecture', 'llama'),
    str('general.name', `kbench random llama ${o.layers}x${o.embd}`),
    u32('general.alignment', GGUF_DEFAULT_ALIGNMENT),
    u32('general.file_type', 1), // LLAMA_FTYPE_MOSTLY_F16
    u32('llama.context_length', o.ctx),
    u32('llama.embedding_length', o.embd),
    u32('llama.block_count', o.layers),
    u32('llama.feed_forward_length', o.ff),
    u32('llama.attention.head_count', o.heads),
    u32('llama.attention.head_count_kv', o.kvHeads),
    f32('llama.attention.layer_norm_rms_epsilon', 1e-5),
    u32('llama.rope.dimension_count', o.embd / o.heads),
    f32('llama.rope.freq_base', 10000),
    u32('llama.vocab_size', o.vocab),
    str('tokenizer.ggml.model', 'llama'),
    { key: 'tokenizer.ggml.tokens', type: 'array', arrayType: 'string', value: v.tokens },
    { key: 'tokenizer.ggml.scores', type: 'array', arrayType: 'f32', value: v.scores },
    { key: 'tokenizer.ggml.token_type', type: 'array', arrayType: 'i32', value: v.types },
    u32('tokenizer.ggml.bos_token_id', 1),
    u32('tokenizer.ggml.eos_token_id', 2),
    u32('tokenizer.ggml.unknown_token_id', 0),
    { key: 'tokenizer.ggml.add_bos_token', type: 'bool', value: true },
  ];
}

const CHUNK_ELEMENTS = 1 << 21;

/**
 * 65536 f16 values evenly spread over [-a, a]: a random 16-bit index picks one, which is ~30× faster than
 * converting a fresh random float per weight and uniform all the same.
 */
function halfTable(amplitude: number): Uint16Array {
  const table = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) table[i] = floatToHalf(((2 * (i + 0.5)) / 65536 - 1) * amplitude);
  return table;
}

function writeTensorData(fd: number, t: TensorPlan, rng: Rng, tables: Map<number, Uint16Array>, chunk: Uint16Array): void {
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (t.ggmlType === GgmlType.f32) {
    writeSync(fd, new Float32Array(n).fill(1));
  } else {
    if (!tables.has(t.amplitude)) tables.set(t.amplitude, halfTable(t.amplitude));
    const table = tables.get(t.amplitude)!;
    for (let done = 0; done < n; ) {
      const m = Math.min(CHUNK_ELEMENTS, n - done);
      for (let i = 0; i < m; i += 2) {
        const r = rng.nextU32();
        chunk[i] = table[r & 0xffff];
        chunk[i + 1] = table[r >>> 16];
      }
      writeSync(fd, chunk, 0, m * 2);
      done += m;
    }
  }
  const pad = alignUp(knownTensorBytes(t), GGUF_DEFAULT_ALIGNMENT) - knownTensorBytes(t);
  if (pad) writeSync(fd, Buffer.alloc(pad));
}

function paramCount(plan: readonly TensorPlan[]): number {
  return plan.reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0);
}

export interface RandomLlamaFile {
  path: string;
  options: RandomLlamaOptions;
  params: number;
  bytes: number;
}

/** Writes the model to `path` (through a temporary file, so a failure leaves nothing half-written). */
export function writeRandomLlamaGguf(path: string, partial: Partial<RandomLlamaOptions> = {}): RandomLlamaFile {
  const options = randomLlamaOptions(partial);
  const plan = tensorPlan(options);
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, encodeGgufHeader(metadata(options), plan));
    const rng = createRng(options.seed);
    const tables = new Map<number, Uint16Array>();
    const chunk = new Uint16Array(CHUNK_ELEMENTS);
    for (const t of plan) writeTensorData(fd, t, rng, tables, chunk);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw e;
  }
  return { path, options, params: paramCount(plan), bytes: statSync(path).size };
}

export interface CachedRandomLlama extends RandomLlamaFile {
  /** false when this call wrote the file */
  cached: boolean;
}

/** The model for these options from the kbench cache (<cache>/e2e/models), written there first when missing. */
export function cachedRandomLlamaGguf(partial: Partial<RandomLlamaOptions> = {}, dir = join(cacheDir(), 'e2e', 'models')): CachedRandomLlama {
  const options = randomLlamaOptions(partial);
  const hash = createHash('sha256').update(JSON.stringify({ writer: WRITER_VERSION, ...options })).digest('hex').slice(0, 16);
  const path = join(dir, `random-llama-${options.layers}x${options.embd}-${hash}.gguf`);
  if (existsSync(path)) {
    return { path, options, params: paramCount(tensorPlan(options)), bytes: statSync(path).size, cached: true };
  }
  mkdirSync(dir, { recursive: true });
  return { ...writeRandomLlamaGguf(path, options), cached: false };
}
