import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgent, type AgentSettings } from '../../src/agent/agent.js';
import { Budget, TIME_LIMIT } from '../../src/agent/budget.js';
import { createMessagesApi } from '../../src/agent/client.js';
import { readLedger, runsDir } from '../../src/ledger/ledger.js';
import { replay } from '../../src/agent/state.js';
import { UsageError } from '../../src/errors.js';
import { scripted, startFakeAnthropic, TEST_API_KEY, text, toolUse, type FakeAnthropic, type FakeReply, type Responder } from '../fixtures/fake-anthropic/server.js';
import { fakeRunner } from './fake-runner.js';
import { agentSettings, recordHypotheses } from './scripted-run.js';
import { writeRunReports } from '../../src/report/index.js';

let server: FakeAnthropic | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function run(respond: Responder, over: Partial<AgentSettings> = {}, extra: { apiKey?: string; signal?: AbortSignal; workDir?: string } = {}) {
  server = await startFakeAnthropic(respond);
  const workDir = extra.workDir ?? mkdtempSync(join(tmpdir(), 'kbench-limits-'));
  const outcome = await runAgent({
    workDir,
    settings: agentSettings(over),
    api: createMessagesApi({ apiKey: extra.apiKey ?? TEST_API_KEY, baseURL: server.url, maxRetries: 2 }),
    openRunner: () => fakeRunner(),
    signal: extra.signal,
  });
  return { outcome, workDir, report: readFileSync(writeRunReports(outcome.dir).markdownPath, 'utf8'), events: readLedger(join(outcome.dir, 'ledger.jsonl')) };
}

describe('budget', () => {
  it('stops before the request after the running total crosses --budget-usd, and says why', async () => {
    // each reply: 1000 input + 200 output tokens = $0.002 + $0.002 = $0.004; the budget is $0.01
    const look: FakeReply = { stop_reason: 'tool_use', content: [toolUse('list_files', { path: 'kernel' })], usage: { input_tokens: 1000, output_tokens: 200 } };
    const { outcome, report, events } = await run(scripted({ research: [look, look, look, look, look] }), { limits: { budgetUsd: 0.01, maxExperiments: 5, maxMinutes: 10 } });
    expect(server!.requests).toHaveLength(3);
    expect(outcome.apiUsd).toBeCloseTo(0.012, 10);
    expect(outcome.apiUsd - 0.01).toBeLessThan(0.004);
    expect(outcome.stopReason).toBe('budget reached: $0.0120 spent of $0.01');
    expect(outcome.status).toBe('done');
    expect(report).toContain('- stopped: budget reached: $0.0120 spent of $0.01');
    expect(report).toContain('| **API total** | 3 requests | $0.0120 |');
    expect(events.filter((e) => e.type === 'cost').map((e) => e.totalUsd)).toEqual([0.004, 0.008, 0.012].map((x) => expect.closeTo(x, 10)));
    expect(events.at(-1)).toMatchObject({ type: 'run-end', status: 'done', reason: outcome.stopReason });
  });

  it('counts host time at the host price against the budget', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'kbench-limits-'));
    writeFileSync(join(workDir, 'kbench.config.json'), JSON.stringify({ hosts: [{ name: 'vm1', executor: 'ssh', arch: 'x86_64', usdPerHour: 0.2 }] }));
    const { outcome, events, report } = await run(
      scripted({
        research: [recordHypotheses('h1', 'h2')],
        'experiment-h1': [{ stop_reason: 'tool_use', content: [toolUse('submit_candidate', { source: '/* FAST */' })] }, { content: [text('done')] }],
      }),
      { hosts: ['vm1'], limits: { budgetUsd: 0.2, maxExperiments: 5, maxMinutes: 10 } },
      { workDir },
    );
    // the fake host takes 30 min a run: $0.10 for the baseline measured before the first experiment, $0.10 for h1,
    // which reaches the budget before h2 starts
    const hosts = events.filter((e) => e.type === 'cost' && e.category === 'hosts');
    expect(hosts).toEqual(['baseline', 'h1-r0'].map((candidate) => expect.objectContaining({ host: 'vm1', candidate, durationMs: 1800_000, costUsd: expect.closeTo(0.1, 10) })));
    expect(outcome.hostsUsd).toBeCloseTo(0.2, 10);
    expect(outcome.stopReason).toMatch(/^budget reached/);
    expect(server!.requests.some((r) => r.conversation === 'experiment-h2')).toBe(false);
    expect(report).toMatch(/### 1\. h1: idea h1 — \*\*kept\*\* \(native verdict\)/);
    expect(report).toContain('### 2. h2: idea h2 — not finished');
    expect(report).toContain('| host vm1 | 3600.0 s | $0.2000 |');
  });
});

