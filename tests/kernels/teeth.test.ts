// The checks of the built-in suite have teeth: every planted bug in tests/fixtures/broken/<kernel>/<bug>.json (edits
// to a correct source of the suite: {from, bug, edits: [{find, replace}]}) gets the verdict written below, and the
// source it derives from passes, so each failure is the bug's and not the fixture's.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckVerdict } from '../../src/check/verdict.js';
import type { TargetResult } from '../../src/ledger/records.js';
import { ScreenSession } from '../../src/screen/session.js';
import { BUILTIN_KERNELS_DIR, loadKernel, type Kernel } from '../../src/spec/suite.js';
import { FIXTURES, tempDir } from '../helpers/fixtures.js';

const BROKEN = join(FIXTURES, 'broken');
const KERNELS = ['rms_norm', 'rms_norm_mul', 'quantize_q8_0', 'softmax', 'fa_kq_tile', 'fa_kq_tile_f16k'];
/** f32 lanes of one WASM SIMD128 vector: a length that leaves a tail after 4-lane vectors leaves one after the
 * avx2 screen model's 8-lane vectors too, so a tail bug must show there under either model */
const WASM_LANES = 4;

interface Case {
  kernel: string;
  file: string;
  /** the test's name: what happens to this bug */
  caught: string;
  /** matched against the verdict with toMatchObject (asymmetric matchers allowed) */
  expect: Record<string, unknown>;
  /** a condition on the check shape the bug was found at ("n=17 rows=3" → { n: 17, rows: 3 }) and its nth */
  at?: (shape: Record<string, number>, nth: number) => boolean;
  /** 'plain': planted in a __wasm_simd128__ branch, so screened without the avx2 model's x86 headers (with them the
   * candidate's AVX2 branch is built instead, as natively) */
  screen?: 'plain';
}

const manyThreads = expect.toSatisfy((nth: number) => nth > 1);
const tailLength = (len: number) => len % WASM_LANES !== 0;
/** rows a floor-divided contiguous split leaves to nobody exist only when nth does not divide rows */
const rowsLeftOver = (s: Record<string, number>, nth: number) => nth > 1 && s.rows % nth !== 0;
const differs = (reason: RegExp) => ({ status: 'wrong', reason: expect.stringMatching(reason) });
const BEYOND_TOLERANCE = /\|diff\| .* > atol \+ rtol/;
const NAN_OUT = /NaN where the reference is a number/;

