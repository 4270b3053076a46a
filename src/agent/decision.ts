// Turning results into decisions and into the text the model reads. Pure functions over TargetResult.
import { describeVerdict } from '../check/verdict.js';
import type { TargetResult } from '../ledger/records.js';
import { notJudged, wasmRejection } from '../remote/outcome.js';
import type { ScreenOutcome } from '../ledger/agent-events.js';
import { lightShare } from '../measure/speed-of-light.js';
import type { ScreenFloors } from '../measure/memory-floor.js';
import type { Interval } from '../measure/types.js';
import { formatNs, formatSpeedup } from '../format.js';

const DIAGNOSTIC_MAX_LINES = 40;
const DIAGNOSTIC_MAX_CHARS = 3000;

/** A passing candidate survives unless clearly slow in WASM, by the same calibrated margin `kbench promote` uses. */
export function screenOutcome(r: TargetResult): ScreenOutcome {
  if (notJudged(r)) return 'host-failure';
  if (r.check.status !== 'pass') return 'failed';
  if (r.speed.some((s) => s.suspect)) return 'suspect';
  return wasmRejection(r) ? 'slower' : 'survivor';
}

/** Geometric mean of the point speedups over all shapes (and targets); undefined without timings. */
export function pooledMeanSpeedup(results: TargetResult[]): number | undefined {
  const ests = results.flatMap((r) => r.speed.map((s) => s.speedup.estimate)).filter((x) => x > 0);
  if (ests.length === 0) return undefined;
  return Math.exp(ests.reduce((a, x) => a + Math.log(x), 0) / ests.length);
}

export interface Decision {
  decision: 'kept' | 'discarded' | 'failed';
  reason: string;
  speedup?: number;
}

/** Kept when every target passed the check, no shape is slower anywhere, and some shape is faster somewhere. */
export function decide(results: TargetResult[]): Decision {
  const judged = results.filter((r) => !notJudged(r));
  if (judged.length === 0)
    return { decision: 'failed', reason: `no target could judge it (${results.map((r) => `${r.target}: ${notJudged(r)}`).join('; ')})` };
  const bad = judged.find((r) => r.check.status !== 'pass');
  if (bad) return { decision: 'discarded', reason: `${bad.target}: ${describeVerdict(bad.check)}` };
  // emulated timings (qemu) and implausible ones (faster than the speed of light) are evidence of nothing
  const trusted = (r: TargetResult) => r.speed.filter((s) => !s.emulated && !s.suspect);
  const speedup = pooledMeanSpeedup(judged.map((r) => ({ ...r, speed: trusted(r) })));
  const slower = judged.flatMap((r) => trusted(r).filter((s) => s.verdict === 'slower').map((s) => `${r.target} ${s.shape}`));
  const faster = judged.flatMap((r) => trusted(r).filter((s) => s.verdict === 'faster').map((s) => `${r.target} ${s.shape}`));
  const lost = results.filter((r) => notJudged(r)).map((r) => r.target);
  const note = lost.length ? ` (not judged on ${lost.join(', ')})` : '';
  if (slower.length) return { decision: 'discarded', reason: `slower on ${slower.join(', ')}${note}`, speedup };
  if (!faster.length) return { decision: 'discarded', reason: `no change beyond the noise floor${note}`, speedup };
  return { decision: 'kept', reason: `faster on ${faster.join(', ')}, slower nowhere${note}`, speedup };
}

