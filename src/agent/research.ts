// Phase 1: the model reads (kernel, include, --research roots, optionally the web) and records a brief and a
// ranked list of hypotheses. Skipped on resume once hypotheses are in the ledger.
import { converse, outOfCutOffs, type ToolHandler, type ToolOutcome } from './conversation.js';
import { describeRoots } from './context.js';
import { renderPrompt } from './prompts.js';
import { grep, listFiles, readFile, ToolError } from './research-tools.js';
import { conversationSetup, now, openConversation, record, type RunContext } from './run-context.js';
import { isToolName, parseToolInput, RESEARCH_TOOLS, toolDefinitions, type ToolName } from './tools.js';

// The prompt asks for at most as many as --max-experiments; more are kept (up to this cap) for a resume with a
// higher limit.
const MAX_HYPOTHESES = 10;

/** Answers list_files / read_file / grep; null for any other tool. */
export function readTool(ctx: RunContext, name: ToolName, input: unknown): ToolOutcome | null {
  if (name !== 'list_files' && name !== 'read_file' && name !== 'grep') return null;
  const parsed = parseToolInput(name, input);
  if (!parsed.ok) return { content: parsed.error, isError: true };
  try {
    if (name === 'list_files') {
      const v = parsed.value as { path?: string; recursive?: boolean };
      return { content: listFiles(ctx.roots, v.path, v.recursive ?? false) };
    }
    if (name === 'read_file') {
      const v = parsed.value as { path: string; start_line?: number; max_lines?: number };
      return { content: readFile(ctx.roots, v.path, v.start_line, v.max_lines) };
    }
    const v = parsed.value as { pattern: string; path?: string; ignore_case?: boolean };
    return { content: grep(ctx.roots, v.pattern, v.path, v.ignore_case ?? false) };
  } catch (e) {
    if (e instanceof ToolError) return { content: e.message, isError: true };
    throw e;
  }
}

/** The answer to a tool the phase does not offer: unknown, or one of the other phase. */
export function unknownTool(name: string, phase: 'research' | 'experiment'): ToolOutcome {
  if (isToolName(name)) return { content: `${name} is not usable in the ${phase} phase`, isError: true };
  return { content: `no tool named '${name}'`, isError: true };
}

export async function runResearch(ctx: RunContext): Promise<void> {
  if (ctx.state.hypotheses.length > 0) return;
  const maxHypotheses = Math.min(MAX_HYPOTHESES, ctx.config.limits.maxExperiments);
  const task = renderPrompt('research.md', {
    kernel: ctx.kernel.name,
    roots: describeRoots(ctx.roots),
    web: ctx.config.web ? 'You may also use web search and web fetch (each search costs money: search with purpose).\n' : '',
    maxHypotheses,
  });
  const conversation = openConversation(ctx, 'research', task);
  const setup = conversationSetup(ctx, toolDefinitions(ctx.config.web));
  const handle: ToolHandler = async (name, input) => {
    if (!isToolName(name) || !RESEARCH_TOOLS.includes(name)) return unknownTool(name, 'research');
    const read = readTool(ctx, name, input);
    if (read) return read;
    if (name === 'record_research') {
      const parsed = parseToolInput('record_research', input);
      if (!parsed.ok) return { content: parsed.error, isError: true };
      record(ctx, { type: 'research', at: now(), brief: parsed.value.brief, sources: parsed.value.sources });
      return { content: 'research brief recorded; now call record_hypotheses' };
    }
    const parsed = parseToolInput('record_hypotheses', input);
    if (!parsed.ok) return { content: parsed.error, isError: true };
    const ids = parsed.value.hypotheses.map((h) => h.id);
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup) return { content: `invalid input for record_hypotheses: duplicate id '${dup}'`, isError: true };
    parsed.value.hypotheses.slice(0, MAX_HYPOTHESES).forEach((h, i) => {
      const { idea, ...rest } = h;
      record(ctx, { type: 'hypothesis', at: now(), ...rest, title: idea, rank: i + 1 });
    });
    return { content: 'hypotheses recorded; the research phase is over', endConversation: true };
  };
  // One reminder if the model ends its turn without hypotheses; then the run has nothing to do. A conversation
  // that ran out of cut-offs gets none: it would only buy more cut-off replies.
  for (let attempt = 0; attempt < 2 && ctx.state.hypotheses.length === 0; attempt++) {
    if (conversation.next === 'done') {
      if (outOfCutOffs(conversation)) break;
      conversation.messages.push({ role: 'user', content: [{ type: 'text', text: 'Record your hypotheses now with record_hypotheses (and the brief with record_research if not done).' }] });
      conversation.next = 'send';
    }
    const end = await converse(setup, conversation, handle);
    if (end === 'stopped') break;
  }
  if (ctx.budget.stopReason()) return;
  if (ctx.state.hypotheses.length === 0) ctx.budget.stop('the model recorded no hypotheses');
}
