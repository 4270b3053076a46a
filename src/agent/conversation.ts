// One conversation with the model: send, run the tools it asks for, send their results, until it ends its
// turn, a tool ends the conversation, or a limit stops the run. The state is saved after every step, so a
// killed run picks up exactly where it was (re-running at most the tools of the last step).
import type Anthropic from '@anthropic-ai/sdk';
import type { ApiGate, MessageParam } from './client.js';

export interface ConversationState {
  id: string;
  messages: MessageParam[];
  /** what the next step is: send the messages, run the tools of the last assistant message, or nothing */
  next: 'send' | 'tools' | 'done';
  /** max_tokens cut-offs and pauses so far: counted over the whole conversation (reminders and resumes included) */
  cutOffs?: number;
  pauses?: number;
  /** candidates whose native verdict this conversation was told (experiments) */
  nativeSent?: string[];
}

export interface ToolOutcome {
  content: string;
  isError?: boolean;
  /** no further request: the conversation is over once this batch of tool results is recorded */
  endConversation?: boolean;
}

export type ToolHandler = (name: string, input: unknown) => Promise<ToolOutcome>;

export type ConversationEnd = 'end_turn' | 'tool-ended' | 'stopped' | 'refusal' | 'cut-off';

export interface ConversationSetup {
  gate: ApiGate;
  system: string;
  tools: Anthropic.Messages.ToolUnion[];
  maxTokens: number;
  save: (state: ConversationState) => void;
}

// A model that keeps running into max_tokens or pausing would loop forever at our expense.
const MAX_CUT_OFFS = 2;
const MAX_PAUSES = 6;

/** The conversation ended on too many cut-offs (also after a resume): a reminder would only buy more of them. */
export function outOfCutOffs(state: ConversationState): boolean {
  return (state.cutOffs ?? 0) > MAX_CUT_OFFS;
}

export async function converse(setup: ConversationSetup, state: ConversationState, handle: ToolHandler): Promise<ConversationEnd> {
  for (;;) {
    if (state.next === 'done') return 'end_turn';
    if (state.next === 'tools') {
      const ended = await runTools(state, handle);
      setup.save(state);
      if (ended) return 'tool-ended';
      continue;
    }
    const message = await setup.gate.request(state.id, requestBody(setup, state.messages));
    if (!message) return 'stopped';
    const content = message.content as Anthropic.Messages.ContentBlockParam[];
    switch (message.stop_reason) {
      case 'tool_use':
        state.messages.push({ role: 'assistant', content });
        state.next = 'tools';
        break;
      case 'pause_turn':
        // a server tool (web search) paused a long turn: send the partial turn back as is to let it continue
        state.messages.push({ role: 'assistant', content });
        state.pauses = (state.pauses ?? 0) + 1;
        if (state.pauses > MAX_PAUSES) return (state.next = 'done'), setup.save(state), 'cut-off';
        break;
      case 'max_tokens': {
        // a cut-off tool call has incomplete input: drop it and ask for a shorter answer
        const kept = content.filter((b) => b.type === 'text');
        state.messages.push({ role: 'assistant', content: kept.length ? kept : [{ type: 'text', text: '(cut off)' }] });
        state.cutOffs = (state.cutOffs ?? 0) + 1;
        // past the limit the conversation ends on the assistant's message, so a caller may still add a user turn
        if (outOfCutOffs(state)) return (state.next = 'done'), setup.save(state), 'cut-off';
        state.messages.push({
          role: 'user',
          content: [{ type: 'text', text: 'Your reply hit the output token limit and was cut off. Be shorter: submit compact code, less prose.' }],
        });
        break;
      }
      case 'refusal':
        state.messages.push({ role: 'assistant', content });
        state.next = 'done';
        setup.save(state);
        return 'refusal';
      default:
        // end_turn, stop_sequence
        state.messages.push({ role: 'assistant', content });
        state.next = 'done';
        setup.save(state);
        return 'end_turn';
    }
    setup.save(state);
  }
}

/** Answers every tool_use of the last assistant message in one user message; true when a tool ended the talk. */
async function runTools(state: ConversationState, handle: ToolHandler): Promise<boolean> {
  const last = state.messages[state.messages.length - 1];
  const uses = (Array.isArray(last.content) ? last.content : []).filter(
    (b): b is Anthropic.Messages.ToolUseBlockParam => b.type === 'tool_use',
  );
  const results: Anthropic.Messages.ToolResultBlockParam[] = [];
  let ended = false;
  for (const use of uses) {
    let outcome: ToolOutcome;
    try {
      outcome = await handle(use.name, use.input);
    } catch (e) {
      // a tool that throws is our bug or a refused input; the model hears about it, the run goes on
      outcome = { content: `tool failed: ${(e as Error).message}`, isError: true };
    }
    results.push({ type: 'tool_result', tool_use_id: use.id, content: outcome.content, ...(outcome.isError ? { is_error: true } : {}) });
    ended ||= outcome.endConversation === true;
  }
  state.messages.push({ role: 'user', content: results });
  state.next = ended ? 'done' : 'send';
  return ended;
}

/**
 * Four cache breakpoints: the system prompt (with the tools before it), the kernel context (first user block), and
 * the last block of the two newest user messages. The newest one writes this request's prefix; the one before
 * is where the previous request wrote its own, so it is read back exactly however many blocks (parallel tool
 * calls and results) came since — the cache's lookback from a breakpoint only reaches 20 blocks.
 */
function requestBody(setup: ConversationSetup, messages: MessageParam[]): Omit<Anthropic.Messages.MessageCreateParamsNonStreaming, 'model'> {
  const users = messages.flatMap((m, i) => (m.role === 'user' && Array.isArray(m.content) && m.content.length > 0 ? [i] : []));
  const marked = new Set(users.slice(-2));
  const withBreakpoint = messages.map((m, i) => {
    if (!marked.has(i) || !Array.isArray(m.content)) return m;
    const content = m.content.slice();
    content[content.length - 1] = { ...content[content.length - 1], cache_control: { type: 'ephemeral' } } as Anthropic.Messages.ContentBlockParam;
    return { ...m, content } as MessageParam;
  });
  return {
    max_tokens: setup.maxTokens,
    system: [{ type: 'text', text: setup.system, cache_control: { type: 'ephemeral' } }],
    tools: setup.tools,
    tool_choice: { type: 'auto' },
    messages: withBreakpoint,
  };
}
