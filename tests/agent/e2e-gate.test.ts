// `kbench agent --e2e`: the end-to-end verdict is the last gate before a keep. The runner is the fake one (speeds
// are markers in the source) with its end-to-end step returning the result each test gives; the API is the fake
// server. The real graft and llama-bench behind the step are exercised in e2e-agent-real.test.ts.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { e2eHostConfig, runAgent, type AgentSettings } from '../../src/agent/agent.js';
import { createMessagesApi } from '../../src/agent/client.js';
import type { SavedCandidate } from '../../src/agent/runner.js';
import { UsageError } from '../../src/errors.js';
import { readLedger } from '../../src/ledger/ledger.js';
import type { E2eResult } from '../../src/ledger/records.js';
import { scripted, startFakeAnthropic, TEST_API_KEY, type Block, type FakeAnthropic, type FakeReply, type RecordedRequest } from '../fixtures/fake-anthropic/server.js';
import { CLI } from '../helpers/fixtures.js';
import { e2eTest, fakeE2e, fakeRunner } from './fake-runner.js';
import { agentSettings, recordHypotheses, done, submit } from './scripted-run.js';
import { writeRunReports } from '../../src/report/index.js';

let server: FakeAnthropic | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const e2eSettings = { depths: [0], rounds: 3 };

function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kbench-e2e-agent-'));
  writeFileSync(join(dir, 'kbench.config.json'), JSON.stringify({ hosts: [{ name: 'vm1', executor: 'ssh', arch: 'x86_64', threads: 2 }] }));
  return dir;
}

async function run(script: Record<string, FakeReply[]>, e2e: (c: SavedCandidate) => E2eResult, over: Partial<AgentSettings> = {}, dir = workDir(), log: string[] = []) {
  server = await startFakeAnthropic(scripted(script));
  const outcome = await runAgent({
    workDir: dir,
    settings: agentSettings({ hosts: ['vm1'], allowLocalNative: true, e2e: e2eSettings, ...over }),
    api: createMessagesApi({ apiKey: TEST_API_KEY, baseURL: server.url, maxRetries: 0 }),
    openRunner: () => fakeRunner(log, e2e),
  });
  return { outcome, log, dir, events: readLedger(join(outcome.dir, 'ledger.jsonl')), report: readFileSync(writeRunReports(outcome.dir).markdownPath, 'utf8') };
}

const request = (conversation: string, turn: number): RecordedRequest => server!.requests.find((r) => r.conversation === conversation && r.turn === turn)!;
const task = (r: RecordedRequest) => (r.body.messages[0].content as Block[]).map((b) => String(b.text)).join('\n');
const lastText = (r: RecordedRequest) => (r.body.messages.at(-1)!.content as Block[]).map((b) => String(b.text ?? b.content ?? '')).join('\n');

