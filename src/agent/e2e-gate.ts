// `kbench agent --e2e`: the end-to-end measure (src/e2e/run.ts: the candidate grafted into llama.cpp, logits
// checked, llama-bench timed against the unmodified upstream) as the last gate before a keep. Pure functions over
// the recorded E2eResult: the gate's decision, its line in the verdict reason, and the text the model reads.
import type { E2eResult, E2eTestResult } from '../ledger/records.js';
import { formatGain } from '../report/format.js';
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

/** What the model reads: the logits, then per test the measured gain beside Amdahl's prediction. */
export function e2eFeedback(r: E2eResult): string {
  const gate = e2eGate(r);
  const model = r.model.generated ? 'kbench’s random-weight llama model' : r.model.path.split('/').pop();
  const lines = [
    `End-to-end (${r.host}: your candidate grafted into ggml's ${r.recipe.function}, llama-bench on ${model}, ${r.bench.threads} thread(s), ${r.bench.rounds} rounds, against the unmodified upstream): ${gate.pass ? 'passed' : 'FAILED'}.`,
  ];
  const l = r.logits;
  lines.push(`- logits: ${l.status}${l.maxRelDiff !== undefined ? ` (max relative difference ${l.maxRelDiff.toExponential(1)}, tolerance ${l.tolerance?.toExponential(1) ?? '?'})` : ''}${l.status === 'agree' ? '' : `: ${l.reason}`}`);
  if (r.timing?.status === 'failed') lines.push(`- timing failed: ${r.timing.reason ?? '?'}`);
  for (const t of r.timing?.tests ?? []) {
    const p = r.prediction?.find((x) => x.label === t.label);
    const predicted = p
      ? `; Amdahl predicted ${formatGain(p.predicted)} (op ${Math.round(p.share.estimate * 1000) / 10}% of the time, ${p.opSpeedup.estimate.toFixed(2)}× faster at ${p.opShape})`
      : '';
    lines.push(`- ${t.label}: measured ${t.summary}${predicted}`);
  }
  if (!r.prediction?.length && r.timing?.status === 'timed') lines.push(`- no Amdahl prediction: ${r.predictionNote ?? r.shareNote ?? 'no op share or op-level speedup'}`);
  lines.push(gate.reason);
  return lines.join('\n');
}