const CASES: Case[] = [
  // rms_norm, from candidates/vec4.c
  { kernel: 'rms_norm', file: 'sum_drops_last_element', caught: 'a sum of squares missing its last tail element is wrong on a tail length',
    expect: { ...differs(BEYOND_TOLERANCE), buffer: 'y' }, at: (s) => tailLength(s.n) },
  { kernel: 'rms_norm', file: 'partition_floor_skips_rows', caught: 'rows / nth rows per thread (floor) leaves rows unwritten when nth does not divide rows',
    expect: { status: 'wrong', buffer: 'y', nth: manyThreads }, at: rowsLeftOver },
  { kernel: 'rms_norm', file: 'partition_overlapping_ranges', caught: 'row ranges with an inclusive end are caught writing the same row from two threads',
    expect: { ...differs(/written by both ith=\d+ and ith=\d+ of nth=\d+/), buffer: 'y', nth: manyThreads } },

  // rms_norm_mul, from candidates/fused.c
  { kernel: 'rms_norm_mul', file: 'tail_drops_last_element', caught: 'a fused pass that never writes the last tail element leaves NaN poison in y',
    expect: { ...differs(NAN_OUT), buffer: 'y' }, at: (s) => tailLength(s.n) },
  { kernel: 'rms_norm_mul', file: 'tail_without_weight', caught: 'a tail that forgets the weight is wrong on a tail length',
    expect: { ...differs(BEYOND_TOLERANCE), buffer: 'y' }, at: (s) => tailLength(s.n) },
  { kernel: 'rms_norm_mul', file: 'weight_from_wrong_row', caught: 'weights indexed by the x row instead of broadcast are wrong from the second row on',
    expect: { ...differs(BEYOND_TOLERANCE), buffer: 'y' }, at: (s) => s.rows > 1 },
  { kernel: 'rms_norm_mul', file: 'partition_floor_skips_rows', caught: 'rows / nth rows per thread (floor) leaves rows unwritten when nth does not divide rows',
    expect: { status: 'wrong', buffer: 'y', nth: manyThreads }, at: rowsLeftOver },

  // quantize_q8_0, from candidates/adaptive_split.c
  { kernel: 'quantize_q8_0', file: 'amax_skips_last_element', caught: 'max|x| over 31 of 32 elements gives a block scale many f16 ulp off',
    expect: { ...differs(/^block \d+ field d: \d+ f16 ulp apart/), buffer: 'y' } },
  { kernel: 'quantize_q8_0', file: 'partition_floor_skips_rows', caught: 'rows / nth rows per thread (floor) leaves blocks unwritten when nth does not divide rows',
    expect: { ...differs(/^block \d+ field d/), buffer: 'y', nth: manyThreads }, at: rowsLeftOver },
  { kernel: 'quantize_q8_0', file: 'd_from_signed_max', caught: 'a scale from max x instead of max |x| is many f16 ulp off',
    expect: { ...differs(/^block \d+ field d: \d+ f16 ulp apart/), buffer: 'y' } },
  { kernel: 'quantize_q8_0', file: 'd_as_truncated_f32_bits', caught: 'a scale stored as the top half of the f32 (a bfloat16) is thousands of f16 ulp off',
    expect: { ...differs(/^block \d+ field d: \d{4,} f16 ulp apart/), buffer: 'y' } },
  // Truncation toward zero is never more than 1 off, so the elementwise ±1 bound alone let it through; its damage is a
  // bias (about half the quants shrink by 1: 4x the squared error of rounding). Correct quantizers are almost never
  // 1 off, so the spec caps the share of quants that may differ at all (maxDiffShare 0.01).
  { kernel: 'quantize_q8_0', file: 'round_by_truncation', caught: 'rounding by truncation is a bias: far more than 1% of quants are 1 off',
    expect: { ...differs(/^block \d+ field qs: \d+\.\d% of elements differ \(allowed 1\.0%\): a systematic bias/), buffer: 'y' } },
  // d must be exact to f16 rounding (maxUlp 0): a conversion that chops the mantissa is 1 ulp below on about half the blocks.
  { kernel: 'quantize_q8_0', file: 'd_half_truncated', caught: 'an f16 conversion that chops instead of rounding is 1 ulp off',
    expect: { ...differs(/^block \d+ field d: 1 f16 ulp apart \(allowed 0\)/), buffer: 'y' } },

  // softmax, from candidates/fused_max.c
  { kernel: 'softmax', file: 'tail_drops_last_element', caught: 'a tail vector one lane short gives the last element probability 0 on a tail length',
    expect: { ...differs(BEYOND_TOLERANCE), buffer: 'y' }, at: (s) => tailLength(s.n) },
  { kernel: 'softmax', file: 'partition_unclamped_ranges', caught: 'ceil(rows / nth) rows per thread with no clamp writes past the end of y',
    expect: { status: 'out-of-bounds', buffer: 'y', side: 'after', nth: manyThreads } },
  { kernel: 'softmax', file: 'mask_ignored', caught: 'ignoring the mask gives probability to -inf positions',
    expect: { ...differs(BEYOND_TOLERANCE), buffer: 'y', got: expect.toSatisfy((p: number) => p > 0), expected: 0 } },
  { kernel: 'softmax', file: 'slope_ignored', caught: 'ignoring the slope is wrong on a shape whose slope is not 1',
    expect: { ...differs(BEYOND_TOLERANCE), buffer: 'y' }, at: (s) => s.slope !== 1 },
  { kernel: 'softmax', file: 'masked_row_nan', caught: 'a fully masked row left as exp(-inf - -inf) is NaN where zeros are defined',
    expect: { ...differs(NAN_OUT), buffer: 'y', expected: 0 } },

  // fa_kq_tile, from candidates/fused_scale_mask_max.c
  { kernel: 'fa_kq_tile', file: 'tail_column_dropped', caught: 'a GEMM missing the last key column of a partial tile leaves NaN poison in P',
    expect: { ...differs(NAN_OUT), buffer: 'p' }, at: (s) => s.bc % 4 !== 0 && s.br >= 2 },
  { kernel: 'fa_kq_tile', file: 'fused_softcap', caught: 'the fused scale+mask+max path taken with softcap on is wrong on a softcap shape',
    expect: { ...differs(BEYOND_TOLERANCE), buffer: 'p' }, at: (s) => s.softcap !== 0 },
  { kernel: 'fa_kq_tile', file: 'softcap_after_mask', caught: 'a softcap applied after the mask add is wrong on a softcap shape',
    expect: { ...differs(BEYOND_TOLERANCE), buffer: 'p' }, at: (s) => s.softcap !== 0 },
  { kernel: 'fa_kq_tile', file: 'mask_ignored', caught: 'ignoring the mask is wrong in P',
    expect: { ...differs(BEYOND_TOLERANCE), buffer: 'p' } },
  { kernel: 'fa_kq_tile', file: 'rescale_zero_for_masked_row', caught: 'rescale 0 for a fully masked row is caught by the masked-row distributions',
    expect: { ...differs(BEYOND_TOLERANCE), buffer: 'rescale', got: 0, expected: 1, distribution: expect.stringMatching(/^masked_rows/) } },
  { kernel: 'fa_kq_tile', file: 'l_not_rescaled', caught: 'a running sum not multiplied by the rescale factor is wrong in l on a later tile',
    expect: { ...differs(BEYOND_TOLERANCE), buffer: 'l_out', distribution: expect.not.stringMatching(/^first_tile$/) } },
  { kernel: 'fa_kq_tile', file: 'm_in_left_out_of_max', caught: 'a row max that forgets the earlier tiles is wrong on a later tile',
    expect: { ...differs(BEYOND_TOLERANCE), distribution: expect.not.stringMatching(/^first_tile$/) } },

  // fa_kq_tile_f16k, from candidates/convert_in_gemm.c: the half → float conversion of K
  { kernel: 'fa_kq_tile_f16k', file: 'vector_sign_dropped', caught: 'a vector conversion that drops the sign of K is wrong',
    expect: { ...differs(BEYOND_TOLERANCE) }, screen: 'plain' },
  { kernel: 'fa_kq_tile_f16k', file: 'exponent_bias_off_by_one', caught: 'an exponent rebias off by one halves K and is wrong',
    expect: { ...differs(BEYOND_TOLERANCE) }, screen: 'plain' },
  { kernel: 'fa_kq_tile_f16k', file: 'avx2_sign_dropped', caught: "an AVX2-branch conversion that drops the sign of K is wrong (the avx2 model builds that branch on kbench's x86 headers)",
    expect: { ...differs(BEYOND_TOLERANCE) } },
  { kernel: 'fa_kq_tile_f16k', file: 'scalar_tail_sign_dropped', caught: 'a scalar tail conversion that drops the sign is wrong on a partial tile',
    expect: { status: 'wrong' } },
];

