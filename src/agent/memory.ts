// What an experiment's model is told besides its hypothesis: the timing conditions and measured figures (before
// it writes code), the current champion with its source, a bounded table of every earlier experiment, and the
// native verdict of its own promoted candidate (with --e2e, its end-to-end measure beside Amdahl's prediction). All
// of it is computed from the run state, so a resumed run tells the model the same thing.
import { defaultScreenTarget, lanesOf } from '../build/screen-target.js';
import type { HostConfig } from '../config/config.js';
import type { E2eResult, TargetResult } from '../ledger/records.js';
import { e2eFeedback, nativeOpSpeedups } from './e2e-gate.js';
import { lightShare } from '../measure/speed-of-light.js';
import type { SpeedResult } from '../measure/types.js';
import { toolchainFor } from '../remote/hosts.js';
import type { Kernel } from '../spec/suite.js';
import type { Decision, Reference } from './decision.js';
import { formatSpeeds } from './decision.js';
import { formatSpeedup } from '../format.js';
import { overBaseline } from './lineage.js';
import { championOf, type RunState } from './state.js';

/** The table keeps the newest rows and cuts long cells: it grows with the run, the transcripts never enter it. */
const MEMORY_MAX_ROWS = 30;
const MEMORY_CELL_CHARS = 300;

const cut = (text: string, max = MEMORY_CELL_CHARS) => {
  const flat = text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};
const pct = (share: number | undefined) => (share === undefined ? '–' : `${Math.round(share * 100)}%`);

/** The reference a result was timed against, by name (null: the baseline). */
export function referenceNamed(s: RunState, name: string | null | undefined): Reference {
  if (!name) return { label: 'the baseline', name: 'baseline' };
  return { label: `the champion ${name}`, name, overBaseline: (target, shape, step) => overBaseline(s.champions, name, target, shape, step) };
}

/** Lanes and threads of each place a candidate is timed: the WASM screen, then every host. */
export function timingConditions(kernel: Kernel, hosts: HostConfig[]): string {
  const threaded = kernel.spec.threads !== undefined;
  // the agent's screen session models this machine's native build (screen-target.ts)
  const target = defaultScreenTarget();
  const lanes = lanesOf(target);
  const lines = [
    `- WASM screen: clang -O3, 128-bit SIMD modelling ${target} (KB_LANES = ${lanes} f32 lanes${lanes === 8 ? ' as two 128-bit vectors' : ''}, kb_fma fused where the compiler has relaxed SIMD), one thread${threaded ? ' (ith 0 of nth 1)' : ''}; paired timings against the current champion. It filters; it does not decide. ${target === 'avx2' ? "Code under #if defined(__AVX2__) is what it builds, on kbench's WASM implementation of <immintrin.h> (a candidate using an intrinsic that lacks is screened as its plain build); NEON code runs its WASM branch there." : 'Code under #if for AVX2 or NEON intrinsics runs its WASM branch there.'}`,
  ];
  for (const h of hosts) {
    const tc = toolchainFor(h);
    const simd = tc.emulated
      ? 'emulated by qemu (its timings never count)'
      : h.arch === 'aarch64'
        ? 'NEON (KB_LANES = 4 f32 lanes)'
        : `${tc.cflags.join(' ')} (AVX2+FMA: KB_LANES = 8 f32 lanes)`;
    const threads = threaded ? (h.threads === 0 ? 'nth = every online CPU' : `nth = ${h.threads ?? 1} thread(s) per timed call`) : 'one thread (the kernel is not threaded)';
    lines.push(`- host ${h.name}: ${h.arch}, ${simd}, ${threads}. The native verdict decides.`);
  }
  return lines.join('\n');
}

/** Whether the streaming floor (bytes) or the FMA floor (flops) is the larger one at this timing, and how far above it. */
function bound(s: SpeedResult): string {
  if (!s.speedOfLight) return '–';
  const nth = s.nth ?? 1;
  const readNs = s.speedOfLight.readNs / nth;
  const flopsNs = (s.gflops * s.candidateMedianNs) / (s.speedOfLight.peakGflops * nth);
  const floor = Math.max(readNs, flopsNs);
  return `${readNs >= flopsNs ? 'bytes' : 'flops'} (floor ${floor.toFixed(0)} ns, ${(s.candidateMedianNs / floor).toFixed(1)}× above it)`;
}

/**
 * Baseline and champion per target and bench shape: time per call, share of the speed of light, and the bound
 * that matters. The baseline's figures come from its own timing against itself on each target, before the first
 * experiment.
 */
export function measuredFigures(s: RunState): string {
  const rows = new Map<string, { target: string; shape: string; base?: { ns: number; share?: number }; bound?: string; champ?: { ns: number; share?: number } }>();
  const row = (target: string, shape: string) => {
    const key = `${target}\0${shape}`;
    if (!rows.has(key)) rows.set(key, { target, shape });
    return rows.get(key)!;
  };
  for (const r of s.baselines.values())
    for (const sp of r.speed.filter((x) => !x.emulated))
      Object.assign(row(r.target, sp.shape), { base: { ns: sp.candidateMedianNs, share: lightShare(sp) }, bound: bound(sp) });
  const champion = championOf(s);
  for (const f of champion?.figures ?? []) row(f.target, f.shape).champ = { ns: f.medianNs, share: f.lightShare };
  if (rows.size === 0) return '(nothing measured yet)';
  const name = champion?.candidate ?? 'baseline';
  const out = [`| target | shape | baseline ns/call | baseline % of light | champion (${name}) ns/call | champion % of light | bound (baseline) |`, '|---|---|---|---|---|---|---|'];
  for (const r of rows.values()) {
    const champ = r.champ ?? (champion ? undefined : r.base);
    out.push(`| ${r.target} | ${r.shape} | ${r.base ? r.base.ns.toFixed(0) : '–'} | ${pct(r.base?.share)} | ${champ ? champ.ns.toFixed(0) : '–'} | ${pct(champ?.share)} | ${r.bound ?? '–'} |`);
  }
  return out.join('\n');
}