/** Compiler output for the model: our temp paths removed, at most a screenful. */
export function trimDiagnostic(text: string): string {
  const scrubbed = text.replace(/(\/[^\s:'"]+\/)+(?=[^/\s:]+\.[ch]\b)/g, '');
  // a compiler driver may echo its whole command line: a wall of flags that helps no one
  const lines = scrubbed.split('\n').map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l));
  let out = lines.slice(0, DIAGNOSTIC_MAX_LINES).join('\n');
  if (out.length > DIAGNOSTIC_MAX_CHARS) out = out.slice(0, DIAGNOSTIC_MAX_CHARS);
  return out.length < lines.join('\n').length ? `${out}\n… (${lines.length} lines in all, cut)` : out;
}

/** How the text names what a candidate was timed against, and how to restate a speedup over the original baseline. */
export interface Reference {
  /** "the baseline", or "the champion h1-r0" */
  label: string;
  /** the champion's own name in a times column ("baseline" or "h1-r0") */
  name: string;
  /** absent for the baseline itself */
  overBaseline?: (target: string, shape: string, step: Interval) => Interval | undefined;
}

const BASELINE: Reference = { label: 'the baseline', name: 'baseline' };

/**
 * The speed per shape as the model reads it. With a calibrated host's memory floor (`floors`, WASM results only), a
 * shape whose WASM time is past it says so: natively, compute saved there no longer shows.
 */
export function formatSpeeds(r: TargetResult, ref: Reference = BASELINE, floors?: ScreenFloors): string {
  return r.speed
    .map((s) => {
      const suspect = s.suspect ? ` SUSPECT: ${s.suspect}` : '';
      const share = lightShare(s);
      const light = share === undefined ? '' : `, ${Math.round(share * 100)}% of the measured speed of light`;
      const total = ref.overBaseline?.(r.target, s.shape, s.speedup);
      const overall = total ? `; ${formatSpeedup(total, 3)} over the original baseline` : '';
      const u = s.vsUpstream;
      const up = u ? `; vs upstream ggml ${formatSpeedup(u, 3)} → ${u.verdict} (upstream ${formatNs(s.upstreamMedianNs ?? NaN)})` : '';
      const floor = floors?.shapes.find((f) => f.kernel === r.kernel && f.shape === s.shape && s.candidateMedianNs < f.floorWasmNs);
      const bound = floor ? `; past ${floors!.host}'s memory floor: natively this shape gains ≈ ${floor.capSpeedup.toFixed(1)}× over the baseline at most, so compute saved here will not show there` : '';
      return `- ${s.shape}: speedup ${formatSpeedup(s.speedup, 3)} ${Math.round(s.speedup.level * 100)}% CI → ${s.verdict} (${ref.name} ${formatNs(s.baselineMedianNs)}, candidate ${formatNs(s.candidateMedianNs)}${light})${overall}${up}${bound}${suspect}`;
    })
    .join('\n');
}

/** The tool result the model reads after submit_candidate. */
export function screenFeedback(r: TargetResult, revisionsLeft: number, ref: Reference = BASELINE, floors?: ScreenFloors): string {
  const left = revisionsLeft > 0 ? `You may revise ${revisionsLeft} more time(s).` : 'No revisions left for this hypothesis.';
  const failure = notJudged(r);
  if (failure) return `The screen itself failed (not a verdict on your code): ${failure}\n${left}`;
  const c = r.check;
  if (c.status === 'compile-error') return `compile-error (${r.toolchain}):\n${trimDiagnostic(c.diagnostic)}\n${left}`;
  if (c.status !== 'pass') return `check failed: ${describeVerdict(c)}\n${left}`;
  const head = screenOutcome(r) === 'survivor' ? `check passed; WASM speed against ${ref.label}:` : `check passed, but not promoted (${wasmRejection(r)}):`;
  return `${head}\n${formatSpeeds(r, ref, floors)}\n${registerLine(r)}${left}`;
}

/** Why a register-blocked candidate's WASM figure understates it (see build/register-pressure.ts), or nothing. */
function registerLine(r: TargetResult): string {
  const b = r.registerBound;
  if (!b || !r.speed.length) return '';
  return (
    `Register-bound in WASM: one of its loops keeps ${b.liveValues} vector values live${b.baselineLiveValues === undefined ? '' : ` (the code it was timed against: ${b.baselineLiveValues})`}, more than the ${b.allocatable} registers the WASM engine has here, ` +
    `so every iteration spills and reloads; natively they are ${b.nativeValues} of the ${b.nativeRegisters} ${b.registerName} registers. ` +
    `Its native speedup may be well above the WASM one: do not discard register blocking on this figure alone.\n`
  );
}

/** One line for the ledger and the report. */
export function summarizeResult(r: TargetResult): string {
  const failure = notJudged(r);
  if (failure) return `not judged: ${failure}`;
  if (r.check.status !== 'pass') return describeVerdict(r.check);
  if (r.speed.length === 0) return 'pass (not timed)';
  return r.speed
    .map((s) => `${s.shape}: ${formatSpeedup(s.speedup, 3)} ${s.verdict}`)
    .join('; ');
}
