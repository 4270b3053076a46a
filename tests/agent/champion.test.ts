// Wins that compound: a kept candidate becomes the champion later experiments are screened and confirmed against,
// the model hears what happened before (memory, measured context, native verdicts), and the report shows the
// lineage. The runner is the fake one (speeds are markers in the source), the API the fake server.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgent, type AgentSettings } from '../../src/agent/agent.js';
import { createMessagesApi } from '../../src/agent/client.js';
import { readLedger } from '../../src/ledger/ledger.js';
import { scripted, startFakeAnthropic, TEST_API_KEY, type Block, type FakeAnthropic, type FakeReply, type RecordedRequest } from '../fixtures/fake-anthropic/server.js';
import { fakeRunner } from './fake-runner.js';
import { agentSettings, recordHypotheses, done, submit } from './scripted-run.js';
import { writeRunReports } from '../../src/report/index.js';

let server: FakeAnthropic | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});


async function run(script: Record<string, FakeReply[]>, over: Partial<AgentSettings> = {}) {
  server = await startFakeAnthropic(scripted(script));
  const workDir = mkdtempSync(join(tmpdir(), 'kbench-champion-'));
  writeFileSync(join(workDir, 'kbench.config.json'), JSON.stringify({ hosts: [{ name: 'vm1', executor: 'ssh', arch: 'x86_64', threads: 2 }] }));
  const log: string[] = [];
  const outcome = await runAgent({
    workDir,
    settings: agentSettings({ hosts: ['vm1'], ...over }),
    api: createMessagesApi({ apiKey: TEST_API_KEY, baseURL: server.url, maxRetries: 0 }),
    openRunner: () => fakeRunner(log),
  });
  return { outcome, log, events: readLedger(join(outcome.dir, 'ledger.jsonl')), report: readFileSync(writeRunReports(outcome.dir).markdownPath, 'utf8') };
}

const request = (conversation: string, turn: number): RecordedRequest => server!.requests.find((r) => r.conversation === conversation && r.turn === turn)!;
/** The task text of a conversation's first message (after the cached kernel context). */
const task = (r: RecordedRequest) => (r.body.messages[0].content as Block[]).map((b) => String(b.text)).join('\n');
const lastText = (r: RecordedRequest) =>
  (r.body.messages.at(-1)!.content as Block[]).map((b) => (b.type === 'tool_result' ? String(b.content) : String(b.text ?? ''))).join('\n');