/** The champion's source and its speedups over the original baseline, or a note that it is the baseline. */
export function championSection(s: RunState, source: string | undefined): string {
  const c = championOf(s);
  if (!c || source === undefined) return 'The current champion is the original baseline (in the kernel context): nothing has been kept yet.';
  const h = s.hypotheses.find((x) => x.id === c.hypothesis);
  const steps = s.champions.map((x) => x.candidate).join(' → ');
  const figures = c.figures.map((f) => `- ${f.target} ${f.shape}: ${f.cumulative ? formatSpeedup(f.cumulative, 3) : '?'} over the baseline (this step ${formatSpeedup(f.step, 3)}), ${pct(f.lightShare)} of light`);
  const champ = s.candidates.get(c.candidate);
  const e2e = champ?.e2e && e2eFeedback(champ.e2e, nativeOpSpeedups(champ.native, referenceNamed(s, champ.nativeReference).overBaseline));
  return [
    `The current champion is ${c.candidate} (hypothesis ${c.hypothesis}: ${h?.title ?? '?'}), kept on its ${c.basis === 'native' ? 'native' : 'WASM'} verdict; lineage: baseline → ${steps}.`,
    ...figures,
    ...(e2e ? [e2e] : []),
    '```c',
    source.trimEnd(),
    '```',
  ].join('\n');
}

function speedCell(r: TargetResult | undefined, ref: Reference): string {
  if (!r) return '–';
  if (r.hostFailure) return `not judged: ${r.hostFailure}`;
  if (r.check.status !== 'pass' || r.speed.length === 0) return '–';
  return r.speed
    .map((sp) => {
      const total = ref.overBaseline?.(r.target, sp.shape, sp.speedup);
      return `${sp.shape} ${formatSpeedup(sp.speedup, 3)}${total ? ` = ${total.estimate.toFixed(2)}× over baseline` : ''}, ${pct(lightShare(sp))} light${sp.suspect ? ' SUSPECT' : ''}`;
    })
    .join('; ');
}

/** One row per finished experiment: hypothesis, outcome and why, WASM and native speedups with CIs, share of light. */
export function experimentMemory(s: RunState): string {
  const verdicts = [...s.verdicts.values()].slice(-MEMORY_MAX_ROWS);
  if (verdicts.length === 0) return '(this is the first experiment)';
  const out = [
    '| hypothesis | outcome | judged against | WASM screen (speedup [95% CI] over that reference) | native |',
    '|---|---|---|---|---|',
  ];
  for (const v of verdicts) {
    const h = s.hypotheses.find((x) => x.id === v.hypothesis);
    const c = v.candidate ? s.candidates.get(v.candidate) : undefined;
    const outcome = v.decision === 'kept' ? `landed: champion ${v.candidate}` : `${v.decision === 'failed' ? 'failed' : 'discarded'}: ${v.reason}`;
    const native = c?.native.map((r) => `${r.target}: ${speedCell(r, referenceNamed(s, c?.nativeReference))}`).join(' / ');
    out.push(
      `| ${cut(`${v.hypothesis} (${c?.event.candidate ?? 'no candidate'}): ${h?.title ?? ''}`, 160)} | ${cut(outcome, 200)} | ${v.reference ?? 'baseline'} | ${cut(speedCell(c?.wasm, referenceNamed(s, c?.screen?.reference)))} | ${cut(native || 'not promoted')} |`,
    );
  }
  return out.join('\n');
}

/** The native verdict of a promoted candidate, sent back to the model (which may revise if revisions are left). */
export function nativeFeedback(results: TargetResult[], decision: Decision, ref: Reference, revisionsLeft: number, e2e?: E2eResult): string {
  const head = `${e2e ? 'Verdict (native, then end to end)' : 'Native verdict'} against ${ref.label}: ${decision.decision} (${decision.reason}).`;
  const hosts = results.map((r) =>
    r.hostFailure ? `${r.target}: not judged (${r.hostFailure})` : r.check.status !== 'pass' ? `${r.target}: check failed: ${r.check.status}` : `${r.target} (${r.arch}, ${r.toolchain}):\n${formatSpeeds(r, ref)}`,
  );
  const next =
    revisionsLeft > 0
      ? `You may revise ${revisionsLeft} more time(s): submit an improved candidate (it is screened, then promoted again if it survives), or reply without a tool call to stop here.`
      : 'No revisions left for this hypothesis.';
  return [head, ...hosts, ...(e2e ? [e2eFeedback(e2e, nativeOpSpeedups(results, ref.overBaseline))] : []), next].join('\n');
}
