// Phase 2, one hypothesis: the model writes candidates, each is screened in the WASM sandbox against the current
// champion and the verdict goes back as the tool result; the best survivor is promoted to the hosts and kept or
// discarded by the native verdict against the champion (by the WASM verdict, labelled as such, when the run has
// no hosts). With --e2e, a candidate that verdict would keep must also pass the end-to-end gate (e2e-gate.ts). A
// kept candidate becomes the champion. The verdict event ends the experiment: a resumed run never redoes it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, type E2eResult, type TargetResult } from '../ledger/records.js';
import { screenLabelOf } from '../build/screen-target.js';
import { screenFloors } from '../remote/calibrate.js';
import { converse, type ToolHandler, type ToolOutcome } from './conversation.js';
import { describeRoots } from './context.js';
import type { Hypothesis } from '../ledger/agent-events.js';
import { decide, pooledMeanSpeedup, screenFeedback, screenOutcome, summarizeResult, type Decision } from './decision.js';
import { gateDecision } from './e2e-gate.js';
import { championFigures } from './lineage.js';
import { championSection, experimentMemory, measuredFigures, nativeFeedback, referenceNamed, timingConditions } from './memory.js';
import { costOfHostTime } from './prices.js';
import { renderPrompt } from './prompts.js';
import { readTool, unknownTool } from './research.js';
import { conversationSetup, now, openConversation, record, type RunContext } from './run-context.js';
import type { SavedCandidate } from './runner.js';
import { candidatesOf, championOf, type CandidateState } from './state.js';
import { EXPERIMENT_TOOLS, isToolName, parseToolInput, toolDefinitions } from './tools.js';

/** The current champion as a source to time against, or undefined while it is the original baseline. */
function championSource(ctx: RunContext): SavedCandidate | undefined {
  const c = championOf(ctx.state);
  const state = c && ctx.state.candidates.get(c.candidate);
  if (!state) return undefined;
  const path = join(ctx.dir, state.event.file);
  return { name: state.event.candidate, source: readFileSync(path, 'utf8'), path };
}

/**
 * The conversation runs until the model stops; its best unpromoted survivor goes to the hosts against the
 * current champion; the native verdict goes back to the model while revisions are left (a better revision is
 * promoted in turn), else it is the experiment's verdict. A kill at any point resumes from the ledger and the
 * saved conversation: an unfinished promotion is redone, a finished one whose verdict the model never heard is
 * told again.
 */
export async function runExperiment(ctx: RunContext, h: Hypothesis): Promise<void> {
  const conversation = experimentConversation(ctx, h);
  const hostNames = ctx.hosts.map((x) => x.name);
  let chosen: CandidateState | undefined;
  for (;;) {
    const p = ctx.state.promotions.get(h.id);
    const pending = chosen ?? (p && !(conversation.state.nativeSent ?? []).includes(p.candidate) ? ctx.state.candidates.get(p.candidate) : undefined);
    if (pending) {
      // the champion is read, raced against and replaced under the host locks: no two promotions interleave there
      const step = await ctx.locks.with(hostNames, () => nativeStep(ctx, h, pending, conversation));
      if (step !== 'revise') return;
      chosen = undefined;
    }
    const end = await converse(conversation.setup, conversation.state, conversation.handle);
    if (end === 'stopped') return;
    chosen = bestSurvivor(candidatesOf(ctx.state, h.id).filter((c) => !c.promoted));
    if (!chosen) return settleWithoutSurvivor(ctx, h);
    if (ctx.hosts.length === 0) {
      const wasm = decide([chosen.wasm!]);
      const d = await endToEnd(ctx, chosen, { ...wasm, reason: `WASM only (no hosts): ${wasm.reason}` });
      if (!d) return;
      return settle(ctx, h, chosen, [chosen.wasm!], d, 'wasm');
    }
  }
}

/**
 * Promotes a candidate (unless a resumed run already has all its native results), then settles the experiment or,
 * when the verdict is not a win and revisions are left, tells the model and lets it revise.
 */
async function nativeStep(ctx: RunContext, h: Hypothesis, c: CandidateState, conversation: ExperimentConversation): Promise<'settled' | 'revise' | 'stopped'> {
  const complete = c.promoted && ctx.hosts.every((host) => c.native.some((r) => r.target === host.name));
  const results = complete ? c.native : await confirmNatively(ctx, h, c);
  if (!results) return 'stopped';
  const d = await endToEnd(ctx, c, decide(results));
  if (!d) return 'stopped';
  const left = revisionsLeft(ctx, h);
  if (d.decision !== 'discarded' || left <= 0) return settle(ctx, h, c, results, d, 'native'), 'settled';
  const { state, setup } = conversation;
  state.messages.push({ role: 'user', content: [{ type: 'text', text: nativeFeedback(results, d, referenceNamed(ctx.state, c.nativeReference), left, c.e2e) }] });
  state.nativeSent = [...(state.nativeSent ?? []), c.event.candidate];
  state.next = 'send';
  setup.save(state);
  return 'revise';
}

