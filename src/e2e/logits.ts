// The end-to-end correctness gate: before any timing, the reference and the grafted build run the same seeded token
// ids through the same model (remote/e2e/kb_logits.cpp) and their logits must agree: the top-1 token identical on
// every row (prompt positions and greedy decode steps) and the largest relative logit difference within a stated
// tolerance. A candidate that passed the op-level check but breaks the model (or crashes inside it) gets a verdict
// with the evidence, never an exception.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { KernelSpec } from '../spec/schema.js';
import type { LlamaBuild } from './build.js';
import { localE2e, q, type E2eHost } from './host.js';
import { describeExit, type FlashAttn } from './llama-bench.js';

export interface LogitsOptions {
  /** prompt length: one batch, so the ops see many rows split across threads */
  prompt: number;
  /** greedy decode steps after the prompt (one row each) */
  steps: number;
  threads: number;
  seed: number;
  /** as llama-bench -fa (default auto); soft_max is its own op only with 'off' */
  flashAttention: FlashAttn;
  timeoutMs: number;
}

export const DEFAULT_LOGITS_OPTIONS: LogitsOptions = { prompt: 32, steps: 16, threads: 2, seed: 1, flashAttention: 'auto', timeoutMs: 120_000 };

/**
 * The finest step an activation keeps through a llama model: the KV cache is f16 and so are the matmul inputs of f16
 * weights, so any op change larger than its last bit moves some activations by an f16 rounding (unit roundoff 2^-11).
 * Measured (kernels/rms_norm/NOTES.md): honest rms_norm candidates grafted into 2- and 4-layer f16 models move the
 * logits by 5.4e-4 to 9.0e-4 relative, a few such roundings; a candidate whose outputs are 1% off, by 1.5e-2 to 1.8e-2.
 */
export const F16_UNIT_ROUNDOFF = 2 ** -11;

/** How far an op's error, or one activation rounding, may grow through the layers to the logits. */
export const LOGITS_AMPLIFICATION = 10;

/**
 * The logits tolerance: LOGITS_AMPLIFICATION times the larger of the op's own rtol (1e-4 when its spec states none)
 * and the model's activation rounding (f16 by default; pass a coarser one for models whose activations are
 * quantized, e.g. q8_0 matmul inputs). For rms_norm on an f16 model: 10 × max(1e-4, 4.9e-4) = 4.9e-3.
 */
export function logitsTolerance(spec: KernelSpec, activationRoundoff = F16_UNIT_ROUNDOFF): number {
  return Math.max(spec.tolerance.rtol ?? 1e-4, activationRoundoff) * LOGITS_AMPLIFICATION;
}

export interface LogitsRun {
  nVocab: number;
  prompt: number;
  steps: number;
  /** the tokens fed in the decode steps (greedy choices) */
  tokens: number[];
  /** (prompt + steps) rows of nVocab */
  logits: Float32Array;
  /** ops that took the grafted candidate's path; -1 for a build without a graft */
  graftCalls: number;
}

export type LogitsRunResult = { ok: true; run: LogitsRun } | { ok: false; reason: string };

/**
 * Runs the build's logits tool once on the host, in a bundle folder whose out/ comes back; a crash, timeout or
 * malformed output is a reason, not a throw (only the host itself failing throws, HostError).
 */