describe('other limits', () => {
  it('stops at --max-experiments', async () => {
    const { outcome, report } = await run(
      scripted({ research: [recordHypotheses('h1', 'h2', 'h3')], 'experiment-h1': [{ content: [text('nothing to try')] }] }),
      { limits: { budgetUsd: 1, maxExperiments: 1, maxMinutes: 10 } },
    );
    expect(outcome.stopReason).toBe('experiment limit reached: 1');
    expect(report).toContain('no candidate was submitted');
  });

  it('stops at --max-minutes even while a request is in flight', async () => {
    const slow: FakeReply = { ...recordHypotheses('h1'), delayMs: 5_000 };
    const started = Date.now();
    const { outcome, report } = await run(scripted({ research: [slow] }), { limits: { budgetUsd: 1, maxExperiments: 5, maxMinutes: 0.005 } });
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(outcome.status).toBe('done');
    expect(outcome.stopReason).toBe('time limit reached: 0.005 min');
    expect(report).toContain('- stopped: time limit reached: 0.005 min');
    // the request cut off by the limit is recorded before it is sent and charged an upper bound: max_tokens of
    // output (16000 × $10/MTok) plus its input estimate as cache writes
    const events = readLedger(join(outcome.dir, 'ledger.jsonl'));
    const sent = events.find((e) => e.type === 'request')!;
    const charged = events.find((e) => e.type === 'cost')!;
    expect(charged).toMatchObject({ request: sent.request, estimated: true, usage: { input_tokens: 0, output_tokens: 16_000, cache_creation_input_tokens: sent.inputTokensEstimate } });
    expect(outcome.apiUsd).toBeGreaterThan(0.16);
    expect(report).toContain('| **API total** | 1 requests (1 unanswered, charged an upper-bound estimate) |');
    expect(readFileSync(writeRunReports(outcome.dir).htmlPath, 'utf8')).toContain('1 request(s) were never answered (a crash or the time limit) and are charged an upper-bound estimate');
  });

  it('names the time limit when its timer fires the stop signal a moment before the clock reaches the limit', () => {
    const limits = { budgetUsd: 1, maxExperiments: 5, maxMinutes: 0.005 };
    const clock = () => 1_000; // never advances: the 300 ms are not yet up by this clock
    const timedOut = new AbortController();
    timedOut.abort(TIME_LIMIT);
    expect(new Budget(limits, 0, clock, timedOut.signal).stopReason()).toBe('time limit reached: 0.005 min');
    const interrupted = new AbortController();
    interrupted.abort();
    expect(new Budget(limits, 0, clock, interrupted.signal).stopReason()).toBe('interrupted (Ctrl-C)');
  });

  it('stops on Ctrl-C (the abort signal) with a report', async () => {
    const controller = new AbortController();
    const respond: Responder = (req) => {
      if (req.turn === 1) controller.abort();
      return { stop_reason: 'tool_use', content: [toolUse('list_files', {})] };
    };
    const { outcome, report } = await run(respond, {}, { signal: controller.signal });
    expect(outcome.status).toBe('interrupted');
    expect(outcome.stopReason).toBe('interrupted (Ctrl-C)');
    expect(report).toContain('- stopped: interrupted (Ctrl-C)');
  });

  it('keeps by the WASM verdict, labelled as such, when there are no hosts', async () => {
    const { report, outcome } = await run(
      scripted({
        research: [recordHypotheses('h1')],
        'experiment-h1': [
          { stop_reason: 'tool_use', content: [toolUse('submit_candidate', { source: '/* BROKEN */' })] },
          { stop_reason: 'tool_use', content: [toolUse('submit_candidate', { source: '/* FAST */' })] },
        ],
      }),
    );
    // max-revisions 1: the second submission is the last, so the conversation ends without another request
    expect(server!.requests.map((r) => `${r.conversation}#${r.turn}`)).toEqual(['research#0', 'experiment-h1#0', 'experiment-h1#1']);
    expect(outcome.kept).toBe(1);
    expect(report).toMatch(/\*\*kept\*\* \(WASM verdict\)/);
    expect(report).toContain('verdict: WASM only (no hosts): faster on wasm decode 1x4096');
    expect(existsSync(join(outcome.dir, 'best-rms_norm.c'))).toBe(true);
  });
});

