import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent, type AgentOutcome } from '../../src/agent/agent.js';
import { createMessagesApi } from '../../src/agent/client.js';
import { openRealRunner } from '../../src/agent/real-runner.js';
import { readLedger } from '../../src/ledger/ledger.js';
import { BUILTIN_KERNELS_DIR } from '../../src/spec/suite.js';
import { hasCommand, missing } from '../helpers/require.js';
import { BROKEN_RMS_NORM, GOOD_RMS_NORM, WRONG_RMS_NORM } from '../fixtures/fake-anthropic/candidates.js';
import { scripted, startFakeAnthropic, TEST_API_KEY, text, toolUse, type Block, type FakeAnthropic, type RecordedRequest } from '../fixtures/fake-anthropic/server.js';
import { writeRunReports } from '../../src/report/index.js';

const hypotheses = [
  { id: 'h1', idea: 'four vector accumulators, fused scale pass', rationale: 'hides FMA latency; one pass less', sources: ['kernel/baseline.c'], expectedEffect: '2x decode', targetShape: 'decode 1x4096' },
  { id: 'h2', idea: 'skip the normalization', rationale: 'a deliberately wrong idea', sources: [], expectedEffect: 'fast and wrong', targetShape: 'all' },
];

const script = {
  research: [
    { stop_reason: 'tool_use' as const, content: [text('Looking around.'), toolUse('list_files', { path: 'kernel' }), toolUse('read_file', { path: 'kernel/../../../etc/passwd' })] },
    { stop_reason: 'tool_use' as const, content: [toolUse('grep', { pattern: 'memcpy', path: 'kernel' }), toolUse('read_file', { path: 'include/kb_simd.h', max_lines: 5 })] },
    {
      stop_reason: 'tool_use' as const,
      content: [
        toolUse('record_research', { brief: 'The baseline copies x into y, then scales: **two passes**.', sources: ['kernel/baseline.c', 'include/kb_simd.h'] }),
        toolUse('record_hypotheses', { hypotheses: [{ id: 'h1', idea: 'missing fields' }] }),
      ],
    },
    { stop_reason: 'tool_use' as const, content: [toolUse('record_hypotheses', { hypotheses })] },
  ],
  'experiment-h1': [
    { stop_reason: 'tool_use' as const, content: [toolUse('submit_candidate', { source: BROKEN_RMS_NORM })] },
    { stop_reason: 'tool_use' as const, content: [text('Fixing the syntax.'), toolUse('submit_candidate', { source: GOOD_RMS_NORM, note: 'fixed' })] },
    { content: [text('Done: it is faster.')] },
  ],
  'experiment-h2': [
    { stop_reason: 'tool_use' as const, content: [toolUse('submit_candidate', { source: WRONG_RMS_NORM })] },
    { content: [text('This cannot work.')] },
  ],
};

/** The tool results a request sends back, in order. */
function toolResults(req: RecordedRequest): Block[] {
  const last = req.body.messages.at(-1)!;
  return (Array.isArray(last.content) ? last.content : []).filter((b) => b.type === 'tool_result');
}

function find(server: FakeAnthropic, conversation: string, turn: number): RecordedRequest {
  const req = server.requests.find((r) => r.conversation === conversation && r.turn === turn);
  if (!req) throw new Error(`no request for ${conversation} turn ${turn}`);
  return req;
}

