// `kbench agent --e2e` with the real end-to-end step: candidates grafted into the pinned llama.cpp (the reference
// build is cached under ~/.cache/kbench/upstream/e2e), logits checked and llama-bench timed on this machine on a
// small random model at depth 0. The screen and native stages are the fake runner's (speeds are markers), so the
// op-level verdicts are scripted and the end-to-end step is the only real judge.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runAgent } from '../../src/agent/agent.js';
import { createMessagesApi } from '../../src/agent/client.js';
import { e2eGate } from '../../src/agent/e2e-gate.js';
import { e2eStep } from '../../src/agent/real-runner.js';
import { writeRandomLlamaGguf } from '../../src/e2e/random-model.js';
import { readLedger } from '../../src/ledger/ledger.js';
import { fetchedUpstream } from '../../src/upstream/source.js';
import { GOOD_RMS_NORM } from '../fixtures/fake-anthropic/candidates.js';
import { scripted, startFakeAnthropic, TEST_API_KEY, type Block, type FakeAnthropic } from '../fixtures/fake-anthropic/server.js';
import { CLI } from '../helpers/fixtures.js';
import { hasCommand, missing, REQUIRE_ALL } from '../helpers/require.js';
import { fakeRunner } from './fake-runner.js';
import { agentSettings, recordHypotheses, done, submit } from './scripted-run.js';

const WRONG_AT_256 = fileURLToPath(new URL('../fixtures/e2e/rms_norm_wrong_at_256.c', import.meta.url));
const tools = missing('cmake with a C and C++ compiler', hasCommand('cmake') && hasCommand('c++') && hasCommand('cc'));
const fetchAllowed = Boolean(process.env.CI) || REQUIRE_ALL || fetchedUpstream() !== null;
const why = tools || (fetchAllowed ? '' : 'the pinned upstream is not fetched (run `kbench upstream fetch`, or CI=1 to let the tests fetch it)');


describe.skipIf(why)('agent --e2e with the real graft, logits check and llama-bench', { timeout: 3_600_000 }, () => {
  let server: FakeAnthropic | undefined;
  const work = mkdtempSync(join(tmpdir(), 'kbench-e2e-agent-real-'));
  afterAll(async () => {
    await server?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('the wrong-at-256 fixture passes the real op-level check (so only the end-to-end gate can catch it)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'run', 'rms_norm', '-c', WRONG_AT_256, '--check-only', '--json'], { cwd: work, maxBuffer: 1 << 26 });
    expect(stdout).toMatch(/"status": "pass"/);
    expect(stdout).not.toMatch(/"status": "(fail|mismatch|compile-error)/);
  });

  it('discards a wrong candidate the op-level verdict would keep (logits differ), keeps or refuses a correct one by its measured gain, and tells the model', async () => {
    // 2 layers of 256: the logits run in about a second; the hidden size is where the fixture goes wrong
    const model = writeRandomLlamaGguf(join(work, 'small-llama.gguf'), { layers: 2, embd: 256, heads: 4, ff: 768, ctx: 1024 }).path;
    writeFileSync(join(work, 'kbench.config.json'), JSON.stringify({ hosts: [{ name: 'vm1', executor: 'ssh', arch: 'x86_64', threads: 2 }] }));
    server = await startFakeAnthropic(
      scripted({
        research: [recordHypotheses('h1', 'h2', 'h3')],
        // the markers make the scripted op-level verdicts say 1.5× faster on the screen and on vm1
        'experiment-h1': [submit(`${readFileSync(WRONG_AT_256, 'utf8')}\n/* SPEED=1.5 */\n`), done, done],
        'experiment-h2': [submit(`${GOOD_RMS_NORM}\n/* SPEED=1.5 */\n`), done, done],
        'experiment-h3': [done],
      }),
    );
    const log: string[] = [];
    const outcome = await runAgent({
      workDir: work,
      settings: agentSettings({ hosts: ['vm1'], allowLocalNative: true, maxRevisions: 1, e2e: { model, depths: [0], rounds: 3 } }),
      api: createMessagesApi({ apiKey: TEST_API_KEY, baseURL: server.url, maxRetries: 0 }),
      openRunner: (dir) => ({ ...fakeRunner(log), e2e: e2eStep(dir) }),
    });
    expect(outcome.status).toBe('done');
    const events = readLedger(join(outcome.dir, 'ledger.jsonl'));
    const e2e = events.flatMap((e) => (e.type === 'e2e' ? [e.result] : []));
    expect(e2e.map((r) => `${r.candidate}:${r.logits.status}`)).toEqual(['h1-r0:differ', 'h2-r0:agree']);

    // the wrong one: caught by the logits, never timed, discarded with the logits reason; the model heard why
    expect(e2e[0].timing).toBeUndefined();
    const verdicts = new Map(events.flatMap((e) => (e.type === 'verdict' ? [[e.hypothesis, e] as const] : [])));
    expect(verdicts.get('h1')).toMatchObject({ decision: 'discarded', reason: expect.stringMatching(/^end-to-end: logits differ: /) });
    const toldH1 = server.requests.find((r) => r.conversation === 'experiment-h1' && r.turn === 2)!;
    expect(JSON.stringify(toldH1.body.messages.at(-1))).toContain('- logits: differ');

    // the correct one: the logits agree, the graft really ran, pp and tg at depth 0 were timed
    const good = e2e[1];
    expect(good.logits.graftCalls).toBeGreaterThan(0);
    expect(good.timing?.tests.map((t) => t.label)).toEqual(['pp128 @ d0', 'tg32 @ d0']);
    expect(good.shares?.map((s) => s.label)).toEqual(['pp128 @ d0', 'tg32 @ d0']);
    // kept exactly when no test was slower (the gain may well be below the floor on a busy machine: then it says so)
    const gate = e2eGate(good);
    const v2 = verdicts.get('h2')!;
    expect(v2.type === 'verdict' && v2.decision).toBe(gate.pass ? 'kept' : 'discarded');
    expect(v2.type === 'verdict' && v2.reason).toContain(gate.reason);
    // its figures reach the model: as the champion's in the next experiment, or as the refusal it may revise after
    const read = gate.pass
      ? (server.requests.find((r) => r.conversation === 'experiment-h3' && r.turn === 0)!.body.messages[0].content as Block[]).map((b) => String(b.text)).join('\n')
      : JSON.stringify(server.requests.find((r) => r.conversation === 'experiment-h2' && r.turn === 2)!.body.messages.at(-1));
    expect(read).toContain('End-to-end (local: your candidate grafted into ggml');
    expect(read).toContain('- pp128 @ d0: measured ');
    expect(read).toContain('- tg32 @ d0: measured ');
    // host time on this machine, charged per measure
    expect(events.filter((e) => e.type === 'cost' && e.category === 'hosts' && e.host === 'local').map((e) => e.type === 'cost' && e.candidate)).toEqual(['h1-r0', 'h2-r0']);
  });
});