interface PlantedBug {
  /** the correct source it derives from, relative to kernels/ */
  from: string;
  bug: string;
  /** each `find` occurs exactly once in the source */
  edits: { find: string; replace: string }[];
}

function planted(kernel: string, file: string): PlantedBug {
  return JSON.parse(readFileSync(join(BROKEN, kernel, `${file}.json`), 'utf8'));
}

function derivedFrom(kernel: string, file: string): string {
  return planted(kernel, file).from;
}

/** The broken C source: the edits applied to the correct one, located in the original and applied from the end. */
function brokenSource(kernel: string, file: string): string {
  const { from, edits } = planted(kernel, file);
  const source = readFileSync(join(BUILTIN_KERNELS_DIR, from), 'utf8');
  const spans = edits.map((e) => {
    const at = source.indexOf(e.find);
    if (at < 0 || source.indexOf(e.find, at + 1) >= 0) throw new Error(`${kernel}/${file}.json: an edit's text is not found exactly once in ${from}`);
    return { at, end: at + e.find.length, replace: e.replace };
  });
  return spans.sort((x, y) => y.at - x.at).reduce((text, e) => text.slice(0, e.at) + e.replace + text.slice(e.end), source);
}

let session: ScreenSession;
let plainSession: ScreenSession;
const kernels = new Map<string, Kernel>();
const results = new Map<string, Promise<TargetResult>>();

