// `kbench agent --e2e`: the end-to-end measure (src/e2e/run.ts: the candidate grafted into llama.cpp, logits
// checked, llama-bench timed against the unmodified upstream) as the last gate before a keep. Pure functions over
// the recorded E2eResult: the gate's decision, its line in the verdict reason, and the text the model reads.
import { predictE2eRatioFromIntervals } from '../e2e/amdahl.js';
import type { E2eResult, E2eTestResult, TargetResult } from '../ledger/records.js';
import type { Interval } from '../measure/types.js';
import { formatGain } from '../format.js';
import type { Decision } from './decision.js';


const figures = (tests: E2eTestResult[]) => tests.map((t) => `${t.label} ${formatGain(t.ratio)}`).join('; ');

export interface E2eGate {
  pass: boolean;
  /** "end-to-end: …", for the verdict reason and the live view */
  reason: string;
}

/**
 * Kept only when the logits agree and no test at any depth is slower. A gain inside the noise floor passes (the
 * native verdict already showed the op faster) but is said as such: it is not an end-to-end win.
 */
export function e2eGate(r: E2eResult): E2eGate {
  if (r.logits.status !== 'agree') return { pass: false, reason: `end-to-end: logits ${r.logits.status}: ${r.logits.reason}` };
  const t = r.timing;
  if (!t || t.status !== 'timed') return { pass: false, reason: `end-to-end: timing failed: ${t?.reason ?? 'nothing was timed'}` };
  const slower = t.tests.filter((x) => x.verdict === 'slower');
  if (slower.length) return { pass: false, reason: `end-to-end: slower on ${figures(slower)}` };
  const faster = t.tests.filter((x) => x.verdict === 'faster');
  const level = t.tests[0] ? ` (${Math.round(t.tests[0].ratio.level * 100)}% CIs)` : '';
  const rest = t.tests.filter((x) => x.verdict !== 'faster');
  const floor = rest.length ? `no change beyond the floor (${figures(rest)})` : '';
  if (!faster.length) return { pass: true, reason: `end-to-end: ${floor}${level}` };
  return { pass: true, reason: `end-to-end: faster on ${figures(faster)}${floor ? `; ${floor}` : ''}${level}` };
}

/** The native decision with the gate applied: a keep becomes a discard when the gate fails; the reason says both. */
export function gateDecision(native: Decision, r: E2eResult): Decision {
  if (native.decision !== 'kept') return native;
  const gate = e2eGate(r);
  return gate.pass
    ? { ...native, reason: `${native.reason}; ${gate.reason}` }
    : { ...native, decision: 'discarded', reason: `${gate.reason} (native: ${native.reason})` };
}

/**
 * The op-level speedups Amdahl's prediction can use when runE2e found none "vs upstream" (a model-written candidate
 * never had a `kbench run --upstream`): its native speedups over kbench's baseline, which stands in for upstream
 * ggml, on one target, read at the "decode…" bench shape for tg and "prefill…" for pp as runE2e reads them.
 */
export interface OpSpeedups {
  target: string;
  byKind: Partial<Record<'pp' | 'tg', { shape: string; speedup: Interval }>>;
}

const SHAPE_OF = { tg: /^decode/i, pp: /^prefill/i } as const;

/** From native results timed against `ref`; `overBaseline` restates a step over a champion as one over the baseline. */
export function nativeOpSpeedups(results: TargetResult[], overBaseline?: (target: string, shape: string, step: Interval) => Interval | undefined): OpSpeedups | undefined {
  for (const r of results) {
    if (r.hostFailure || r.check.status !== 'pass') continue;
    const byKind: OpSpeedups['byKind'] = {};
    for (const kind of ['tg', 'pp'] as const) {
      const s = r.speed.find((x) => SHAPE_OF[kind].test(x.shape) && !x.emulated && !x.suspect);
      const speedup = s && (overBaseline ? overBaseline(r.target, s.shape, s.speedup) : s.speedup);
      if (s && speedup) byKind[kind] = { shape: s.shape, speedup };
    }
    if (byKind.tg || byKind.pp) return { target: r.target, byKind };
  }
  return undefined;
}

/**
 * What the model reads: the logits, then per test the measured gain beside Amdahl's prediction (runE2e's, from an
 * op-level "vs upstream" run, else one from the op's measured share and `native`).
 */
export function e2eFeedback(r: E2eResult, native?: OpSpeedups): string {
  const gate = e2eGate(r);
  const model = r.model.generated ? 'kbench’s random-weight llama model' : r.model.path.split('/').pop();
  const lines = [
    `End-to-end (${r.host}: your candidate grafted into ggml's ${r.recipe.function}, llama-bench on ${model}, ${r.bench.threads} thread(s), ${r.bench.rounds} rounds, against the unmodified upstream): ${gate.pass ? 'passed' : 'FAILED'}.`,
  ];
  const l = r.logits;
  lines.push(`- logits: ${l.status}${l.maxRelDiff !== undefined ? ` (max relative difference ${l.maxRelDiff.toExponential(1)}, tolerance ${l.tolerance?.toExponential(1) ?? '?'})` : ''}${l.status === 'agree' ? '' : `: ${l.reason}`}`);
  if (r.timing?.status === 'failed') lines.push(`- timing failed: ${r.timing.reason ?? '?'}`);
  let predicted = 0;
  for (const t of r.timing?.tests ?? []) {
    lines.push(`- ${t.label}: measured ${t.summary}${predictionText(r, t, native, () => predicted++)}`);
  }
  if (r.timing?.status === 'timed' && !predicted) lines.push(`- no Amdahl prediction: ${r.shareNote ?? r.predictionNote ?? 'no op-level speedup'}`);
  lines.push(gate.reason);
  return lines.join('\n');
}

function predictionText(r: E2eResult, t: E2eTestResult, native: OpSpeedups | undefined, counted: () => void): string {
  const share = (s: Interval) => `op ${(s.estimate * 100).toFixed(1)}% of the time`;
  const p = r.prediction?.find((x) => x.label === t.label);
  if (p) {
    counted();
    return `; Amdahl predicted ${formatGain(p.predicted)} (${share(p.share)}, ${p.opSpeedup.estimate.toFixed(2)}× faster than upstream at ${p.opShape})`;
  }
  const s = r.shares?.find((x) => x.label === t.label);
  const op = native?.byKind[t.kind];
  if (!s || !op) return '';
  counted();
  const predicted = predictE2eRatioFromIntervals(s.share, op.speedup);
  return `; Amdahl predicted ${formatGain(predicted)} (${share(s.share)}, ${op.speedup.estimate.toFixed(2)}× faster than kbench's baseline at ${op.shape} on ${native!.target}; the baseline stands in for upstream ggml)`;
}
