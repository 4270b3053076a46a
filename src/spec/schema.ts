// The kernel spec (kernels/<name>/kernel.json): one zod schema is the single source of truth for
// validation, the TypeScript types and the JSON Schema editors use (schema/kernel.schema.json).
import { z } from 'zod';

export const DTYPES = ['f32', 'f16', 'i8', 'u8', 'i32'] as const;
export type Dtype = (typeof DTYPES)[number];

/** Arithmetic over shape variables, e.g. "rows*n" or "n/32*34"; see expr.ts for the grammar. */
const Expr = z.union([z.string().min(1), z.number()]).describe('expression over shape variables');

export const Tolerance = z
  .object({
    nmse: z.number().nonnegative().optional().describe('max Σ(a−b)²/Σb² over the buffer (floats)'),
    atol: z.number().nonnegative().optional().describe('elementwise |a−b| ≤ atol + rtol·|b|'),
    rtol: z.number().nonnegative().optional(),
    maxDiff: z.number().int().nonnegative().optional().describe('integers: max |a−b| in quanta (0 = exact)'),
    maxDiffShare: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe('integers: share of elements that may differ at all (catches a bias, e.g. truncation, hiding inside ±1)'),
    maxUlp: z.number().int().nonnegative().optional().describe('f16 fields: max distance in units of last place'),
  })
  .strict();
export type Tolerance = z.infer<typeof Tolerance>;

const BlockField = z
  .object({
    name: z.string().min(1),
    dtype: z.enum(DTYPES),
    count: z.number().int().positive(),
    tolerance: Tolerance.optional(),
  })
  .strict();

/** A u8 buffer made of fixed-size structs (e.g. ggml block_q8_0 = f16 d + 32 × i8). */
const BlockLayout = z
  .object({ bytes: z.number().int().positive(), fields: z.array(BlockField).min(1) })
  .strict();

const BufferParam = z
  .object({
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a C identifier'),
    kind: z.literal('buffer'),
    dtype: z.enum(DTYPES),
    length: Expr.describe('element count (bytes for u8)'),
    role: z
      .enum(['in', 'out', 'scratch'])
      .describe('in: generated input, checked unchanged; out: compared with the reference; scratch: a workspace, poisoned before every call and guard-zoned but never compared'),
    tolerance: Tolerance.optional(),
    blocks: BlockLayout.optional(),
  })
  .strict();

const ScalarParam = z
  .object({
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a C identifier'),
    kind: z.literal('scalar'),
    type: z.enum(['i32', 'f32']),
    value: Expr.describe('the value of listed shapes'),
    range: z
      .object({
        min: z.number(),
        max: z.number(),
        log: z.boolean().default(false).describe('draw log-uniformly (min > 0)'),
      })
      .strict()
      .optional()
      .describe("legal values: the check's random cases draw the scalar from here (3 significant digits)"),
  })
  .strict();

export const Param = z.discriminatedUnion('kind', [BufferParam, ScalarParam]);
export type BufferParam = z.infer<typeof BufferParam>;
export type ScalarParam = z.infer<typeof ScalarParam>;
export type Param = z.infer<typeof Param>;

const Special = z.union([z.number(), z.enum(['inf', '-inf', 'nan'])]);

export const Generator = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('uniform'), min: z.number(), max: z.number() }).strict(),
  z.object({ kind: z.literal('normal'), mean: z.number().default(0), std: z.number().positive() }).strict(),
  z.object({ kind: z.literal('constant'), value: Special }).strict(),
  z
    .object({
      kind: z.literal('mask'),
      cols: Expr.describe('row length; rows = length / cols'),
      causal: z.boolean().default(false).describe('(i, j) masked when j > i + cols − rows'),
      pMasked: z.number().min(0).max(1).default(0).describe('share of elements set to −inf at random'),
      maskedRows: z.array(z.number().int().nonnegative()).default([]).describe('rows set entirely to −inf'),
      value: z.number().default(0).describe('value of unmasked elements'),
      alibi: z
        .boolean()
        .default(false)
        .describe('unmasked elements hold −|i − j| instead of `value`, the query of row r sitting at position r + cols − rows: how llama.cpp fills the KQ mask for ALiBi'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('ties'),
      max: z.number().positive().describe('largest magnitude; every block holds ±max once'),
      step: z.number().positive().default(0.5).describe('values are random multiples of step in [−max, max]'),
      block: z.number().int().positive().default(32).describe('elements per block'),
    })
    .strict()
    .describe('tie-heavy data for quantizers: with max = 127 and step ½, x·127/max is exactly k or k + ½'),
]);
export type Generator = z.infer<typeof Generator>;