function revisionsLeft(ctx: RunContext, h: Hypothesis): number {
  return ctx.config.maxRevisions - candidatesOf(ctx.state, h.id).length + 1;
}

function bestSurvivor(candidates: CandidateState[]): CandidateState | undefined {
  const survivors = candidates.filter((c) => c.wasm && screenOutcome(c.wasm) === 'survivor');
  return survivors.sort((a, b) => (pooledMeanSpeedup([b.wasm!]) ?? 0) - (pooledMeanSpeedup([a.wasm!]) ?? 0))[0];
}

/** The verdict; a kept candidate becomes the champion, its figures chained to the lineage. */
function settle(ctx: RunContext, h: Hypothesis, c: CandidateState, results: TargetResult[], d: Decision, basis: 'native' | 'wasm'): void {
  const name = c.event.candidate;
  const reference = basis === 'native' ? (c.nativeReference ?? null) : (c.screen?.reference ?? null);
  record(ctx, { type: 'verdict', at: now(), candidate: name, hypothesis: h.id, ...d, basis, reference });
  if (d.decision !== 'kept') return;
  const judged = [{ result: c.wasm!, reference: c.screen?.reference ?? null }, ...(basis === 'native' ? results.map((result) => ({ result, reference })) : [])];
  record(ctx, { type: 'champion', at: now(), candidate: name, hypothesis: h.id, previous: championOf(ctx.state)?.candidate ?? null, basis, figures: championFigures(judged, ctx.state.champions) });
}

/**
 * No new survivor: the last native verdict stands if there was one (never a win: a win settles at once, and one the
 * end-to-end gate refused stays refused), else the experiment failed at the screen.
 */
async function settleWithoutSurvivor(ctx: RunContext, h: Hypothesis): Promise<void> {
  const promoted = ctx.state.promotions.get(h.id);
  const last = promoted && ctx.state.candidates.get(promoted.candidate);
  if (last && last.native.length) {
    const d = await endToEnd(ctx, last, decide(last.native));
    if (d) settle(ctx, h, last, last.native, d, 'native');
    return;
  }
  const tried = candidatesOf(ctx.state, h.id).at(-1);
  const reason = tried?.screen ? `no candidate survived the screen; last: ${tried.screen.summary}` : 'no candidate was submitted';
  const reference = tried?.screen?.reference ?? null;
  record(ctx, { type: 'verdict', at: now(), candidate: tried?.event.candidate ?? null, hypothesis: h.id, decision: 'failed', basis: 'wasm', reason, reference });
}

/** A host's time at its price, against the budget. */
export function chargeHost(ctx: RunContext, target: string, elapsedMs: number, candidate: string): void {
  const host = [...ctx.hosts, ...(ctx.e2eHost ? [ctx.e2eHost] : [])].find((x) => x.name === target);
  const costUsd = costOfHostTime(elapsedMs, host?.usdPerHour ?? 0);
  ctx.budget.add(costUsd);
  record(ctx, { type: 'cost', at: now(), category: 'hosts', costUsd, totalUsd: ctx.budget.spentUsd, host: target, durationMs: elapsedMs, candidate });
}

/**
 * With --e2e, a decision to keep must pass the end-to-end gate: measured once per candidate (a recorded result is
 * never redone on resume), one measure at a time on this machine and no screen beside it, its time charged like a
 * host's. Null when the run stopped before the measure finished: no verdict, so --resume measures it again.
 */
async function endToEnd(ctx: RunContext, c: CandidateState, d: Decision): Promise<Decision | null> {
  const settings = ctx.config.e2e;
  if (!settings || d.decision !== 'kept') return d;
  if (!c.e2e) {
    if (ctx.budget.stopReason()) return null;
    const name = c.event.candidate;
    const path = join(ctx.dir, c.event.file);
    ctx.onEvent({ type: 'status', at: now(), text: `  end-to-end: ${name} grafted into llama.cpp against the unmodified upstream` });
    let result: E2eResult;
    try {
      // the WASM screen runs on this machine too: never beside the llama-bench timing
      result = await ctx.locks.with(['e2e', 'wasm'], () => ctx.runner.e2e!(ctx.kernel, { name, source: readFileSync(path, 'utf8'), path }, settings, ctx.signal));
    } catch (e) {
      if (ctx.signal.aborted) return null;
      throw e;
    }
    if (ctx.signal.aborted) return null;
    record(ctx, { type: 'e2e', at: now(), result });
    chargeHost(ctx, result.host, result.elapsedMs, name);
  }
  return gateDecision(d, c.e2e!);
}

