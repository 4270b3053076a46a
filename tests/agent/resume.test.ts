import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readLedger } from '../../src/ledger/ledger.js';
import { GOOD_RMS_NORM, STEP_A_RMS_NORM } from '../fixtures/fake-anthropic/candidates.js';
import { startFakeAnthropic, TEST_API_KEY, text, toolUse, type FakeAnthropic, type FakeReply, type Responder } from '../fixtures/fake-anthropic/server.js';

const BIN = fileURLToPath(new URL('../../bin/kbench.js', import.meta.url));

function kbench(args: string[], cwd: string, env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) => child.on('close', (code) => r({ code, stdout, stderr })));
  return { child, done };
}

async function waitFor(what: string, test: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const hypotheses = ['h1', 'h2'].map((id) => ({ id, idea: `idea ${id}`, rationale: 'r', sources: [], expectedEffect: 'e', targetShape: 'all' }));
// Two stacking wins (no hosts: WASM verdicts): step A becomes the champion, then vec4 must beat step A.
const script: Record<string, FakeReply[]> = {
  research: [{ stop_reason: 'tool_use', content: [toolUse('record_hypotheses', { hypotheses })] }],
  'experiment-h1': [{ stop_reason: 'tool_use', content: [toolUse('submit_candidate', { source: STEP_A_RMS_NORM })] }, { content: [text('done')] }],
  'experiment-h2': [{ stop_reason: 'tool_use', content: [toolUse('submit_candidate', { source: GOOD_RMS_NORM })] }, { content: [text('done')] }],
};

describe('kill -9 mid-run, then --resume', () => {
  let server: FakeAnthropic;
  afterAll(async () => server?.close());

  it('redoes no finished experiment and loses none, resumes with the right champion, and charges the lost request', async () => {
    let h2Calls = 0;
    // The first call of h2 hangs, so the first process is surely killed between experiments.
    const respond: Responder = (req) => {
      const reply = script[req.conversation]?.[req.turn] ?? { status: 400, errorMessage: `unscripted ${req.conversation}#${req.turn}` };
      if (req.conversation === 'experiment-h2' && req.turn === 0 && ++h2Calls === 1) return { ...reply, delayMs: 60_000 };
      return reply;
    };
    server = await startFakeAnthropic(respond);
    const workDir = mkdtempSync(join(tmpdir(), 'kbench-resume-'));
    const env = { ANTHROPIC_API_KEY: TEST_API_KEY, ANTHROPIC_BASE_URL: server.url };

    const first = kbench(['agent', 'rms_norm', '--max-revisions', '1', '--budget-usd', '1'], workDir, env);
    const runs = join(workDir, '.kbench', 'runs');
    const ledgerFile = () => join(runs, readdirSync(runs)[0], 'ledger.jsonl');
    await waitFor('h1 champion and the h2 request', () => {
      if (!existsSync(runs) || !readdirSync(runs).length || !existsSync(ledgerFile())) return false;
      const h1Done = readLedger(ledgerFile()).some((e) => e.type === 'champion' && e.hypothesis === 'h1');
      return h1Done && server.requests.some((r) => r.conversation === 'experiment-h2');
    }, 90_000);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.code).toBeNull();
    const id = readdirSync(runs)[0];
    const beforeResume = server.requests.length;
    expect(readLedger(ledgerFile()).some((e) => e.type === 'run-end')).toBe(false);
    // a write torn by the kill: the resumed run must cut it, not choke on it
    appendFileSync(ledgerFile(), '{"type":"cost","at":"2026-11-27T0');

    const second = kbench(['agent', '--resume', id], workDir, env);
    const resumed = await second.done;
    expect(resumed.stderr).not.toMatch(/internal error/);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/^done: \d kept, cost \$/);

    const after = server.requests.slice(beforeResume).map((r) => `${r.conversation}#${r.turn}`);
    expect(after).toEqual(['experiment-h2#0', 'experiment-h2#1']);
    const events = readLedger(ledgerFile());
    expect(events.filter((e) => e.type === 'run-start')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'verdict').map((e) => e.hypothesis)).toEqual(['h1', 'h2']);
    expect(events.filter((e) => e.type === 'candidate').map((e) => e.candidate)).toEqual(['h1-r0', 'h2-r0']);
    // the champion the first session made is the one the resumed session screens against, and then replaces
    expect(events.filter((e) => e.type === 'champion').map((e) => `${e.previous}→${e.candidate}`)).toEqual(['null→h1-r0', 'h1-r0→h2-r0']);
    expect(events.find((e) => e.type === 'screen' && e.candidate === 'h2-r0')).toMatchObject({ reference: 'h1-r0', outcome: 'survivor' });
    expect(events.find((e) => e.type === 'verdict' && e.hypothesis === 'h2')).toMatchObject({ decision: 'kept', reference: 'h1-r0' });
    const report = readFileSync(join(runs, id, 'report.md'), 'utf8');
    expect(report).toContain('- sessions: 2 (resumed)');
    expect(report).toContain('- experiments finished: 2 of 2 hypotheses');
    expect(report).toContain('baseline → h1-r0 → h2-r0');
    expect(readFileSync(join(runs, id, 'best-rms_norm.c'), 'utf8')).toContain(GOOD_RMS_NORM);
    // every request of both sessions is paid for once: 1 research + 2 h1 + 2 h2 answered at $0.0007, and the one
    // the kill left unanswered, recorded before it was sent, charged on resume as an upper bound (16000 output
    // tokens at $10/MTok and more)
    const lost = events.filter((e) => e.type === 'cost' && e.estimated);
    expect(lost).toEqual([expect.objectContaining({ conversation: 'experiment-h2', usage: expect.objectContaining({ output_tokens: 16_000 }) })]);
    const total = 5 * 0.0007 + lost[0].costUsd;
    expect(lost[0].costUsd).toBeGreaterThan(0.16);
    expect(report).toContain(`| **API total** | 6 requests (1 unanswered, charged an upper-bound estimate) | $${total.toFixed(4)} |`);

    const listed = await kbench(['runs', '--json'], workDir, {}).done;
    expect(JSON.parse(listed.stdout)).toEqual({
      schema: 'kbench.runs/1',
      runs: [expect.objectContaining({ id, kind: 'agent', kernel: 'rms_norm', status: 'done', experiments: 2, landed: 2, costUsd: expect.closeTo(total, 10) })],
    });
  }, 180_000);

  it('refuses to start without ANTHROPIC_API_KEY (exit 2)', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'kbench-resume-'));
    const r = await kbench(['agent', 'rms_norm'], workDir, {}).done;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ANTHROPIC_API_KEY is not set/);
    expect(existsSync(join(workDir, '.kbench'))).toBe(false);
  });
});