describe('champion lineage', () => {
  it('judges experiment 2 against experiment 1’s champion, tells it what happened, and reports the lineage', async () => {
    const { outcome, log, events, report } = await run({
      research: [recordHypotheses('h1', 'h2', 'h3')],
      'experiment-h1': [submit('/* SPEED=1.5 */'), done],
      'experiment-h2': [submit('/* SPEED=2.25 */'), done],
      // faster than the baseline, slower than the champion: not a win any more (told so, the model stops)
      'experiment-h3': [submit('/* SPEED=1.8 */'), done, done],
    });
    expect(log).toEqual(['screen baseline', 'confirm baseline', 'screen h1-r0', 'confirm h1-r0', 'screen h2-r0 vs h1-r0', 'confirm h2-r0 vs h1-r0', 'screen h3-r0 vs h2-r0', 'confirm h3-r0 vs h2-r0']);
    const champions = events.filter((e) => e.type === 'champion');
    expect(champions.map((c) => `${c.previous}→${c.candidate}`)).toEqual(['null→h1-r0', 'h1-r0→h2-r0']);
    const vm1 = (c: (typeof champions)[number]) => c.figures.find((f: { target: string; shape: string }) => f.target === 'vm1' && f.shape === 'decode 1x4096');
    expect(vm1(champions[1])).toMatchObject({ step: { estimate: 1.5 }, cumulative: { estimate: expect.closeTo(2.25, 10), lo: expect.closeTo(1.425 ** 2, 10), level: expect.closeTo(0.9, 10) } });
    const verdicts = events.filter((e) => e.type === 'verdict');
    expect(verdicts.map((v) => `${v.hypothesis}:${v.decision}:${v.reference}`)).toEqual(['h1:kept:null', 'h2:kept:h1-r0', 'h3:discarded:h2-r0']);
    expect(outcome.kept).toBe(2);

    // before writing code: timing conditions, the baseline's measured times and share of light
    const first = task(request('experiment-h1', 0));
    expect(first).toContain(process.arch === 'arm64' ? 'modelling neon (KB_LANES = 4 f32 lanes' : 'modelling avx2 (KB_LANES = 8 f32 lanes as two 128-bit vectors');
    expect(first).toContain('host vm1: x86_64, -O3 -mavx2 -mfma (AVX2+FMA: KB_LANES = 8 f32 lanes), nth = 2 thread(s) per timed call');
    expect(first).toMatch(/\| wasm \| decode 1x4096 \| 1000 \| 50% \| 1000 \| 50% \| bytes \(floor 500 ns, 2\.0× above it\) \|/);
    expect(first).toMatch(/\| vm1 \| prefill 64x4096 \| 1000 \| 50% \| 1000 \| 50% \| bytes/);
    expect(first).toContain('(this is the first experiment)');
    expect(first).toContain('The current champion is the original baseline');

    // experiment 2 knows experiment 1's outcome and native figures, and starts from its source
    const second = task(request('experiment-h2', 0));
    expect(second).toMatch(/\| h1 \(h1-r0\): idea h1 \| landed: champion h1-r0 \| baseline \| decode 1x4096 1\.500× \[1\.425, 1\.575\], 75% light;.* \| vm1: decode 1x4096 1\.500× \[1\.425, 1\.575\], 75% light/);
    expect(second).toContain('The current champion is h1-r0 (hypothesis h1: idea h1), kept on its native verdict; lineage: baseline → h1-r0.');
    expect(second).toContain('/* SPEED=1.5 */');
    expect(second).toMatch(/\| vm1 \| decode 1x4096 \| 1000 \| 50% \| 667 \| 75% \|/);
    // its screen feedback is over the champion, restated over the original baseline
    expect(lastText(request('experiment-h2', 1))).toMatch(
      /WASM speed against the champion h1-r0:\n- decode 1x4096: speedup 1\.500× .* \(h1-r0 667 ns, candidate 444 ns, 113% of the measured speed of light\); 2\.250× \[2\.031, 2\.481\] over the original baseline/,
    );
    // experiment 3 sees both earlier rows, the second judged against the first
    expect(task(request('experiment-h3', 0))).toMatch(/\| h2 \(h2-r0\): idea h2 \| landed: champion h2-r0 \| h1-r0 \| decode 1x4096 1\.500× \[1\.425, 1\.575\] = 2\.25× over baseline/);

    // the final champion is the best file, and the report shows the steps with their cost
    expect(readFileSync(outcome.bestPath!, 'utf8')).toMatch(/champion h2-r0, 2\.250× geometric-mean speedup over the baseline \(native\)\.\n \* Lineage: baseline → h1-r0 → h2-r0\./);
    expect(report).toContain('## Lineage\n\nbaseline → h1-r0 → h2-r0');
    expect(report).toContain('### Step 1: baseline → h1-r0 (h1: idea h1), native verdict');
    expect(report).toContain('### Step 2: h1-r0 → h2-r0 (h2: idea h2), native verdict');
    expect(report).toContain('| vm1 | decode 1x4096 | 1.500× [1.425, 1.575] | 2.250× [2.031, 2.481] (90%) | 444 | 113% |');
    // two requests of $0.0007 each per experiment; the fake host is free
    expect(report).toMatch(/### Step 2:.*\n\nCost of the experiment: \$0\.0014 \(API \$0\.0014, hosts \$0\.0000\)\./);
    const html = readFileSync(writeRunReports(outcome.dir).htmlPath, 'utf8');
    expect(html).toContain('Lineage');
    expect(html).toContain('baseline → h1-r0 → h2-r0');
    const lineage = html.slice(html.indexOf('<section id="lineage">'), html.indexOf('</section>', html.indexOf('<section id="lineage">')));
    expect(lineage).toContain('step cost');
    expect(lineage).toContain('<td class="num">2</td><td>h1-r0 → h2-r0</td><td>wasm</td><td>decode 1x4096</td><td>1.50× [1.42, 1.58]</td><td>2.25× [2.03, 2.48]</td><td class="num">$0.0014</td>');
  });

  it('sends the native verdict back to the model, which may revise within --max-revisions', async () => {
    const { events, log } = await run(
      {
        research: [recordHypotheses('h1')],
        // the screen likes r0, the host does not; after hearing so, the model revises
        'experiment-h1': [submit('/* SPEED=1.5 NATIVE=0.8 */'), done, submit('/* SPEED=1.4 */'), done],
      },
      { maxRevisions: 2 },
    );
    const told = lastText(request('experiment-h1', 2));
    expect(told).toMatch(/^Native verdict against the baseline: discarded \(slower on vm1 decode 1x4096, vm1 prefill 64x4096\)\.\nvm1 \(x86_64, fake\):\n- decode 1x4096: speedup 0\.800×/);
    expect(told).toContain('You may revise 2 more time(s)');
    expect(log).toEqual(['screen baseline', 'confirm baseline', 'screen h1-r0', 'confirm h1-r0', 'screen h1-r1', 'confirm h1-r1']);
    expect(events.filter((e) => e.type === 'verdict')).toEqual([expect.objectContaining({ candidate: 'h1-r1', decision: 'kept', basis: 'native' })]);
    expect(events.filter((e) => e.type === 'champion').map((e) => e.candidate)).toEqual(['h1-r1']);
  });

  it('ends with the native verdict when no revision is left', async () => {
    const { events } = await run({ research: [recordHypotheses('h1')], 'experiment-h1': [submit('/* SPEED=1.5 NATIVE=0.8 */'), done] }, { maxRevisions: 0 });
    // the only submission was the last allowed one: the conversation ends with it, and nothing is sent back
    expect(server!.requests.filter((r) => r.conversation === 'experiment-h1')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'verdict')).toEqual([expect.objectContaining({ candidate: 'h1-r0', decision: 'discarded', reason: expect.stringMatching(/^slower on vm1/) })]);
    expect(events.some((e) => e.type === 'champion')).toBe(false);
  });
});