describe('resume', () => {
  it('promotes again a candidate whose promotion was interrupted, without asking the model again', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'kbench-limits-'));
    writeFileSync(join(workDir, 'kbench.config.json'), JSON.stringify({ hosts: [{ name: 'vm1', executor: 'ssh', arch: 'x86_64' }] }));
    server = await startFakeAnthropic(
      scripted({
        research: [recordHypotheses('h1')],
        'experiment-h1': [{ stop_reason: 'tool_use', content: [toolUse('submit_candidate', { source: '/* FAST */' })] }, { content: [text('done')] }],
      }),
    );
    const api = createMessagesApi({ apiKey: TEST_API_KEY, baseURL: server.url, maxRetries: 0 });
    const controller = new AbortController();
    const log: string[] = [];
    const hanging = fakeRunner(log);
    // the first session's host never answers; Ctrl-C arrives while it is busy
    const measure = hanging.confirm;
    hanging.confirm = (k, c, h, signal, reference) => {
      if (c.name === 'baseline') return measure(k, c, h, signal, reference);
      log.push(`confirm ${c.name}`);
      setTimeout(() => controller.abort(), 20);
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    };
    const first = await runAgent({ workDir, settings: agentSettings({ hosts: ['vm1'] }), api, openRunner: () => hanging, signal: controller.signal });
    expect(first.status).toBe('interrupted');
    expect(readFileSync(writeRunReports(first.dir).markdownPath, 'utf8')).toContain('### 1. h1: idea h1 — not finished');
    const asked = server.requests.length;

    const second = await runAgent({ workDir, resume: { id: first.id }, api, openRunner: () => fakeRunner(log) });
    expect(second.status).toBe('done');
    expect(server.requests.length).toBe(asked);
    expect(log).toEqual(['screen baseline', 'confirm baseline', 'screen h1-r0', 'confirm h1-r0', 'confirm h1-r0']);
    const events = readLedger(join(second.dir, 'ledger.jsonl'));
    expect(events.filter((e) => e.type === 'promotion')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'verdict')).toEqual([expect.objectContaining({ hypothesis: 'h1', decision: 'kept', basis: 'native' })]);
  });
});

describe('API failures', () => {
  it('retries 429 and 500 responses and counts only the answer', async () => {
    let calls = 0;
    const respond: Responder = (req) => {
      calls++;
      if (calls === 1) return { status: 429, errorMessage: 'rate limited' };
      if (calls === 2) return { status: 500, errorMessage: 'overloaded' };
      return req.conversation === 'research' ? recordHypotheses('h1') : { content: [text('no idea')] };
    };
    const { outcome } = await run(respond);
    expect(calls).toBe(4);
    expect(outcome.status).toBe('done');
    expect(outcome.apiUsd).toBeCloseTo(2 * 0.0007, 10);
  });

  it('stops with a clear message on 401, with a report', async () => {
    const { outcome, report, events } = await run(scripted({}), {}, { apiKey: 'wrong-key' });
    expect(server!.requests).toHaveLength(0); // refused before the script is consulted
    expect(outcome.status).toBe('failed');
    expect(outcome.stopReason).toMatch(/rejected the key \(401\): check ANTHROPIC_API_KEY/);
    expect(report).toMatch(/## Errors\n\n- the Anthropic API rejected the key \(401\)/);
    // an error answer is not billed: the request is settled, so a resume charges no estimate for it
    const requests = events.filter((e) => e.type === 'request');
    expect(requests).toEqual([expect.objectContaining({ conversation: 'research' }), expect.objectContaining({ request: requests[0].request, error: expect.stringMatching(/401/) })]);
    expect(replay(events).unanswered.size).toBe(0);
    expect(events.some((e) => e.type === 'cost')).toBe(false);
  });

  it('refuses to start without an API key', () => {
    expect(() => createMessagesApi({ apiKey: undefined })).toThrow(UsageError);
    expect(() => createMessagesApi({ apiKey: '' })).toThrow(/ANTHROPIC_API_KEY is not set/);
  });
});

describe('safety', () => {
  it('refuses local native runs of model-written code without --allow-local-native, before anything starts', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'kbench-limits-'));
    server = await startFakeAnthropic(scripted({}));
    const attempt = runAgent({
      workDir,
      settings: agentSettings({ hosts: ['local'] }),
      api: createMessagesApi({ apiKey: TEST_API_KEY, baseURL: server.url }),
      openRunner: () => fakeRunner(),
    });
    await expect(attempt).rejects.toThrow(UsageError);
    await expect(attempt).rejects.toThrow(/host 'local' would run model-written code natively.*--allow-local-native/);
    expect(server.requests).toHaveLength(0);
    expect(existsSync(runsDir(workDir))).toBe(false);
  });
});
