import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { createRng } from '../../src/rng.js';
import { LocalExecutor } from '../../src/remote/local.js';
import { parseLoadProbe, LOAD_PROBE } from '../../src/remote/load.js';
import { checkLlamaBenchArgs, expectedTests, parseLlamaBenchJson, runLlamaBench, type LlamaBenchArgs, type LlamaBenchTest } from '../../src/e2e/llama-bench.js';
import { describeE2eVerdict, e2eStability, roundOrders, summarizeE2eRounds, timeE2e, type E2eRound } from '../../src/e2e/timing.js';

const fixtures = resolve('tests/fixtures/e2e');
const dir = mkdtempSync(join(tmpdir(), 'kbench-e2e-timing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const executor = new LocalExecutor({ name: 'local', executor: 'local', arch: 'x86_64', marchNative: false, usdPerHour: 0, sshOptions: [], remoteDir: '/tmp', connectTimeoutS: 10 });

/** An executable standing in for llama-bench: a shell script body. */
function fakeBinary(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}
const scaledBench = (name: string, scale: number) => fakeBinary(name, `exec node ${join(fixtures, 'fake-llama-bench.mjs')} --scale ${scale} "$@"`);

const ARGS: LlamaBenchArgs = { model: '/models/m.gguf', threads: 1, prompt: 64, gen: 16, depths: [0, 4096], flashAttn: 'off' };

describe('llama-bench JSON', () => {
  it('reads a real llama-bench -o json output into pp and tg tests per depth', () => {
    const parsed = parseLlamaBenchJson(readFileSync(join(fixtures, 'llama-bench-de3ff815.json'), 'utf8'));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.tests.map((t) => t.label)).toEqual(['pp64 @ d0', 'tg16 @ d0', 'pp64 @ d512', 'tg16 @ d512']);
    for (const t of parsed.tests) {
      expect(t.ns).toBeGreaterThan(0);
      // avg_ts is tokens per second of the one repetition
      expect((t.tokens * 1e9) / t.ns).toBeCloseTo(t.tokensPerS, 0);
    }
  });

  it('turns garbage into a reason instead of throwing', () => {
    expect(parseLlamaBenchJson('')).toEqual({ ok: false, reason: 'printed no JSON array (no output)' });
    expect(parseLlamaBenchJson('[ {"n_prompt": 1, ')).toMatchObject({ ok: false, reason: expect.stringMatching(/printed no JSON array|does not parse/) });
    expect(parseLlamaBenchJson('[{"n_prompt": 1, "n_gen": 2 ]')).toMatchObject({ ok: false, reason: expect.stringMatching(/does not parse/) });
    expect(parseLlamaBenchJson('[]')).toEqual({ ok: false, reason: 'printed an empty test list' });
    expect(parseLlamaBenchJson('[{"n_prompt": 8, "n_gen": 8, "avg_ns": 1, "avg_ts": 1}]')).toMatchObject({ ok: false, reason: expect.stringMatching(/neither a prompt nor a generation/) });
    expect(parseLlamaBenchJson('[{"n_prompt": 8, "n_gen": 0, "n_depth": 0, "avg_ns": "fast", "avg_ts": 1}]')).toMatchObject({ ok: false, reason: expect.stringMatching(/avg_ns/) });
  });

  it('refuses arguments that cannot make a test, naming the field', () => {
    expect(checkLlamaBenchArgs(ARGS)).toBe(ARGS);
    expect(() => checkLlamaBenchArgs({ ...ARGS, threads: 0 })).toThrow(/^llama-bench threads: must be a whole number ≥ 1, got 0$/);
    expect(() => checkLlamaBenchArgs({ ...ARGS, prompt: 0, gen: 0 })).toThrow(/no test to run/);
    expect(() => checkLlamaBenchArgs({ ...ARGS, depths: [] })).toThrow(UsageError);
    expect(() => checkLlamaBenchArgs({ ...ARGS, depths: [-1] })).toThrow(/depths/);
    expect(() => checkLlamaBenchArgs({ ...ARGS, flashAttn: 'maybe' as 'on' })).toThrow(/flashAttn/);
  });

  it('expects pp then tg at each depth', () => {
    expect(expectedTests(ARGS)).toEqual(['pp64 @ d0', 'tg16 @ d0', 'pp64 @ d4096', 'tg16 @ d4096']);
    expect(expectedTests({ ...ARGS, prompt: 0 })).toEqual(['tg16 @ d0', 'tg16 @ d4096']);
  });
});

describe('running a llama-bench that misbehaves', () => {
  it('reports a crash, a failure with its stderr, garbage, a missing test and a missing binary as reasons', async () => {
    const run = (binary: string) => runLlamaBench(executor, binary, ARGS, { timeoutMs: 30_000 });
    expect(await run(fakeBinary('segv', 'kill -SEGV $$'))).toMatchObject({ ok: false, reason: expect.stringMatching(/^was killed by SIGSEGV/) });
    expect(await run(fakeBinary('fails', 'echo "llama_model_load: error loading model: tensor data is not within the file bounds" >&2; exit 1'))).toEqual({
      ok: false,
      reason: 'exited with status 1: llama_model_load: error loading model: tensor data is not within the file bounds',
    });
    expect(await run(fakeBinary('garbage', 'echo "| model | size |"'))).toMatchObject({ ok: false, reason: expect.stringContaining('printed no JSON array: "| model | size |"') });
    expect(await run(scaledBench('fake', 1))).toMatchObject({ ok: true });
    expect(await runLlamaBench(executor, join(dir, 'fake'), { ...ARGS, depths: [0] }, { timeoutMs: 30_000 })).toMatchObject({ ok: true });
    const onlyPp = fakeBinary('only-pp', `exec node ${join(fixtures, 'fake-llama-bench.mjs')} -n 0 "$@"`);
    expect(await run(onlyPp)).toMatchObject({ ok: false, reason: 'reported no tg16 @ d0, tg16 @ d4096 test (it reported pp64 @ d0, pp64 @ d4096)' });
    expect(await run(join(dir, 'no-such-binary'))).toMatchObject({ ok: false, reason: expect.stringMatching(/^exited with status 127/) });
  });

  it('reports a hang as a timeout', async () => {
    const outcome = await runLlamaBench(executor, fakeBinary('hangs', 'sleep 30'), ARGS, { timeoutMs: 500 });
    expect(outcome).toMatchObject({ ok: false, reason: expect.stringMatching(/timed out after/) });
  });
});

describe('timing two llama-bench binaries', () => {
  it('finds a 2× faster graft faster on every test, with the CI excluding 1', async () => {
    const timing = await timeE2e({ executor, reference: scaledBench('ref', 1), graft: scaledBench('graft-2x', 0.5), bench: ARGS, rounds: 4, seed: 3 });
    expect(timing.status).toBe('timed');
    expect(timing.rounds).toHaveLength(4);
    expect(timing.tests.map((t) => t.label)).toEqual(expectedTests(ARGS));
    for (const t of timing.tests) {
      expect(t.verdict).toBe('faster');
      expect(t.ratio.lo).toBeGreaterThan(1);
      expect(t.ratio.estimate).toBeCloseTo(2, 3);
      expect(t.graftTokensPerS / t.referenceTokensPerS).toBeCloseTo(2, 3);
      expect(t.summary).toMatch(/^faster: \+100\.0% tokens\/s/);
    }
    expect(timing.load.start?.cpus).toBeGreaterThan(0);
  });

  it('refuses zero rounds before running anything', async () => {
    await expect(timeE2e({ executor, reference: 'x', graft: 'y', bench: ARGS, rounds: 0 })).rejects.toThrow(/^e2e rounds: must be a whole number ≥ 1, got 0$/);
  });

  it('ends with a failed status naming the binary when the graft crashes', async () => {
    const graft = fakeBinary('graft-abort', 'echo "GGML_ASSERT(ok) failed" >&2; kill -ABRT $$');
    const timing = await timeE2e({ executor, reference: scaledBench('ref', 1), graft, bench: ARGS, rounds: 3 });
    expect(timing.status).toBe('failed');
    expect(timing.reason?.startsWith(`the graft llama-bench (${graft}) was killed by SIGABRT: GGML_ASSERT(ok) failed`)).toBe(true);
    expect(timing.tests).toEqual([]);
  });
});

function fakeRounds(rounds: number, graftSpeedup: number, seed: number, sigma = 0.03): E2eRound[] {
  const rng = createRng(seed);
  const test = (label: string, ns: number): LlamaBenchTest => ({ kind: label.startsWith('pp') ? 'pp' : 'tg', label, tokens: 32, depth: 0, ns, tokensPerS: 32e9 / ns });
  return roundOrders(rounds, seed).map((order) => ({
    order,
    reference: [test('pp32 @ d0', 1e7 * Math.exp(sigma * rng.normal())), test('tg32 @ d0', 1e8 * Math.exp(sigma * rng.normal()))],
    graft: [test('pp32 @ d0', (1e7 / graftSpeedup) * Math.exp(sigma * rng.normal())), test('tg32 @ d0', (1e8 / graftSpeedup) * Math.exp(sigma * rng.normal()))],
  }));
}

describe('e2e statistics', () => {
  it('alternates the order at random from the seed', () => {
    const orders = roundOrders(40, 5);
    expect(roundOrders(40, 5)).toEqual(orders);
    expect(orders.every((o) => [...o].sort().join() === 'graft,reference')).toBe(true);
    const graftFirst = orders.filter((o) => o[0] === 'graft').length;
    expect(graftFirst).toBeGreaterThan(10);
    expect(graftFirst).toBeLessThan(30);
  });

  it('calls A/A rounds (both sides one distribution) no-change, across seeds', () => {
    for (let seed = 1; seed <= 20; seed++)
      for (const t of summarizeE2eRounds(fakeRounds(15, 1, seed), { seed, noiseFloor: 0.02 })) expect(t.verdict).toBe('no-change');
  });

  it('calls a 2× graft faster and a 2× slower one slower, CIs excluding 1', () => {
    const [pp, tg] = summarizeE2eRounds(fakeRounds(10, 2, 9), { seed: 1, noiseFloor: 0.02 });
    expect(pp.verdict).toBe('faster');
    expect(pp.ratio.lo).toBeGreaterThan(1.5);
    expect(tg.ratio.estimate).toBeCloseTo(2, 0);
    const [slow] = summarizeE2eRounds(fakeRounds(10, 0.5, 9), { seed: 1, noiseFloor: 0.02 });
    expect(slow.verdict).toBe('slower');
    expect(slow.ratio.hi).toBeLessThan(1);
  });

  it('says plainly when a gain is below the noise floor, and when the CI is too wide to tell', () => {
    const ci = (estimate: number, lo: number, hi: number) => ({ estimate, lo, hi, level: 0.95 });
    expect(describeE2eVerdict(ci(1.012, 1.005, 1.018), 'no-change', 0.02)).toBe('no change: +1.2% tokens/s (95% CI +0.5% … +1.8%) lies within the ±2% noise floor');
    expect(describeE2eVerdict(ci(1.03, 0.99, 1.08), 'no-change', 0.02)).toMatch(/^inconclusive: \+3\.0% tokens\/s .* add rounds/);
    expect(describeE2eVerdict(ci(0.9, 0.85, 0.95), 'slower', 0.02)).toBe('slower: −10.0% tokens/s (95% CI −15.0% … −5.0%)');
  });

  it('marks a run unstable for a busy machine, a wide CI or a drifting reference', () => {
    const quiet = { at: '', loadAvg1: 0.1, cpus: 2 };
    const steady = summarizeE2eRounds(fakeRounds(9, 1, 2, 0.01), { seed: 1, noiseFloor: 0.02 });
    expect(e2eStability(steady, { start: quiet, end: quiet })).toEqual({ status: 'stable', reasons: [] });
    expect(e2eStability(steady, { start: { ...quiet, loadAvg1: 3 }, end: quiet }).reasons).toEqual([expect.stringMatching(/busy when the run started/)]);
    const noisy = summarizeE2eRounds(fakeRounds(6, 1, 2, 0.4), { seed: 1, noiseFloor: 0.02 });
    expect(e2eStability(noisy, {}).reasons.some((r) => /the samples disagree/.test(r))).toBe(true);
    const drifting = fakeRounds(9, 1, 2, 0.01).map((r, i) => (i >= 6 ? { ...r, reference: r.reference.map((t) => ({ ...t, ns: t.ns * 1.3 })), graft: r.graft.map((t) => ({ ...t, ns: t.ns * 1.3 })) } : r));
    const reasons = e2eStability(summarizeE2eRounds(drifting, { seed: 1, noiseFloor: 0.02 }), {}).reasons;
    expect(reasons).toContainEqual(expect.stringMatching(/^the baseline took .* on pp32 @ d0 \(reference, rounds 7–9\)/));
  });

  it('reads a host load probe, here through the same executor', async () => {
    const snapshot = parseLoadProbe((await executor.exec(LOAD_PROBE, { timeoutMs: 10_000 })).stdout);
    expect(snapshot?.cpus).toBeGreaterThan(0);
    expect(snapshot?.totalTicks).toBeGreaterThan(0);
    expect(parseLoadProbe('sh: cat: not found')).toBeUndefined();
  });
});
