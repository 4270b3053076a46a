// What the phases of one agent run share: the ledger and the state folded from it, the API gate, the runner,
// the limits. `record` is the only way anything is remembered: ledger first, then state, then the live view.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostConfig } from '../config/config.js';
import type { RunRecorder } from '../ledger/recorder.js';
import type { RecordedEvent } from '../ledger/records.js';
import type { Kernel } from '../spec/suite.js';
import type { Budget } from './budget.js';
import type { ApiGate } from './client.js';
import type { ConversationSetup, ConversationState } from './conversation.js';
import type { AgentConfigEvent, AgentProgress } from '../ledger/agent-events.js';
import type { NamedLocks } from './locks.js';
import type { Root } from './research-tools.js';
import type { ExperimentRunner } from './runner.js';
import { applyEvent, type RunState } from './state.js';

export interface RunContext {
  id: string;
  /** the project folder (its .kbench/runs holds this run and the past ones calibrate reads) */
  workDir: string;
  dir: string;
  kernel: Kernel;
  config: AgentConfigEvent;
  hosts: HostConfig[];
  /** where --e2e builds and times (its time is charged at this host's price) */
  e2eHost?: HostConfig;
  roots: Root[];
  /** the run's one writer; it folds every event into `state` and shows it (see runAgent) */
  recorder: RunRecorder;
  state: RunState;
  budget: Budget;
  gate: ApiGate;
  runner: ExperimentRunner;
  locks: NamedLocks;
  signal: AbortSignal;
  system: string;
  context: string;
  maxTokens: number;
  onEvent: (e: AgentProgress) => void;
}

export function record(ctx: RunContext, event: RecordedEvent): void {
  ctx.recorder.event(event);
}

/** What the recorder does after each append: the state folds it, then the live view shows it. */
export function foldInto(state: RunState, onEvent: (e: AgentProgress) => void): (event: RecordedEvent) => void {
  return (event) => {
    applyEvent(state, event);
    onEvent(event);
  };
}

export function now(): string {
  return new Date().toISOString();
}

export function conversationFile(id: string): string {
  return `conversations/${id}.json`;
}

/** The saved conversation, or a new one starting with the (cached) kernel context and the task. */
export function openConversation(ctx: RunContext, id: string, task: string): ConversationState {
  const file = join(ctx.dir, conversationFile(id));
  // written atomically (temp + rename), so an existing file is whole
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as ConversationState;
  return {
    id,
    next: 'send',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: ctx.context, cache_control: { type: 'ephemeral' } },
          { type: 'text', text: task },
        ],
      },
    ],
  };
}

export function conversationSetup(ctx: RunContext, tools: ConversationSetup['tools']): ConversationSetup {
  return {
    gate: ctx.gate,
    system: ctx.system,
    tools,
    maxTokens: ctx.maxTokens,
    save: (state) => ctx.recorder.writeFile(conversationFile(state.id), JSON.stringify(state)),
  };
}
