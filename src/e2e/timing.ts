// End-to-end timing: the reference llama-bench and the grafted one alternate, one invocation each per round in a
// seeded random order, on one host, model and thread count. Per test (pp/tg) and depth, the paired ratios
// graft/reference of tokens per second get the median-of-ratios bootstrap CI, noise floor and verdict every kbench
// speedup gets, and the run the stability rules of measure/stability.ts. The statistics are pure functions of the
// rounds (summarizeE2eRounds), so a caller can feed rounds from anywhere.
import { bootstrapMedianCI, median, pairedRatios, speedVerdict } from '../measure/stats.js';
import { baselineDriftReason, machineReasons, stabilityOf, wideCiReason, type LoadSnapshot, type Stability } from '../measure/stability.js';
import { createRng } from '../rng.js';
import type { Interval, SpeedVerdict } from '../measure/types.js';
import type { Executor } from '../remote/executor.js';
import { probeLoad } from '../remote/load.js';
import { formatNs } from '../format.js';
import { UsageError } from '../errors.js';
import type { E2eTestResult } from '../ledger/records.js';
import { checkLlamaBenchArgs, runLlamaBench, type LlamaBenchArgs, type LlamaBenchTest } from './llama-bench.js';

export type Side = 'reference' | 'graft';

export interface E2eRound {
  /** which binary ran first */
  order: [Side, Side];
  reference: LlamaBenchTest[];
  graft: LlamaBenchTest[];
}

export type { E2eTestResult };

export interface E2eTiming {
  status: 'timed' | 'failed';
  /** why the run failed, naming the binary */
  reason?: string;
  bench: LlamaBenchArgs;
  reference: string;
  graft: string;
  seed: number;
  rounds: E2eRound[];
  tests: E2eTestResult[];
  load: { start?: LoadSnapshot; end?: LoadSnapshot };
  stability: Stability;
}

export interface E2eTimingOptions {
  executor: Executor;
  /** llama-bench binaries on the executor's host */
  reference: string;
  graft: string;
  bench: LlamaBenchArgs;
  /** environment of both binaries (the graft recipe's: the reference runs under it too, so only the op differs) */
  env?: Record<string, string>;
  /** invocations of each binary (default 10) */
  rounds?: number;
  seed?: number;
  /** a verdict needs the CI outside [1/(1+f), 1+f] (default 0.02, as kbench run) */
  noiseFloor?: number;
  /** per invocation (default 10 min) */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** after each completed round (progress) */
  onRound?: (round: E2eRound, index: number, of: number) => void;
}

export const E2E_DEFAULTS = { rounds: 10, seed: 1, noiseFloor: 0.02, timeoutMs: 600_000 };

/**
 * Runs the rounds and judges them; a binary that fails ends the run with status 'failed' and a reason naming it.
 * Bad options throw UsageError before anything runs.
 */
export async function timeE2e(opts: E2eTimingOptions): Promise<E2eTiming> {
  const n = opts.rounds ?? E2E_DEFAULTS.rounds;
  const seed = opts.seed ?? E2E_DEFAULTS.seed;
  const timeoutMs = opts.timeoutMs ?? E2E_DEFAULTS.timeoutMs;
  if (!(Number.isInteger(n) && n >= 1)) throw new UsageError(`e2e rounds: must be a whole number ≥ 1, got ${n}`);
  checkLlamaBenchArgs(opts.bench);
  const binaries: Record<Side, string> = { reference: opts.reference, graft: opts.graft };
  const orders = roundOrders(n, seed);
  const start = await probeLoad(opts.executor);
  const rounds: E2eRound[] = [];
  let reason: string | undefined;
  for (let i = 0; i < n; i++) {
    const got: Partial<Record<Side, LlamaBenchTest[]>> = {};
    for (const side of orders[i]) {
      const outcome = await runLlamaBench(opts.executor, binaries[side], opts.bench, { timeoutMs, signal: opts.signal, env: opts.env });
      if (!outcome.ok) {
        reason = `the ${side} llama-bench (${binaries[side]}) ${outcome.reason}`;
        break;
      }
      got[side] = outcome.tests;
    }
    if (reason) break;
    const round = { order: orders[i], reference: got.reference!, graft: got.graft! };
    rounds.push(round);
    opts.onRound?.(round, i, n);
  }
  const load = { start, end: await probeLoad(opts.executor) };
  const base = { bench: opts.bench, reference: opts.reference, graft: opts.graft, seed, rounds, load };
  if (reason) return { ...base, status: 'failed', reason, tests: [], stability: stabilityOf(machineReasons(load.start, load.end)) };
  const tests = summarizeE2eRounds(rounds, { seed, noiseFloor: opts.noiseFloor ?? E2E_DEFAULTS.noiseFloor });
  return { ...base, status: 'timed', tests, stability: e2eStability(tests, load) };
}

