// One word per result, for tables, the agent and promotion: derived from a TargetResult, never stored.
import type { TargetResult } from '../ledger/records.js';

/**
 * - `host-failed`: the target or kbench itself failed (lost, unreachable, refused; a harness-error); the candidate
 *   was not judged
 * - `wrong` (WASM) / `wrong-native` (a native host): the check failed — compile error, trap, timeout, wrong
 *   output, out-of-bounds write or input mutation (see `check` for which). `wrong-native` after a WASM pass
 *   usually means the native #if branch differs.
 * - `emulated`: checked under qemu; its timings never make a verdict
 * - `suspect`: a timing is well past the speed of light measured beside it (work skipped, or a broken timer)
 * - `faster` / `slower`: at least one bench shape is, and no shape goes the other way
 * - `mixed`: faster on some shapes, slower on others
 * - `no-change`: every shape within the noise floor (or not timed)
 */
export type Outcome = 'host-failed' | 'wrong' | 'wrong-native' | 'emulated' | 'suspect' | 'faster' | 'slower' | 'mixed' | 'no-change';

/** Why the candidate was not judged at all (the target or kbench failed, not the candidate), or undefined. */
export function notJudged(result: TargetResult): string | undefined {
  if (result.hostFailure) return result.hostFailure;
  if (result.check.status === 'harness-error') return `kbench failed: ${result.check.message}`;
  return undefined;
}

export function outcomeOf(result: TargetResult): Outcome {
  if (notJudged(result)) return 'host-failed';
  if (result.check.status !== 'pass') return result.target === 'wasm' ? 'wrong' : 'wrong-native';
  if (result.speed.some((s) => s.emulated)) return 'emulated';
  if (result.speed.some((s) => s.suspect)) return 'suspect';
  const faster = result.speed.some((s) => s.verdict === 'faster');
  const slower = result.speed.some((s) => s.verdict === 'slower');
  if (faster && slower) return 'mixed';
  return faster ? 'faster' : slower ? 'slower' : 'no-change';
}

/** The best speedup estimate over the bench shapes (NaN when untimed): one number to rank candidates by. */
export function bestSpeedup(result: TargetResult): number {
  return result.speed.length ? Math.max(...result.speed.map((s) => s.speedup.estimate)) : NaN;
}

/** Geometric mean of the speedup estimates over the bench shapes (NaN when untimed). */
export function meanSpeedup(result: TargetResult): number {
  if (!result.speed.length) return NaN;
  return Math.exp(result.speed.reduce((sum, s) => sum + Math.log(s.speedup.estimate), 0) / result.speed.length);
}

/**
 * WASM rank-correlates with native AVX2 only at ρ ≈ 0.5–0.84, so the screen only rejects what it finds clearly
 * slow: a candidate goes on unless even its best bench shape is more than this fraction slower in WASM.
 */
export const DEFAULT_MARGIN = 0.25;

/** Why the screen result stops a candidate here, or undefined when it goes on to native hosts. */
export function wasmRejection(result: TargetResult, marginFraction = DEFAULT_MARGIN): string | undefined {
  if (result.hostFailure) return `not screened: ${result.hostFailure}`;
  if (result.check.status !== 'pass') return `failed the WASM check (${result.check.status})`;
  const suspect = result.speed.find((s) => s.suspect);
  if (suspect) return `its WASM timing on ${suspect.shape} is past the speed of light: ${suspect.suspect}`;
  const best = bestSpeedup(result);
  if (best < 1 - marginFraction) return `WASM speedup ${best.toFixed(3)} on its best shape is below ${(1 - marginFraction).toFixed(2)} (margin ${marginFraction})`;
  return undefined;
}
