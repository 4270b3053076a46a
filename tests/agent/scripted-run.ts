// What the agent tests that script the model share: the settings of a small run on the built-in rms_norm, and the
// model's reply that records hypotheses.
import type { AgentSettings } from '../../src/agent/agent.js';
import { BUILTIN_KERNELS_DIR } from '../../src/spec/suite.js';
import { text, toolUse, type FakeReply } from '../fixtures/fake-anthropic/server.js';

export const agentSettings = (over: Partial<AgentSettings> = {}): AgentSettings => ({
  kernel: 'rms_norm',
  kernelsDir: BUILTIN_KERNELS_DIR,
  model: 'claude-sonnet-5-5',
  hosts: [],
  researchDirs: [],
  web: false,
  maxRevisions: 1,
  limits: { budgetUsd: 1, maxExperiments: 10, maxMinutes: 10 },
  allowLocalNative: false,
  ...over,
});

const hypothesis = (id: string) => ({ id, idea: `idea ${id}`, rationale: 'r', sources: [], expectedEffect: 'e', targetShape: 'all' });

export const recordHypotheses = (...ids: string[]): FakeReply => ({
  stop_reason: 'tool_use',
  content: [toolUse('record_hypotheses', { hypotheses: ids.map(hypothesis) })],
});

/** The model submits one candidate source. */
export const submit = (source: string): FakeReply => ({ stop_reason: 'tool_use', content: [toolUse('submit_candidate', { source })] });
/** The model ends its turn. */
export const done: FakeReply = { content: [text('done')] };
