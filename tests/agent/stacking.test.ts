// End to end with the real stages: the scripted model lands two candidates on rms_norm that stack — step A
// (four double accumulators) over the baseline, then vec4 over step A — judged by the real WASM screen and
// native runs on `local`, and report.md shows the cumulative speedup.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent, type AgentOutcome } from '../../src/agent/agent.js';
import { createMessagesApi } from '../../src/agent/client.js';
import type { ChampionEvent } from '../../src/ledger/agent-events.js';
import { openRealRunner } from '../../src/agent/real-runner.js';
import { readLedger } from '../../src/ledger/ledger.js';
import type { LedgerEvent, TargetResult } from '../../src/ledger/records.js';
import { BUILTIN_KERNELS_DIR, findKernel } from '../../src/spec/suite.js';
import { hasCommand, missing } from '../helpers/require.js';
import { GOOD_RMS_NORM, STEP_A_RMS_NORM } from '../fixtures/fake-anthropic/candidates.js';
import { scripted, startFakeAnthropic, TEST_API_KEY, text, toolUse, type Block, type FakeAnthropic } from '../fixtures/fake-anthropic/server.js';
import { agentSettings, recordHypotheses } from './scripted-run.js';
import { writeRunReports } from '../../src/report/index.js';

describe.skipIf(missing('a native C compiler (cc)', hasCommand('cc')))('two stacking wins on rms_norm, screened and confirmed for real', () => {
  let server: FakeAnthropic;
  let outcome: AgentOutcome;
  let events: LedgerEvent[];

  beforeAll(async () => {
    server = await startFakeAnthropic(
      scripted({
        research: [recordHypotheses('h1', 'h2')],
        'experiment-h1': [{ stop_reason: 'tool_use', content: [toolUse('submit_candidate', { source: STEP_A_RMS_NORM })] }, { content: [text('done')] }],
        'experiment-h2': [{ stop_reason: 'tool_use', content: [toolUse('submit_candidate', { source: GOOD_RMS_NORM })] }, { content: [text('done')] }],
      }),
    );
    outcome = await runAgent({
      workDir: mkdtempSync(join(tmpdir(), 'kbench-stacking-')),
      settings: agentSettings({ hosts: ['local'], allowLocalNative: true }),
      api: createMessagesApi({ apiKey: TEST_API_KEY, baseURL: server.url, maxRetries: 1 }),
      openRunner: openRealRunner,
    });
    events = readLedger(join(outcome.dir, 'ledger.jsonl'));
  }, 240_000);

  afterAll(async () => {
    await server?.close();
  });

  it('keeps both: the second is confirmed against the first, and becomes the champion', () => {
    expect(outcome.status).toBe('done');
    expect(server.requests.map((r) => `${r.conversation}#${r.turn}`)).toEqual(['research#0', 'experiment-h1#0', 'experiment-h1#1', 'experiment-h2#0', 'experiment-h2#1']);
    expect(events.filter((e) => e.type === 'promotion').map((e) => `${e.candidate} vs ${e.reference}`)).toEqual(['h1-r0 vs null', 'h2-r0 vs h1-r0']);
    const champions = events.filter((e) => e.type === 'champion') as unknown as ChampionEvent[];
    expect(champions.map((c) => `${c.previous}→${c.candidate}:${c.basis}`)).toEqual(['null→h1-r0:native', 'h1-r0→h2-r0:native']);
    // on every native shape the cumulative speedup is the product of the two steps, beyond either alone
    for (const f of champions[1].figures.filter((x) => x.target === 'local')) {
      const first = champions[0].figures.find((x) => x.target === 'local' && x.shape === f.shape)!;
      expect(f.cumulative!.estimate).toBeCloseTo(first.step.estimate * f.step.estimate, 10);
      expect(f.step.lo).toBeGreaterThan(1);
      expect(f.cumulative!.lo).toBeGreaterThan(first.step.hi);
    }
    expect(readFileSync(outcome.bestPath!, 'utf8')).toContain(GOOD_RMS_NORM);
    // the host really timed h2 against h1-r0's code: its reference time is h1-r0's own, about half the baseline's
    const native = (name: string) => (events.find((e) => e.type === 'result' && e.result.candidate === name && e.result.target === 'local')!.result as TargetResult).speed;
    for (const s of native('h2-r0')) {
      const h1 = native('h1-r0').find((x) => x.shape === s.shape)!;
      expect(s.baselineMedianNs / h1.candidateMedianNs).toBeGreaterThan(0.75);
      expect(s.baselineMedianNs / h1.candidateMedianNs).toBeLessThan(1.33);
      expect(h1.baselineMedianNs / s.baselineMedianNs).toBeGreaterThan(1.5);
    }
  });

  it('measures the baseline on every target before the first line of code', () => {
    expect(events.filter((e) => e.type === 'baseline').map((e) => e.result.target).sort()).toEqual(['local', 'wasm']);
    const first = server.requests.find((r) => r.conversation === 'experiment-h1' && r.turn === 0)!;
    const task = (first.body.messages[0].content as Block[]).map((b) => String(b.text)).join('\n');
    expect(task).toMatch(/\| local \| decode 1x4096 \| \d+ \| \d+% \| \d+ \| \d+% \| (bytes|flops) \(floor \d+ ns, [\d.]+× above it\) \|/);
    expect(task).toMatch(/\| wasm \| prefill 64x4096 \| \d+ \| \d+% \|/);
    expect(task).toMatch(/host local: (x86_64|aarch64), .*KB_LANES = [48] f32 lanes\), nth = 1 thread\(s\) per timed call/);
  });

  it('tells experiment 2 the native figures of experiment 1 and the measured baseline and champion', () => {
    const first = server.requests.find((r) => r.conversation === 'experiment-h2' && r.turn === 0)!;
    const task = (first.body.messages[0].content as Block[]).map((b) => String(b.text)).join('\n');
    expect(task).toMatch(/\| h1 \(h1-r0\): idea h1 \| landed: champion h1-r0 \| baseline \| decode 1x4096 [\d.]+× \[[\d.]+, [\d.]+\], \d+% light;.*\| local: decode 1x4096 [\d.]+× \[[\d.]+, [\d.]+\], \d+% light/);
    expect(task).toMatch(/\| local \| decode 1x4096 \| \d+ \| \d+% \| \d+ \| \d+% \| (bytes|flops) \(floor \d+ ns/);
    expect(task).toMatch(/\| wasm \| prefill 64x4096 \| \d+ \| \d+% \| \d+ \| \d+% \|/);
    expect(task).toContain('The current champion is h1-r0');
    expect(task).toContain(STEP_A_RMS_NORM.trimEnd());
  });

  it('shows the lineage with step and cumulative speedups per shape in report.md', () => {
    const report = readFileSync(writeRunReports(outcome.dir).markdownPath, 'utf8');
    expect(report).toContain('## Lineage\n\nbaseline → h1-r0 → h2-r0');
    expect(report).toMatch(/### Step 2: h1-r0 → h2-r0 \(h2: idea h2\), native verdict\n\nCost of the experiment: \$0\.0014 \(API \$0\.0014, hosts \$0\.0000\)\./);
    const champion = events.filter((e) => e.type === 'champion').at(-1) as unknown as ChampionEvent;
    for (const shape of ['decode 1x4096', 'prefill 64x4096']) {
      const f = champion.figures.find((x) => x.target === 'local' && x.shape === shape)!;
      const cumulative = `${f.cumulative!.estimate.toFixed(3)}× [${f.cumulative!.lo.toFixed(3)}, ${f.cumulative!.hi.toFixed(3)}] (90%)`;
      expect(report).toContain(`| local | ${shape} | ${f.step.estimate.toFixed(3)}× [${f.step.lo.toFixed(3)}, ${f.step.hi.toFixed(3)}] | ${cumulative} |`);
    }
  });
});

describe('the real screen times against the reference it is given', () => {
  it('puts a champion in the baseline\'s place', async () => {
    const kernel = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm');
    const dir = mkdtempSync(join(tmpdir(), 'kbench-reference-'));
    // the baseline with a long double sum: software 128-bit floats in WASM, about 20× slower
    const slowPath = join(dir, 'slow.c');
    writeFileSync(slowPath, readFileSync(kernel.baselinePath, 'utf8').replace('double sum = 0.0;', 'long double sum = 0.0L;').replace('sum += (double)', 'sum += (long double)'));
    const baseline = { name: 'same', source: readFileSync(kernel.baselinePath, 'utf8'), path: kernel.baselinePath };
    const runner = openRealRunner(dir);
    try {
      const vsSlow = await runner.screen(kernel, baseline, { name: 'slow', source: readFileSync(slowPath, 'utf8'), path: slowPath });
      const vsBaseline = await runner.screen(kernel, baseline);
      for (const s of vsSlow.speed) expect(s.speedup.estimate).toBeGreaterThan(5);
      for (const s of vsBaseline.speed) expect(s.speedup.estimate).toBeLessThan(2);
    } finally {
      await runner.close();
    }
  }, 120_000);
});