describe.skipIf(missing('a native C compiler (cc)', hasCommand('cc')))('a scripted agent run on rms_norm, promoted to local', () => {
  let server: FakeAnthropic;
  let outcome: AgentOutcome;
  let workDir: string;

  beforeAll(async () => {
    server = await startFakeAnthropic(scripted(script));
    workDir = mkdtempSync(join(tmpdir(), 'kbench-agent-'));
    outcome = await runAgent({
      workDir,
      settings: {
        kernel: 'rms_norm',
        kernelsDir: BUILTIN_KERNELS_DIR,
        model: 'claude-sonnet-5-5',
        hosts: ['local'],
        researchDirs: [],
        web: false,
        maxRevisions: 2,
        limits: { budgetUsd: 1, maxExperiments: 5, maxMinutes: 10 },
        allowLocalNative: true,
      },
      api: createMessagesApi({ apiKey: TEST_API_KEY, baseURL: server.url, maxRetries: 1 }),
      openRunner: openRealRunner,
    });
  }, 240_000);

  afterAll(async () => {
    await server?.close();
  });

  it('finishes with every hypothesis tried', () => {
    expect(outcome.stopReason).toBeNull();
    expect(outcome.status).toBe('done');
    expect(server.requests.map((r) => `${r.conversation}#${r.turn}`)).toEqual([
      'research#0', 'research#1', 'research#2', 'research#3',
      'experiment-h1#0', 'experiment-h1#1', 'experiment-h1#2',
      'experiment-h2#0', 'experiment-h2#1',
    ]);
  });

  it('sends Bearer auth, tool_choice auto, no sampling parameters, and cache breakpoints', () => {
    for (const req of server.requests) {
      expect(req.headers.authorization).toBe(`Bearer ${TEST_API_KEY}`);
      expect(req.body.tool_choice).toEqual({ type: 'auto' });
      expect(req.body).not.toHaveProperty('temperature');
      expect(req.body).not.toHaveProperty('top_p');
      expect((req.body.system as Block[])[0].cache_control).toEqual({ type: 'ephemeral' });
      const first = req.body.messages[0].content as Block[];
      expect(first[0].cache_control).toEqual({ type: 'ephemeral' });
      expect(first[0].text).toContain('void rms_norm(const float *x, float *y, int n, int rows, float eps, int ith, int nth);');
      // the newest user message is a breakpoint too, so the next request reads the conversation from the cache
      const last = req.body.messages.at(-1)!;
      expect(last.role).toBe('user');
      expect((last.content as Block[]).at(-1)!.cache_control).toEqual({ type: 'ephemeral' });
    }
    expect(find(server, 'research', 0).body.tools!.map((t) => t.name)).toEqual(['list_files', 'read_file', 'grep', 'record_research', 'record_hypotheses', 'submit_candidate']);
  });

  it('answers research tools and refuses a path traversal as an error result', () => {
    const [list, traversal] = toolResults(find(server, 'research', 1));
    expect(list.is_error).toBeUndefined();
    expect(list.content).toContain('kernel/kernel.json');
    expect(traversal.is_error).toBe(true);
    expect(traversal.content).toMatch(/'\.\.' is refused/);
    const [grep, header] = toolResults(find(server, 'research', 2));
    expect(grep.content).toMatch(/kernel\/baseline\.c:\d+: .*memcpy/);
    expect(header.content).toMatch(/^include\/kb_simd\.h: lines 1–5 of/);
  });

  it('returns malformed tool input to the model as an error result', () => {
    const [brief, bad] = toolResults(find(server, 'research', 3));
    expect(brief.content).toMatch(/research brief recorded/);
    expect(bad.is_error).toBe(true);
    expect(bad.content).toMatch(/invalid input for record_hypotheses: hypotheses\.0\.rationale/);
  });

  it('feeds compile errors and wrong results back, and lets the model revise', () => {
    const [compile] = toolResults(find(server, 'experiment-h1', 1));
    expect(compile.content).toMatch(/^compile-error/);
    expect(compile.content).toMatch(/You may revise 2 more time/);
    const [speed] = toolResults(find(server, 'experiment-h1', 2));
    expect(speed.content).toMatch(/check passed; WASM speed against the baseline:\n- decode 1x4096: speedup [\d.]+× \[[\d.]+, [\d.]+\] 95% CI/);
    const [wrong] = toolResults(find(server, 'experiment-h2', 1));
    expect(wrong.content).toMatch(/^check failed: wrong: y\[\d+\]/);
  });

  it('promotes the survivor to the host and decides by the native verdict', () => {
    const events = readLedger(join(outcome.dir, 'ledger.jsonl'));
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('run-start');
    expect(types.at(-1)).toBe('run-end');
    const promotion = events.find((e) => e.type === 'promotion')!;
    expect(promotion).toMatchObject({ candidate: 'h1-r1', hypothesis: 'h1', hosts: ['local'] });
    const native = events.filter((e) => e.type === 'result' && (e.result as { target: string }).target === 'local');
    expect(native).toHaveLength(1);
    const v1 = events.find((e) => e.type === 'verdict' && e.hypothesis === 'h1')!;
    expect(v1).toMatchObject({ candidate: 'h1-r1', basis: 'native' });
    expect(['kept', 'discarded']).toContain(v1.decision);
    const v2 = events.find((e) => e.type === 'verdict' && e.hypothesis === 'h2')!;
    expect(v2).toMatchObject({ candidate: 'h2-r0', decision: 'failed', basis: 'wasm' });
    for (const f of ['h1-r0', 'h1-r1', 'h2-r0']) expect(existsSync(join(outcome.dir, 'candidates', `${f}.c`))).toBe(true);
    expect(existsSync(join(outcome.dir, 'conversations', 'experiment-h1.json'))).toBe(true);
    // the best candidate file exists exactly when something was kept
    expect(existsSync(join(outcome.dir, 'best-rms_norm.c'))).toBe(v1.decision === 'kept');
    if (v1.decision === 'kept') expect(readFileSync(join(outcome.dir, 'best-rms_norm.c'), 'utf8')).toContain(GOOD_RMS_NORM);
  });

  it('counts the cost of every request', () => {
    // default fake usage: 100 input + 50 output tokens at $2/$10 per MTok = $0.0007 per request; local costs $0/h
    expect(outcome.apiUsd).toBeCloseTo(9 * 0.0007, 10);
    expect(outcome.hostsUsd).toBe(0);
  });

  it('writes a report with the brief, every candidate and its verdicts, and the cost', () => {
    const html = readFileSync(writeRunReports(outcome.dir).htmlPath, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toMatch(/kept|discarded/);
    const report = readFileSync(writeRunReports(outcome.dir).markdownPath, 'utf8');
    expect(report).toContain('# kbench agent: rms_norm');
    expect(report).toContain('The baseline copies x into y, then scales: **two passes**.');
    expect(report).toContain('- kernel/baseline.c');
    expect(report).toMatch(/### 1\. h1: four vector accumulators, fused scale pass — \*\*(kept|discarded)\*\* \(native verdict\)/);
    expect(report).toMatch(/### 2\. h2: skip the normalization — \*\*failed\*\* \(WASM verdict\)/);
    expect(report).toMatch(/\| h1-r0 \| compile-error/);
    expect(report).toMatch(/\| h1-r1 \| decode 1x4096: [\d.]+× \[[\d.]+, [\d.]+\] \w[\w-]*; prefill 64x4096: .* \| local: /);
    expect(report).toMatch(/\| h2-r0 \| wrong: y\[/);
    expect(report).toContain('| **API total** | 9 requests | $0.0063 |');
    expect(report).toContain('- stopped: all hypotheses tried');
  });
});