/** Which binary goes first in each round: a fair coin per round from the seed, so drift cannot favour one side. */
export function roundOrders(rounds: number, seed: number): [Side, Side][] {
  const rng = createRng(seed);
  return Array.from({ length: rounds }, () => (rng.nextU32() & 1 ? ['graft', 'reference'] : ['reference', 'graft']));
}

/** Per test and depth, in the order of the first round: paired ratios, bootstrap CI, verdict. */
export function summarizeE2eRounds(rounds: readonly E2eRound[], { seed, noiseFloor }: { seed: number; noiseFloor: number }): E2eTestResult[] {
  if (rounds.length === 0) return [];
  return rounds[0].reference.map((first, id): E2eTestResult => {
    const pick = (tests: LlamaBenchTest[], side: Side, r: number) => {
      const t = tests.find((x) => x.label === first.label);
      if (!t) throw new RangeError(`round ${r} has no ${first.label} test for the ${side}`);
      return t;
    };
    const referenceNs = rounds.map((r, i) => pick(r.reference, 'reference', i).ns);
    const graftNs = rounds.map((r, i) => pick(r.graft, 'graft', i).ns);
    // pairedRatios gives reference time ÷ graft time, which is graft tokens/s ÷ reference tokens/s
    const ratio = bootstrapMedianCI(pairedRatios(referenceNs, graftNs), { seed: seed + id });
    const verdict = speedVerdict(ratio, noiseFloor);
    const tps = (ns: number[]) => (first.tokens * 1e9) / median(ns);
    return {
      label: first.label,
      kind: first.kind,
      tokens: first.tokens,
      depth: first.depth,
      referenceNs,
      graftNs,
      referenceTokensPerS: tps(referenceNs),
      graftTokensPerS: tps(graftNs),
      ratio,
      verdict,
      noiseFloor,
      summary: describeE2eVerdict(ratio, verdict, noiseFloor),
    };
  });
}

const signedPercent = (ratio: number) => `${ratio >= 1 ? '+' : '−'}${(Math.abs(ratio - 1) * 100).toFixed(1)}%`;

/**
 * The verdict in words. 'no-change' has two meanings worth telling apart: the whole CI inside the noise band (the
 * change is too small to matter, whatever more rounds show) and a CI reaching past it (too noisy to tell yet).
 */
export function describeE2eVerdict(ratio: Interval, verdict: SpeedVerdict, noiseFloor: number): string {
  const ci = `${Math.round(ratio.level * 100)}% CI ${signedPercent(ratio.lo)} … ${signedPercent(ratio.hi)}`;
  const band = `±${(noiseFloor * 100).toFixed(noiseFloor * 100 < 1 ? 1 : 0)}% noise floor`;
  if (verdict === 'faster') return `faster: ${signedPercent(ratio.estimate)} tokens/s (${ci})`;
  if (verdict === 'slower') return `slower: ${signedPercent(ratio.estimate)} tokens/s (${ci})`;
  if (!(Number.isFinite(ratio.lo) && Number.isFinite(ratio.hi))) return 'no verdict: no finite ratio';
  if (ratio.lo >= 1 / (1 + noiseFloor) && ratio.hi <= 1 + noiseFloor)
    return `no change: ${signedPercent(ratio.estimate)} tokens/s (${ci}) lies within the ${band}`;
  return `inconclusive: ${signedPercent(ratio.estimate)} tokens/s (${ci}): the CI overlaps the ${band} and reaches past it; add rounds to tell`;
}

/**
 * The same rules as a kbench run: a busy or throttled host, a CI wide enough to say the rounds disagree, and the
 * reference drifting (each third of the rounds against the whole run, as a baseline timed beside candidates).
 */
export function e2eStability(tests: readonly E2eTestResult[], load: { start?: LoadSnapshot; end?: LoadSnapshot }): Stability {
  const reasons = machineReasons(load.start, load.end);
  for (const t of tests) {
    const wide = wideCiReason(t.label, t.ratio.lo, t.ratio.hi);
    if (wide) reasons.push(wide);
    const all = median(t.referenceNs);
    const third = Math.floor(t.referenceNs.length / 3);
    if (third < 2) continue;
    for (let k = 0; k < 3; k++) {
      const part = t.referenceNs.slice(k * third, k === 2 ? undefined : (k + 1) * third);
      const drift = baselineDriftReason(`${t.label} (reference, rounds ${k * third + 1}–${k * third + part.length})`, median(part), all, formatNs);
      if (drift) reasons.push(drift);
    }
  }
  return stabilityOf(reasons);
}
