import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgent, type AgentSettings } from '../../src/agent/agent.js';
import { createMessagesApi } from '../../src/agent/client.js';
import type { ExperimentRunner } from '../../src/agent/runner.js';
import { readLedger } from '../../src/ledger/ledger.js';
import { scripted, startFakeAnthropic, TEST_API_KEY, text, toolUse, type Block, type FakeAnthropic, type FakeReply, type RecordedRequest } from '../fixtures/fake-anthropic/server.js';
import { fakeRunner } from './fake-runner.js';
import { agentSettings, recordHypotheses } from './scripted-run.js';
import { writeRunReports } from '../../src/report/index.js';


let server: FakeAnthropic | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function run(script: Record<string, FakeReply[]>, over: Partial<AgentSettings> = {}, opts: { workDir?: string; runner?: ExperimentRunner } = {}) {
  server = await startFakeAnthropic(scripted(script));
  const workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), 'kbench-conv-'));
  const outcome = await runAgent({
    workDir,
    settings: agentSettings({ maxRevisions: 2, ...over }),
    api: createMessagesApi({ apiKey: TEST_API_KEY, baseURL: server.url, maxRetries: 0 }),
    openRunner: () => opts.runner ?? fakeRunner(),
  });
  return { outcome, events: readLedger(join(outcome.dir, 'ledger.jsonl')), report: readFileSync(writeRunReports(outcome.dir).markdownPath, 'utf8') };
}

const order = (reqs: RecordedRequest[]) => reqs.map((r) => `${r.conversation}#${r.turn}`);
const lastMessage = (r: RecordedRequest) => r.body.messages.at(-1)!;
const results = (r: RecordedRequest) => (lastMessage(r).content as Block[]).filter((b) => b.type === 'tool_result');

