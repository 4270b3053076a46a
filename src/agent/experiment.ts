// Phase 2, one hypothesis: the model writes candidates, each is screened in the WASM sandbox and the verdict
// goes back as the tool result; the best survivor is promoted to the hosts and kept or discarded by the
// native verdict (by the WASM verdict, labelled as such, when the run has no hosts). The verdict event ends
// the experiment: a resumed run never redoes it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TargetResult } from '../ledger/records.js';
import { converse, type ToolHandler, type ToolOutcome } from './conversation.js';
import { describeRoots } from './context.js';
import type { Hypothesis } from './events.js';
import { decide, meanSpeedup, screenFeedback, screenOutcome, summarizeResult } from './judge.js';
import { costOfHostTime } from './prices.js';
import { renderPrompt } from './prompts.js';
import { readTool, unknownTool } from './research.js';
import { conversationSetup, now, openConversation, record, type RunContext } from './run-context.js';
import { candidatesOf, type CandidateState } from './state.js';
import { EXPERIMENT_TOOLS, isToolName, parseToolInput, toolDefinitions } from './tools.js';

export async function runExperiment(ctx: RunContext, h: Hypothesis): Promise<void> {
  const promoted = ctx.state.promotions.get(h.id);
  let chosen: CandidateState | undefined;
  if (promoted) {
    // killed during promotion: the conversation is over, only the native stage is redone
    chosen = ctx.state.candidates.get(promoted.candidate);
  } else {
    const end = await experimentConversation(ctx, h);
    if (end === 'stopped') return;
    chosen = bestSurvivor(candidatesOf(ctx.state, h.id));
  }
  if (!chosen) return failNoSurvivor(ctx, h);
  if (ctx.hosts.length === 0) {
    const d = decide([chosen.wasm!]);
    record(ctx, { type: 'verdict', at: now(), candidate: chosen.event.candidate, hypothesis: h.id, ...d, basis: 'wasm', reason: `WASM only (no hosts): ${d.reason}` });
    return;
  }
  await promote(ctx, h, chosen);
}

function bestSurvivor(candidates: CandidateState[]): CandidateState | undefined {
  const survivors = candidates.filter((c) => c.wasm && screenOutcome(c.wasm) === 'survivor');
  return survivors.sort((a, b) => (meanSpeedup([b.wasm!]) ?? 0) - (meanSpeedup([a.wasm!]) ?? 0))[0];
}

function failNoSurvivor(ctx: RunContext, h: Hypothesis): void {
  const last = candidatesOf(ctx.state, h.id).at(-1);
  const reason = last?.screen ? `no candidate survived the screen; last: ${last.screen.summary}` : 'no candidate was submitted';
  record(ctx, { type: 'verdict', at: now(), candidate: last?.event.candidate ?? null, hypothesis: h.id, decision: 'failed', basis: 'wasm', reason });
}

async function promote(ctx: RunContext, h: Hypothesis, chosen: CandidateState): Promise<void> {
  if (ctx.budget.stopReason()) return;
  const name = chosen.event.candidate;
  const path = join(ctx.dir, chosen.event.file);
  const source = readFileSync(path, 'utf8');
  const hostNames = ctx.hosts.map((x) => x.name);
  // each host's result (and its cost) is recorded as it arrives, not when the slowest host is done
  const onHost = (result: TargetResult) => {
    record(ctx, { type: 'result', at: now(), result, hypothesis: h.id });
    const host = ctx.hosts.find((x) => x.name === result.target);
    const costUsd = costOfHostTime(result.elapsedMs, host?.usdPerHour ?? 0);
    ctx.budget.add(costUsd);
    record(ctx, { type: 'cost', at: now(), category: 'hosts', costUsd, totalUsd: ctx.budget.spentUsd, host: result.target, durationMs: result.elapsedMs, candidate: name });
  };
  const results = await ctx.locks.with(hostNames, async () => {
    if (ctx.budget.stopReason()) return null;
    record(ctx, { type: 'promotion', at: now(), candidate: name, hypothesis: h.id, hosts: hostNames });
    try {
      const perHost = ctx.hosts.map(async (host) => {
        const [result] = await ctx.runner.confirm(ctx.kernel, { name, source, path }, [host], ctx.signal);
        if (!ctx.signal.aborted) onHost(result);
        return result;
      });
      return await Promise.all(perHost);
    } catch (e) {
      if (ctx.signal.aborted) return null;
      throw e;
    }
  });
  // interrupted: no verdict, so --resume promotes it again
  if (!results || ctx.signal.aborted) return;
  const d = decide(results);
  record(ctx, { type: 'verdict', at: now(), candidate: name, hypothesis: h.id, ...d, basis: 'native' });
}

function experimentConversation(ctx: RunContext, h: Hypothesis) {
  const maxRevisions = ctx.config.maxRevisions;
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
  });
  const conversation = openConversation(ctx, `experiment-${h.id}`, task);
  const handle: ToolHandler = async (name, input) => {
    if (!isToolName(name) || !EXPERIMENT_TOOLS.includes(name)) return unknownTool(name, 'experiment');
    const read = readTool(ctx, name, input);
    if (read) return read;
    const parsed = parseToolInput('submit_candidate', input);
    if (!parsed.ok) return { content: parsed.error, isError: true };
    return submit(ctx, h, parsed.value.source);
  };
  return converse(conversationSetup(ctx, toolDefinitions(ctx.config.web)), conversation, handle);
}

async function submit(ctx: RunContext, h: Hypothesis, source: string): Promise<ToolOutcome> {
  const maxRevisions = ctx.config.maxRevisions;
  const mine = candidatesOf(ctx.state, h.id);
  const sha = createHash('sha256').update(source).digest('hex');
  // The same source again (a resubmission, or the tool re-run after a crash) is screened once.
  let c = mine.find((x) => x.event.sourceSha256 === sha);
  if (!c) {
    if (mine.length > maxRevisions) return { content: 'No revisions left for this hypothesis.', isError: true, endConversation: true };
    const revision = mine.length;
    const name = `${h.id}-r${revision}`;
    const file = `candidates/${name}.c`;
    ctx.ledger.writeFile(file, source);
    record(ctx, { type: 'candidate', at: now(), candidate: name, hypothesis: h.id, revision, file, sourceSha256: sha });
    c = ctx.state.candidates.get(name)!;
  }
  // a screen that failed by itself (not a verdict on the code) is tried again
  if (!c.wasm || c.wasm.hostFailure) {
    const candidate = { name: c.event.candidate, source, path: join(ctx.dir, c.event.file) };
    const result = await ctx.locks.with(['wasm'], () => ctx.runner.screen(ctx.kernel, candidate));
    record(ctx, { type: 'result', at: now(), result, hypothesis: h.id });
    const outcome = screenOutcome(result);
    record(ctx, { type: 'screen', at: now(), candidate: c.event.candidate, hypothesis: h.id, outcome, summary: summarizeResult(result) });
  }
  const left = maxRevisions - candidatesOf(ctx.state, h.id).length + 1;
  return { content: screenFeedback(c.wasm!, left), endConversation: left <= 0 };
}