/** Native runs against the current champion (once per arch among the hosts); the caller holds the host locks. Null when interrupted. */
async function confirmNatively(ctx: RunContext, h: Hypothesis, chosen: CandidateState): Promise<TargetResult[] | null> {
  if (ctx.budget.stopReason()) return null;
  const name = chosen.event.candidate;
  const path = join(ctx.dir, chosen.event.file);
  const source = readFileSync(path, 'utf8');
  // each host's result (and its cost) is recorded as it arrives, not when the slowest host is done
  const onHost = (result: TargetResult) => {
    ctx.recorder.result(result, h.id);
    chargeHost(ctx, result.target, result.elapsedMs, name);
  };
  const reference = championSource(ctx);
  record(ctx, { type: 'promotion', at: now(), candidate: name, hypothesis: h.id, hosts: ctx.hosts.map((x) => x.name), reference: reference?.name ?? null });
  let results: TargetResult[];
  try {
    results = await Promise.all(
      ctx.hosts.map(async (host) => {
        const [result] = await ctx.runner.confirm(ctx.kernel, { name, source, path }, [host], ctx.signal, reference);
        if (!ctx.signal.aborted) onHost(result);
        return result;
      }),
    );
  } catch (e) {
    if (ctx.signal.aborted) return null;
    throw e;
  }
  // interrupted: no verdict, so --resume promotes it again
  return ctx.signal.aborted ? null : results;
}

type ExperimentConversation = ReturnType<typeof experimentConversation>;

function experimentConversation(ctx: RunContext, h: Hypothesis) {
  const maxRevisions = ctx.config.maxRevisions;
  const champion = championSource(ctx);
  const task = renderPrompt('experiment.md', {
    id: h.id,
    title: h.title,
    rationale: h.rationale,
    expectedEffect: h.expectedEffect,
    targetShape: h.targetShape,
    sources: h.sources.join(', ') || '(none)',
    brief: ctx.state.research?.brief ?? '(no brief was recorded)',
    maxRevisions,
    roots: describeRoots(ctx.roots),
    conditions: timingConditions(ctx.kernel, ctx.hosts),
    measured: measuredFigures(ctx.state),
    champion: championSection(ctx.state, champion?.source),
    memory: experimentMemory(ctx.state),
  });
  const state = openConversation(ctx, `experiment-${h.id}`, task);
  const handle: ToolHandler = async (name, input) => {
    if (!isToolName(name) || !EXPERIMENT_TOOLS.includes(name)) return unknownTool(name, 'experiment');
    const read = readTool(ctx, name, input);
    if (read) return read;
    const parsed = parseToolInput('submit_candidate', input);
    if (!parsed.ok) return { content: parsed.error, isError: true };
    return submit(ctx, h, parsed.value.source);
  };
  return { state, setup: conversationSetup(ctx, toolDefinitions(ctx.config.web)), handle };
}

async function submit(ctx: RunContext, h: Hypothesis, source: string): Promise<ToolOutcome> {
  const maxRevisions = ctx.config.maxRevisions;
  const mine = candidatesOf(ctx.state, h.id);
  const sha = sha256(source);
  // The same source again (a resubmission, or the tool re-run after a crash) is screened once.
  let c = mine.find((x) => x.event.sourceSha256 === sha);
  if (!c) {
    if (mine.length > maxRevisions) return { content: 'No revisions left for this hypothesis.', isError: true, endConversation: true };
    const revision = mine.length;
    const name = `${h.id}-r${revision}`;
    const file = `candidates/${name}.c`;
    ctx.recorder.writeFile(file, source);
    record(ctx, { type: 'candidate', at: now(), candidate: name, hypothesis: h.id, revision, file, sourceSha256: sha });
    c = ctx.state.candidates.get(name)!;
  }
  // a screen that failed by itself (not a verdict on the code) is tried again
  if (!c.wasm || c.wasm.hostFailure) {
    const candidate = { name: c.event.candidate, source, path: join(ctx.dir, c.event.file) };
    const result = await ctx.locks.with(['wasm'], async () => {
      const reference = championSource(ctx);
      const r = await ctx.runner.screen(ctx.kernel, candidate, reference);
      ctx.recorder.result(r, h.id);
      return { r, reference: reference?.name ?? null };
    });
    const outcome = screenOutcome(result.r);
    record(ctx, { type: 'screen', at: now(), candidate: c.event.candidate, hypothesis: h.id, outcome, summary: summarizeResult(result.r), reference: result.reference });
  }
  const left = revisionsLeft(ctx, h);
  const floors = screenFloors(ctx.workDir, screenLabelOf(c.wasm!.toolchain));
  return { content: screenFeedback(c.wasm!, left, referenceNamed(ctx.state, c.screen?.reference), floors), endConversation: left <= 0 };
}