describe('the conversation with the model', () => {
  it('offers web search and fetch with --web, resends a paused turn as is, and bills the searches', async () => {
    const paused: FakeReply = {
      stop_reason: 'pause_turn',
      content: [
        { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'rms norm simd' } },
        { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] },
      ],
      usage: { input_tokens: 0, output_tokens: 0, server_tool_use: { web_search_requests: 2 } },
    };
    const { outcome } = await run({ research: [paused, recordHypotheses('h1')], 'experiment-h1': [{ content: [text('skip')] }] }, { web: true });
    const [first, second] = server!.requests;
    expect(first.body.tools!.filter((t) => t.type).map((t) => `${t.type}:${t.name}`)).toEqual(['web_search_20250305:web_search', 'web_fetch_20250910:web_fetch']);
    expect(lastMessage(second).role).toBe('assistant');
    expect(lastMessage(second).content).toEqual(paused.content);
    // two searches at $10/1000, plus two default replies (research#1 and the experiment) at $0.0007 each
    expect(outcome.apiUsd).toBeCloseTo(0.02 + 2 * 0.0007, 10);
  });

  it('drops a tool call cut off by max_tokens and asks for a shorter answer', async () => {
    const cut: FakeReply = { stop_reason: 'max_tokens', content: [text('Here is a very long'), { type: 'tool_use', id: 'toolu_cut', name: 'submit_candidate', input: {} }] };
    await run({ research: [recordHypotheses('h1')], 'experiment-h1': [cut, { content: [text('ok')] }] });
    const retry = server!.requests.find((r) => r.conversation === 'experiment-h1' && r.turn === 1)!;
    const [assistant, user] = retry.body.messages.slice(-2);
    expect(assistant).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'Here is a very long' }] });
    expect((user.content as Block[])[0].text).toMatch(/cut off/);
  });

  it('answers unknown tools and tools of the other phase with an error result', async () => {
    await run({
      research: [{ stop_reason: 'tool_use', content: [toolUse('rm_rf', {}), toolUse('submit_candidate', { source: 'x' })] }, recordHypotheses('h1')],
      'experiment-h1': [{ content: [text('ok')] }],
    });
    const [a, b] = results(server!.requests[1]);
    expect(a).toMatchObject({ is_error: true, content: "no tool named 'rm_rf'" });
    expect(b).toMatchObject({ is_error: true, content: 'submit_candidate is not usable in the research phase' });
  });

  it('sends one identical tool list in both phases, so the first experiment reuses the cached prefix', async () => {
    await run({ research: [recordHypotheses('h1')], 'experiment-h1': [{ stop_reason: 'tool_use', content: [toolUse('record_hypotheses', {})] }, { content: [text('ok')] }] });
    const [research, experiment, next] = server!.requests;
    expect(experiment.conversation).toBe('experiment-h1');
    expect(experiment.body.tools).toEqual(research.body.tools);
    expect(experiment.body.system).toEqual(research.body.system);
    expect(research.body.tools!.map((t) => t.name)).toEqual(['list_files', 'read_file', 'grep', 'record_research', 'record_hypotheses', 'submit_candidate']);
    expect(results(next)[0]).toMatchObject({ is_error: true, content: 'record_hypotheses is not usable in the experiment phase' });
  });

  it('stops after the third max_tokens cut-off of research without a reminder or two user messages in a row', async () => {
    const cut: FakeReply = { stop_reason: 'max_tokens', content: [text('Thinking at length')] };
    const { outcome } = await run({ research: [cut, cut, cut, cut, cut, cut] });
    // the first request and two retries after a reminder each; the third cut-off ends it, and is not reset
    expect(order(server!.requests)).toEqual(['research#0', 'research#1', 'research#2']);
    for (const req of server!.requests) {
      const roles = req.body.messages.map((m) => m.role);
      expect(roles.every((r, i) => i === 0 || r !== roles[i - 1])).toBe(true);
    }
    expect(outcome.stopReason).toBe('the model recorded no hypotheses');
  });

  it('reminds once when research ends its turn without hypotheses, in a valid alternation', async () => {
    const { outcome } = await run({ research: [{ content: [text('I have read enough.')] }, recordHypotheses('h1')], 'experiment-h1': [{ content: [text('ok')] }] });
    const reminder = server!.requests[1];
    expect(reminder.body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect((lastMessage(reminder).content as Block[])[0].text).toMatch(/Record your hypotheses now/);
    expect(outcome.status).toBe('done');
  });

  it('marks the previous turn with a cache breakpoint, so many parallel tool calls cannot push it out of the lookback', async () => {
    const many: FakeReply = { stop_reason: 'tool_use', content: Array.from({ length: 12 }, () => toolUse('list_files', { path: 'kernel' })) };
    await run({ research: [many, many, recordHypotheses('h1')], 'experiment-h1': [{ content: [text('ok')] }] });
    const third = server!.requests[2];
    const marked = (m: { content: string | Block[] }) => Array.isArray(m.content) && m.content.some((b) => b.cache_control);
    const breakpoints = (r: RecordedRequest) =>
      (r.body.system as Block[]).filter((b) => b.cache_control).length + r.body.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).filter((b) => b.cache_control).length;
    // user messages: task, 12 results, 12 results; the middle one is where the second request wrote its prefix
    const users = third.body.messages.filter((m) => m.role === 'user');
    expect(users.map(marked)).toEqual([true, true, true]);
    expect((users[1].content as Block[]).at(-1)!.cache_control).toEqual({ type: 'ephemeral' });
    expect(breakpoints(third)).toBe(4);
    for (const r of server!.requests) expect(breakpoints(r)).toBeLessThanOrEqual(4);
  });

  it('screens a resubmitted identical source once, and ends the conversation after the last allowed revision', async () => {
    const log: string[] = [];
    const submit = (source: string): FakeReply => ({ stop_reason: 'tool_use', content: [toolUse('submit_candidate', { source })] });
    const { events } = await run(
      { research: [recordHypotheses('h1')], 'experiment-h1': [submit('/* BROKEN */'), submit('/* BROKEN */'), submit('/* plain */'), { content: [text('done')] }] },
      { maxRevisions: 1 },
      { runner: fakeRunner(log) },
    );
    // the baseline is screened once against itself first: the model's measured context
    expect(log).toEqual(['screen baseline', 'screen h1-r0', 'screen h1-r1']);
    expect(events.filter((e) => e.type === 'candidate').map((e) => e.candidate)).toEqual(['h1-r0', 'h1-r1']);
    const again = results(server!.requests.find((r) => r.conversation === 'experiment-h1' && r.turn === 2)!)[0];
    expect(again.content).toMatch(/^compile-error[\s\S]*You may revise 1 more time/);
    // the second distinct source was the last allowed one: no further request in this conversation
    expect(order(server!.requests).filter((x) => x.startsWith('experiment-h1'))).toEqual(['experiment-h1#0', 'experiment-h1#1', 'experiment-h1#2']);
  });

  it('keeps as many experiments in flight as hosts, one promotion per host at a time', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'kbench-conv-'));
    writeFileSync(
      join(workDir, 'kbench.config.json'),
      JSON.stringify({ hosts: [{ name: 'vm1', executor: 'ssh', arch: 'x86_64' }, { name: 'vm2', executor: 'ssh', arch: 'aarch64' }] }),
    );
    const log: string[] = [];
    const base = fakeRunner(log);
    const busy = new Map<string, number>();
    let maxBusyPerHost = 0;
    let maxHostsBusy = 0;
    const runner: ExperimentRunner = {
      ...base,
      confirm: async (k, c, hosts, signal, reference) => {
        for (const h of hosts) busy.set(h.name, (busy.get(h.name) ?? 0) + 1);
        maxBusyPerHost = Math.max(maxBusyPerHost, ...busy.values());
        maxHostsBusy = Math.max(maxHostsBusy, [...busy.values()].filter((n) => n > 0).length);
        await new Promise((r) => setTimeout(r, 50));
        for (const h of hosts) busy.set(h.name, busy.get(h.name)! - 1);
        return base.confirm(k, c, hosts, signal, reference);
      },
    };
    const submit = (source: string): FakeReply => ({ stop_reason: 'tool_use', content: [toolUse('submit_candidate', { source })] });
    // the third reply answers a native verdict that is not a win (when that experiment's promotion comes second)
    const { events } = await run(
      {
        research: [recordHypotheses('h1', 'h2')],
        'experiment-h1': [submit('/* SPEED=1.5 */'), { content: [text('done')] }, { content: [text('done')] }],
        'experiment-h2': [submit('/* SPEED=2.25 */'), { content: [text('done')] }, { content: [text('done')] }],
      },
      { hosts: ['vm1', 'vm2'] },
      { workDir, runner },
    );
    // h2 starts before h1's first request is answered and its candidate screened
    expect(order(server!.requests).slice(0, 3)).toEqual(['research#0', 'experiment-h1#0', 'experiment-h2#0']);
    expect(maxHostsBusy).toBe(2); // a promotion runs on its hosts in parallel
    expect(maxBusyPerHost).toBe(1); // both promotions need both hosts: they queue
    // both were screened against the baseline; the promotion that comes second is judged against the first's
    // champion (the champion is read and replaced under the host locks, so the two cannot both win over the baseline)
    const [first, second] = events.filter((e) => e.type === 'promotion');
    expect(first.reference).toBeNull();
    const firstVerdict = events.find((e) => e.type === 'verdict' && e.candidate === first.candidate)!;
    expect(firstVerdict).toMatchObject({ decision: 'kept', basis: 'native', reference: null });
    expect(second.reference).toBe(first.candidate);
    expect(events.find((e) => e.type === 'verdict' && e.candidate === second.candidate)).toMatchObject({ basis: 'native', reference: first.candidate });
  });
});