const Shape = z
  .object({ name: z.string().optional() })
  .catchall(z.number())
  .describe('shape variables (numbers) and an optional display name');
export type Shape = z.infer<typeof Shape>;

export const KernelSpec = z
  .object({
    $schema: z.string().optional(),
    name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower-case letters, digits and _'),
    description: z.string().default(''),
    function: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a C identifier'),
    params: z.array(Param).min(1),
    threads: z
      .object({ counts: z.array(z.number().int().positive()).min(1).default([1, 2, 3, 4, 8]) })
      .strict()
      .optional()
      .describe('kernel takes trailing (int ith, int nth) arguments, ggml style'),
    shapes: z.object({ check: z.array(Shape).min(1), bench: z.array(Shape).min(1) }).strict(),
    vary: z
      .record(
        z.string(),
        z
          .object({
            min: Expr.describe('over the listed shape and the variables declared before this one'),
            max: Expr,
            multipleOf: z.number().int().positive().optional(),
          })
          .strict(),
      )
      .default({})
      .describe('shape variables the check may draw at random (every residue modulo 64, and next to bench sizes); the others come from a listed check shape'),
    inputs: z.record(z.string(), Generator).describe('default generator per input buffer'),
    distributions: z
      .record(z.string(), z.record(z.string(), Generator))
      .default({})
      .describe('named input distributions; each overrides some generators of `inputs`'),
    tolerance: Tolerance.default({ nmse: 1e-7, atol: 1e-5, rtol: 1e-4 }),
    cost: z.object({ bytes: Expr, flops: Expr }).strict().describe('per call, for GB/s and GFLOP/s'),
    trials: z.number().int().positive().default(2).describe('fresh-input trials per shape and distribution'),
    upstream: z
      .object({
        source: z.string().default('upstream.c').describe('C file in the kernel folder, built against ggml headers and linked with its CPU backend'),
        call: z
          .enum(['graph', 'direct'])
          .describe('graph: one call (ith 0) computes kb_upstream_copies copies of the op with ggml at nth threads; direct: called per thread like any variant'),
        how: z.string().default('').describe('how ggml is called, shown beside upstream figures'),
      })
      .strict()
      .optional()
      .describe('how the real ggml op is called (the upstream variant); absent = no upstream variant'),
    graft: z
      .object({
        source: z.string().default('graft.cpp').describe('the replacement definition in the kernel folder: calls kbench_graft_<function>, falls back to <upstream function>_upstream'),
        file: z.string().describe('the upstream file it patches, relative to the llama.cpp root (ggml/src/ggml-cpu/ops.cpp)'),
        function: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).describe('the upstream function it replaces'),
        sha256: z.string().regex(/^[0-9a-f]{64}$/).describe("sha256 of that function's original text; a checkout where it differs is refused"),
        env: z.record(z.string(), z.string()).default({}).describe('environment both builds run under so ggml reaches the grafted function'),
        flashAttention: z
          .enum(['auto', 'on', 'off'])
          .default('auto')
          .describe("flash attention (llama-bench -fa) for the logits check and the timing: soft_max is its own op only with it 'off'"),
      })
      .strict()
      .optional()
      .describe('how a candidate is grafted into ggml for the end-to-end measure (kbench e2e); absent = no graft'),
  })
  .strict();
export type KernelSpec = z.infer<typeof KernelSpec>;