export async function runLogits(build: LlamaBuild, model: string, opts: LogitsOptions, h: E2eHost = localE2e()): Promise<LogitsRunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kbench-logits-'));
  try {
    mkdirSync(join(dir, 'out'));
    const args = [model, 'out/logits.bin', '--prompt', String(opts.prompt), '--steps', String(opts.steps), '--threads', String(opts.threads), '--seed', String(opts.seed), '--fa', opts.flashAttention];
    const env = Object.entries(build.env).map(([k, v]) => q(`${k}=${v}`));
    // the time limit is the host's own `timeout` where it has one, so a hung candidate is a verdict, not a lost host
    const limit = `if command -v timeout >/dev/null 2>&1; then limit="timeout -k 2 ${Math.ceil(opts.timeoutMs / 1000)}"; else limit=; fi`;
    const command = `${limit}; exec $limit env ${env.join(' ')} ${[build.logitsTool, ...args].map(q).join(' ')}`;
    const r = await h.executor.runBundle(dir, command, 'out', { timeoutMs: opts.timeoutMs + 60_000 });
    if (r.exitCode !== 0 || r.signal) {
      const how = r.exitCode === TIMEOUT_STATUS ? `timed out after ${opts.timeoutMs} ms${r.stderr.trim() ? `: ${r.stderr.trim().slice(-2000)}` : ''}` : describeExit(r.exitCode, r.signal, r.stderr);
      return { ok: false, reason: `kb_logits ${how}` };
    }
    try {
      const meta = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { n_vocab: number; rows: number; prompt: number; steps: number; tokens: number[]; graft_calls: number };
      const bytes = readFileSync(join(dir, 'out', 'logits.bin'));
      const expected = meta.rows * meta.n_vocab * 4;
      if (bytes.length !== expected) return { ok: false, reason: `kb_logits wrote ${bytes.length} bytes of logits, expected ${expected}` };
      const logits = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
      return { ok: true, run: { nVocab: meta.n_vocab, prompt: meta.prompt, steps: meta.steps, tokens: meta.tokens, logits, graftCalls: meta.graft_calls } };
    } catch (e) {
      return { ok: false, reason: `kb_logits output unreadable: ${(e as Error).message}` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What coreutils' timeout exits with when the limit ran out. */
const TIMEOUT_STATUS = 124;

export interface LogitsVerdict {
  /** unreached: the grafted function never took the candidate's path, so nothing of the candidate was checked */
  status: 'agree' | 'differ' | 'failed' | 'unreached';
  reason: string;
  /** rows compared (prompt positions, then decode steps) */
  rows: number;
  /** max over rows of max|graft - reference| / max|reference| of that row */
  maxRelDiff: number;
  worstRow: number;
  tolerance: number;
  /** first row whose top-1 token differs, or null */
  top1MismatchRow: number | null;
  /** ops that took the candidate's path in the grafted run (0 when it failed) */
  graftCalls: number;
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

function rowName(run: LogitsRun, r: number): string {
  return r < run.prompt ? `prompt position ${r}` : `decode step ${r - run.prompt + 1}`;
}

/** Judges a grafted build's logits against the reference's (pure: the tests feed it hand-made rows). */
export function compareLogits(ref: LogitsRun, graft: LogitsRun, tolerance: number): LogitsVerdict {
  const rows = ref.prompt + ref.steps;
  const base = { rows, tolerance, maxRelDiff: 0, worstRow: 0, top1MismatchRow: null as number | null, graftCalls: graft.graftCalls };
  if (graft.nVocab !== ref.nVocab || graft.prompt !== ref.prompt || graft.steps !== ref.steps)
    return { ...base, status: 'failed', reason: `the grafted build's logits have another shape (${graft.prompt}+${graft.steps} rows of ${graft.nVocab}, reference ${ref.prompt}+${ref.steps} of ${ref.nVocab})` };
  let maxRelDiff = 0;
  let worstRow = 0;
  for (let r = 0; r < rows; r++) {
    const a = ref.logits.subarray(r * ref.nVocab, (r + 1) * ref.nVocab);
    const b = graft.logits.subarray(r * ref.nVocab, (r + 1) * ref.nVocab);
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(b[i])) return { ...base, maxRelDiff: Infinity, worstRow: r, status: 'differ', reason: `the grafted build's logit ${i} at ${rowName(ref, r)} is ${b[i]}` };
      scale = Math.max(scale, Math.abs(a[i]));
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
    }
    const rel = scale > 0 ? diff / scale : diff;
    if (rel > maxRelDiff) [maxRelDiff, worstRow] = [rel, r];
    const top = argmax(a);
    const graftTop = argmax(b);
    if (top !== graftTop) {
      return {
        ...base, maxRelDiff, worstRow, top1MismatchRow: r, status: 'differ',
        reason: `top-1 token differs at ${rowName(ref, r)}: reference ${top} (logit ${a[top].toPrecision(6)}), grafted ${graftTop} (logit ${b[graftTop].toPrecision(6)}; the reference gives it ${a[graftTop].toPrecision(6)})`,
      };
    }
  }
  const figures = `max relative logit difference ${maxRelDiff.toExponential(2)} (at ${rowName(ref, worstRow)}), tolerance ${tolerance.toExponential(2)}`;
  if (maxRelDiff > tolerance) return { ...base, maxRelDiff, worstRow, status: 'differ', reason: `${figures}: exceeded` };
  return { ...base, maxRelDiff, worstRow, status: 'agree', reason: `top-1 identical over ${rows} rows (${ref.prompt} prompt positions, ${ref.steps} decode steps); ${figures}` };
}

/**
 * Runs both builds on the same model and tokens (both under the graft's environment and flash attention setting)
 * and judges them. The reference
 * failing is an error of the model or the setup (exit 2 names the model); the graft failing is a verdict.
 */
export async function checkLogits(ref: LlamaBuild, graft: LlamaBuild, model: string, tolerance: number, opts: Partial<LogitsOptions> = {}, h: E2eHost = localE2e()): Promise<LogitsVerdict> {
  const o = { ...DEFAULT_LOGITS_OPTIONS, flashAttention: graft.flashAttention, ...opts };
  const expected = await runLogits({ ...ref, env: graft.env }, model, o, h);
  if (!expected.ok) throw new UsageError(`${model}${h.local ? '' : ` on host '${h.config.name}'`}: the reference llama.cpp build cannot run this model: ${expected.reason}`);
  const got = await runLogits(graft, model, o, h);
  const rows = o.prompt + o.steps;
  if (!got.ok) return { status: 'failed', reason: `the grafted build failed: ${got.reason}`, rows, maxRelDiff: Infinity, worstRow: 0, tolerance, top1MismatchRow: null, graftCalls: 0 };
  const verdict = compareLogits(expected.run, got.run, tolerance);
  if (verdict.status === 'agree' && got.run.graftCalls === 0) {
    const env = Object.entries(graft.env).map(([k, v]) => `${k}=${v}`).join(' ');
    return { ...verdict, status: 'unreached', reason: `the model never took the graft's path (0 ops reached the candidate${env ? ` with ${env}` : ''}): the candidate was not checked, and timing it would measure upstream against itself` };
  }
  return verdict;
}