beforeAll(() => {
  session = ScreenSession.open({ workDir: tempDir(), cc: 'yowasp', jobTimeoutMs: 20_000 });
  plainSession = ScreenSession.open({ workDir: tempDir(), cc: 'yowasp', jobTimeoutMs: 20_000, intrinsics: false });
  const jobs: { key: string; kernel: string; source: string; plain?: boolean }[] = [];
  for (const name of KERNELS) {
    kernels.set(name, loadKernel(join(BUILTIN_KERNELS_DIR, name)));
    const control = derivedFrom(name, CASES.find((c) => c.kernel === name)!.file);
    jobs.push({ key: `${name}/control`, kernel: name, source: readFileSync(join(BUILTIN_KERNELS_DIR, control), 'utf8') });
    for (const c of CASES.filter((c) => c.kernel === name)) jobs.push({ key: `${name}/${c.file}`, kernel: name, source: brokenSource(name, c.file), plain: c.screen === 'plain' });
  }
  // Two screens in flight: the compiler (one worker) builds the next while the sandbox checks the previous.
  jobs.forEach((job, i) => {
    const before = i >= 2 ? results.get(jobs[i - 2].key)! : Promise.resolve();
    const result = before
      .catch(() => {})
      .then(() => (job.plain ? plainSession : session).screenCandidate(kernels.get(job.kernel)!, { name: job.key, source: job.source }, { bench: false }));
    result.catch(() => {}); // awaited by its test; this only keeps a filtered-out test's failure from going unhandled
    results.set(job.key, result);
  });
});
afterAll(async () => {
  await Promise.allSettled(results.values());
  await Promise.all([session?.close(), plainSession?.close()]);
});

describe.each(KERNELS)('planted bugs in %s', (kernel) => {
  const cases = CASES.filter((c) => c.kernel === kernel);

  it('every fixture is in the table and derives from the same correct source', () => {
    const files = readdirSync(join(BROKEN, kernel)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
    expect(files.sort()).toEqual(cases.map((c) => c.file).sort());
    expect(new Set(cases.map((c) => derivedFrom(kernel, c.file))).size).toBe(1);
  });

  it('the source they derive from passes', async () => {
    expect((await results.get(`${kernel}/control`)!).check).toMatchObject({ status: 'pass' });
  });

  it.each(cases.map((c) => [`${c.file}: ${c.caught}`, c] as const))('%s', async (_, { file, expect: expected, at }) => {
    const check: CheckVerdict = (await results.get(`${kernel}/${file}`)!).check;
    expect(check).toMatchObject(expected);
    if (at) {
      const where = check as { shape?: string; nth?: number };
      const shape = Object.fromEntries((where.shape ?? '').split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
      expect(at(shape, where.nth ?? 1), `found at ${where.shape}, nth=${where.nth}`).toBe(true);
    }
  });
});