describe('agent --e2e: the end-to-end gate', () => {
  it('keeps a native win whose end-to-end gain is below the floor, says so, records it, and tells the next experiment', async () => {
    const { events, log, outcome } = await run(
      { research: [recordHypotheses('h1', 'h2')], 'experiment-h1': [submit('/* SPEED=1.5 */'), done], 'experiment-h2': [submit('/* SPEED=1.5 */'), done] },
      (c) => fakeE2e(c.name, [e2eTest('pp128 @ d0', 1.003), e2eTest('tg32 @ d0', 1.04)]),
    );
    // only a candidate the native verdict keeps is measured end to end (h2 ties the champion: never measured)
    expect(log).toEqual(['screen baseline', 'confirm baseline', 'screen h1-r0', 'confirm h1-r0', 'e2e h1-r0', 'screen h2-r0 vs h1-r0', 'confirm h2-r0 vs h1-r0']);
    const e2e = events.filter((e) => e.type === 'e2e');
    expect(e2e).toHaveLength(1);
    expect(e2e[0]).toMatchObject({ result: { candidate: 'h1-r0', logits: { status: 'agree' } } });
    const verdict = events.find((e) => e.type === 'verdict' && e.hypothesis === 'h1');
    expect(verdict).toMatchObject({ decision: 'kept', basis: 'native' });
    expect(verdict?.type === 'verdict' && verdict.reason).toMatch(
      /^faster on vm1 decode 1x4096, vm1 prefill 64x4096, slower nowhere; end-to-end: faster on tg32 @ d0 \+4\.0% \[\+3\.0, \+5\.0\]; no change beyond the floor \(pp128 @ d0 \+0\.3% \[−0\.7, \+1\.3\]\) \(95% CIs\)$/,
    );
    // its time is host time on 'local', like a native run's
    expect(events.filter((e) => e.type === 'cost' && e.category === 'hosts' && e.host === 'local')).toEqual([expect.objectContaining({ durationMs: 90_000, candidate: 'h1-r0' })]);
    expect(outcome.kept).toBe(1);
    // the next experiment reads the champion's end-to-end figures, measured beside predicted
    const next = task(request('experiment-h2', 0));
    expect(next).toContain('End-to-end (local: your candidate grafted into ggml');
    expect(next).toMatch(/- tg32 @ d0: measured faster: \+4\.0% tokens\/s \(95% CI \+3\.0% … \+5\.0%\); Amdahl predicted \+1\.0% \[\+0\.5, \+1\.5\] \(op 3\.0% of the time, 1\.50× faster than upstream at decode 1x4096\)/);
    expect(next).toMatch(/- pp128 @ d0: measured no change: \+0\.3% tokens\/s .* lies within the ±2% noise floor/);
  });

  it('discards a native win the end-to-end timing finds slower, tells the model why, and lets it revise', async () => {
    const { events, log } = await run(
      { research: [recordHypotheses('h1')], 'experiment-h1': [submit('/* SPEED=1.5 */'), done, submit('/* SPEED=1.4 r1 */'), done] },
      (c) => fakeE2e(c.name, [e2eTest('pp128 @ d0', 1.0), e2eTest('tg32 @ d0', c.name === 'h1-r0' ? 0.95 : 1.0)]),
      { maxRevisions: 1 },
    );
    expect(log).toEqual(['screen baseline', 'confirm baseline', 'screen h1-r0', 'confirm h1-r0', 'e2e h1-r0', 'screen h1-r1', 'confirm h1-r1', 'e2e h1-r1']);
    const told = lastText(request('experiment-h1', 2));
    expect(told).toMatch(/^Verdict \(native, then end to end\) against the baseline: discarded \(end-to-end: slower on tg32 @ d0 −5\.0% \[−5\.9, −4\.1\] \(native: faster on vm1/);
    expect(told).toContain('- tg32 @ d0: measured slower: −5.0% tokens/s');
    expect(told).toContain('Amdahl predicted +1.0%');
    expect(told).toContain('You may revise 1 more time(s)');
    expect(events.filter((e) => e.type === 'verdict')).toEqual([expect.objectContaining({ candidate: 'h1-r1', decision: 'kept' })]);
  });

  it('without an op-level "vs upstream" run, predicts from the op share and the native speedup over the baseline, and says so', async () => {
    const noUpstreamRun = (c: SavedCandidate): E2eResult => {
      const { prediction: _p, ...r } = fakeE2e(c.name, [e2eTest('tg32 @ d0', 0.9)]);
      return { ...r, shares: [{ label: 'tg32 @ d0', share: { estimate: 0.03, lo: 0.02, hi: 0.04, level: 0.95 } }], predictionNote: 'no op-level speedup vs upstream for this source on this host' };
    };
    await run({ research: [recordHypotheses('h1')], 'experiment-h1': [submit('/* SPEED=1.5 */'), done, done] }, noUpstreamRun, { maxRevisions: 1 });
    expect(lastText(request('experiment-h1', 2))).toContain(
      "- tg32 @ d0: measured slower: −10.0% tokens/s (95% CI −10.9% … −9.1%); Amdahl predicted +1.0% [+0.6, +1.5] (op 3.0% of the time, 1.50× faster than kbench's baseline at decode 1x4096 on vm1; the baseline stands in for upstream ggml)",
    );
  });

  it('discards a candidate whose logits differ from the reference, with the logits reason, and keeps no champion', async () => {
    const { events, report } = await run(
      { research: [recordHypotheses('h1')], 'experiment-h1': [submit('/* SPEED=1.5 */'), done] },
      (c) => fakeE2e(c.name, [], { status: 'differ', reason: 'max relative logit difference 1.6e-2 on row 3 exceeds the tolerance 4.9e-3' }),
      { maxRevisions: 0 },
    );
    const verdicts = events.filter((e) => e.type === 'verdict');
    expect(verdicts).toEqual([expect.objectContaining({ candidate: 'h1-r0', decision: 'discarded', reason: expect.stringMatching(/^end-to-end: logits differ: max relative logit difference 1\.6e-2/) })]);
    expect(events.some((e) => e.type === 'champion')).toBe(false);
    expect(report).toContain('end-to-end: logits differ');
  });

  it('never measures a finished end-to-end again on --resume', async () => {
    const dir = workDir();
    const log: string[] = [];
    const slower = (c: SavedCandidate) => fakeE2e(c.name, [e2eTest('tg32 @ d0', 0.9)]);
    // the model hears the refusal, then the API fails: the run stops with the measure recorded and no verdict
    const first = await run({ research: [recordHypotheses('h1')], 'experiment-h1': [submit('/* SPEED=1.5 */'), done] }, slower, { maxRevisions: 1 }, dir, log);
    expect(first.outcome.status).toBe('failed');
    expect(first.events.filter((e) => e.type === 'e2e')).toHaveLength(1);
    expect(first.events.some((e) => e.type === 'verdict')).toBe(false);
    await server!.close();
    // resumed, the model stops: the refused candidate's recorded measure decides, nothing is measured again
    server = await startFakeAnthropic(scripted({ 'experiment-h1': [done, done, done] }));
    const resumed = await runAgent({
      workDir: dir,
      resume: { id: first.outcome.id },
      api: createMessagesApi({ apiKey: TEST_API_KEY, baseURL: server.url, maxRetries: 0 }),
      openRunner: () => fakeRunner(log, slower),
    });
    expect(log.filter((l) => l.startsWith('e2e'))).toEqual(['e2e h1-r0']);
    const events = readLedger(join(resumed.dir, 'ledger.jsonl'));
    expect(events.filter((e) => e.type === 'verdict')).toEqual([expect.objectContaining({ decision: 'discarded', reason: expect.stringMatching(/^end-to-end: slower on tg32 @ d0/) })]);
  });

  it('refuses --e2e on a kernel without a graft recipe, and without --allow-local-native, before any run folder exists', async () => {
    const dir = workDir();
    const attempt = (over: Partial<AgentSettings>) =>
      runAgent({
        workDir: dir,
        settings: agentSettings({ allowLocalNative: true, e2e: e2eSettings, ...over }),
        api: createMessagesApi({ apiKey: TEST_API_KEY, baseURL: 'http://127.0.0.1:9', maxRetries: 0 }),
        openRunner: () => fakeRunner([], (c) => fakeE2e(c.name, [])),
      });
    await expect(attempt({ kernel: 'quantize_q8_0' })).rejects.toThrow(UsageError);
    await expect(attempt({ kernel: 'quantize_q8_0' })).rejects.toThrow(/--e2e: kernel 'quantize_q8_0' has no graft recipe/);
    await expect(attempt({ allowLocalNative: false })).rejects.toThrow(/--e2e runs model-written candidates natively on this machine.*--allow-local-native/);
    await expect(attempt({ e2e: { ...e2eSettings, model: join(dir, 'missing.gguf') } })).rejects.toThrow(/--e2e-model .*missing\.gguf: no such file/);
    expect(existsSync(join(dir, '.kbench', 'runs'))).toBe(false);
  });

  it('--e2e-on an ssh host needs no --allow-local-native, keeps the host\'s model path as given, and charges that host\'s price', async () => {
    const dir = workDir();
    const hosts = [{ name: 'vm1', executor: 'ssh', arch: 'x86_64', threads: 2 }, { name: 'bench1', executor: 'ssh', arch: 'x86_64', usdPerHour: 3600 }];
    writeFileSync(join(dir, 'kbench.config.json'), JSON.stringify({ hosts }));
    const { outcome, events } = await run(
      { research: [recordHypotheses('h1')], 'experiment-h1': [submit('/* SPEED=1.5 */'), done] },
      (c) => ({ ...fakeE2e(c.name, []), host: 'bench1', elapsedMs: 2000 }),
      { allowLocalNative: false, e2e: { ...e2eSettings, host: 'bench1', model: 'models/on-host.gguf' } },
      dir,
    );
    expect(outcome.status).toBe('done');
    const config = events.find((e) => e.type === 'agent-config') as { e2e?: { host?: string; model?: string } } | undefined;
    expect(config?.e2e).toMatchObject({ host: 'bench1', model: 'models/on-host.gguf' });
    expect(events.filter((e) => e.type === 'e2e')).toHaveLength(1);
    // 2 s at $3600/h, though bench1 is not among the hosts that confirm natively
    expect(events.find((e) => e.type === 'cost' && e.host === 'bench1')).toMatchObject({ costUsd: 2 });
    // the step resolves the name against the project's hosts; no name is this machine
    expect(e2eHostConfig(workDir(), { ...e2eSettings, host: 'vm1' })).toMatchObject({ name: 'vm1', executor: 'ssh' });
    expect(e2eHostConfig(workDir(), e2eSettings).executor).toBe('local');
  });

  it.each([
    [['rms_norm', '--e2e', '--e2e-on', 'nohost'], /unknown host 'nohost'/],
    [['rms_norm', '--e2e-on', 'vm1'], /--e2e-on needs --e2e/],
    [['quantize_q8_0', '--e2e', '--allow-local-native'], /--e2e: kernel 'quantize_q8_0' has no graft recipe \(no "graft" in .*quantize_q8_0\/kernel\.json\)/],
    [['rms_norm', '--e2e'], /--allow-local-native/],
    [['rms_norm', '--e2e', '--allow-local-native', '--e2e-depths', '0,x'], /--e2e-depths: expected whole numbers ≥ 0 separated by commas, got '0,x'/],
    [['rms_norm', '--e2e-rounds', '3'], /--e2e-rounds needs --e2e/],
    [['--resume', 'x', '--e2e'], /--resume continues with the run's own settings.*got --e2e/],
  ])('kbench agent %j exits 2 with one clear error', async (args, message) => {
    const cwd = workDir();
    const outcome = await promisify(execFile)(process.execPath, [CLI, 'agent', ...args], { cwd, env: { ...process.env, ANTHROPIC_API_KEY: TEST_API_KEY, ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' } }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(message);
    expect(existsSync(join(cwd, '.kbench', 'runs'))).toBe(false);
  });
});
