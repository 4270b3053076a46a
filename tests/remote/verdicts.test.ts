// Outcome words, promotion survivors, calibration and ssh error messages, on hand-made results.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.js';
import type { TargetResult } from '../../src/ledger/records.js';
import { calibrate } from '../../src/remote/calibrate.js';
import { outcomeOf } from '../../src/remote/outcome.js';
import { wasmRejection } from '../../src/remote/promote.js';
import { describeSshFailure } from '../../src/remote/ssh.js';
import { generateGlue } from '../../src/remote/glue.js';
import { judgeCandidate, resultLineTag } from '../../src/remote/judge.js';
import { BUILTIN_KERNELS_DIR, findKernel } from '../../src/spec/suite.js';
import { targetResult, writeMemoryFloorRun } from '../helpers/results.js';

function result(target: string, candidate: string, speedups: number[], extra: Partial<TargetResult> = {}): TargetResult {
  return targetResult({ target, candidate, toolchain: 't', sourceSha256: candidate, speedups, ...extra });
}

describe('outcomeOf', () => {
  it('puts a host failure first, then a failed check (wrong-native on native hosts), then speed', () => {
    expect(outcomeOf(result('x86a', 'c', [2], { hostFailure: 'lost' }))).toBe('host-failed');
    const wrong = { check: { status: 'out-of-bounds' as const, buffer: 'y', side: 'after' as const, offset: 0, shape: 's', distribution: 'd' } };
    expect(outcomeOf(result('x86a', 'c', [], wrong))).toBe('wrong-native');
    expect(outcomeOf(result('wasm', 'c', [], wrong))).toBe('wrong');
    expect(outcomeOf(result('x86a', 'c', [1.2, 1.0]))).toBe('faster');
    expect(outcomeOf(result('x86a', 'c', [0.8, 1.0]))).toBe('slower');
    expect(outcomeOf(result('x86a', 'c', [1.2, 0.8]))).toBe('mixed');
    expect(outcomeOf(result('x86a', 'c', [1.0, 1.01]))).toBe('no-change');
    const emulated = result('qemu', 'c', [1.5]);
    emulated.speed[0].emulated = true;
    expect(outcomeOf(emulated)).toBe('emulated');
  });
});

describe('promotion survivors', () => {
  it('keeps a WASM pass unless even its best shape is slower than 1 − margin', () => {
    expect(wasmRejection(result('wasm', 'c', [0.8, 0.9]), 0.25)).toBeUndefined();
    expect(wasmRejection(result('wasm', 'c', [0.6, 0.7]), 0.25)).toMatch(/WASM speedup 0\.700 on its best shape is below 0\.75/);
    expect(wasmRejection(result('wasm', 'c', [], { check: { status: 'compile-error', diagnostic: 'x' } }))).toMatch(/failed the WASM check \(compile-error\)/);
  });
});

describe('calibrate', () => {
  it('ranks WASM against native speedups per host and counts native winners the margin would drop', () => {
    const work = mkdtempSync(join(tmpdir(), 'kbench-cal-'));
    const ledger = new Ledger(join(work, '.kbench', 'runs', '20261127-000000-aaaa'));
    const pairs: [string, number, number][] = [['a', 1.1, 1.3], ['b', 1.5, 1.8], ['c', 0.9, 1.0], ['d', 0.6, 1.4], ['e', 2.0, 2.5]];
    for (const [name, wasm, native] of pairs) {
      ledger.append({ type: 'result', at: '', result: result('wasm', name, [wasm]) });
      ledger.append({ type: 'result', at: '', result: result('x86a', name, [native]) });
    }
    ledger.append({ type: 'result', at: '', result: result('x86a', 'lost', [3], { hostFailure: 'lost' }) });
    const c = calibrate(work, 0.25);
    expect(c.runs).toBe(1);
    expect(c.hosts).toHaveLength(1);
    const h = c.hosts[0];
    expect(h).toMatchObject({ host: 'x86a', arch: 'x86_64', candidates: 5, nativeWinners: 4 });
    // ranks a..e: WASM 3,4,2,1,5; native 2,4,1,3,5; Σd² = 6, so ρ = 1 − 6·6/(5·24) = 0.7
    expect(h.spearmanRho).toBeCloseTo(0.7, 10);
    expect(h.rejectedWinners).toEqual([{ kernel: 'k', candidate: 'd', wasmBestSpeedup: 0.6 }]);
    expect(h.suggestedMargin).toBeCloseTo(0.4, 10);
  });
});

describe('ssh failures', () => {
  it('turns the client messages into one line saying what to do', () => {
    expect(describeSshFailure('Host key verification failed.\n', 'x86a', 10)).toMatch(/host key verification failed for 'x86a'/);
    expect(describeSshFailure('root@h: Permission denied (publickey).\n', 'x86a', 10)).toMatch(/login refused by 'x86a'/);
    expect(describeSshFailure('ssh: connect to host h port 22: Connection refused\n', 'x86a', 10)).toMatch(/connection refused by 'x86a'/);
    expect(describeSshFailure('ssh: Could not resolve hostname nope: Name or service not known\n', 'nope', 10)).toMatch(/neither a known host name nor an alias/);
    expect(describeSshFailure('ssh: connect to host h port 22: Connection timed out\n', 'x86a', 7)).toMatch(/within 7 s/);
    expect(describeSshFailure('', 'x86a', 10, true)).toMatch(/connection to 'x86a' lost/);
  });
});

describe('generated glue', () => {
  it('declares each variant with the spec signature and calls it from the argument table', () => {
    const glue = generateGlue(findKernel(BUILTIN_KERNELS_DIR, 'rms_norm').spec);
    expect(glue).toContain('void kb_cand_rms_norm(const float *x, float *y, int n, int rows, float eps, int ith, int nth);');
    expect(glue).toContain('kb_ref_rms_norm(a[0].p, a[1].p, a[2].i, a[3].i, a[4].f, ith, nth);');
    expect(glue).toContain('{"x", KB_IN, 4},');
    expect(glue).toContain('const int KB_THREADED = 1;');
  });
});

describe('calibrate among winners and across sessions', () => {
  it('ranks the native winners on their own, per kernel, and flags a session whose WASM figures moved', () => {
    const work = mkdtempSync(join(tmpdir(), 'kbench-cal-'));
    const first = new Ledger(join(work, '.kbench', 'runs', '20261127-000000-aaaa'));
    // pooled, WASM and native agree on direction; among the winners (native > 1.5×) WASM ranks them backwards
    const pairs: [string, number, number][] = [['slow', 0.5, 0.6], ['same', 1.0, 1.0], ['w1', 3.0, 1.6], ['w2', 2.5, 2.0], ['w3', 2.0, 3.0]];
    for (const [name, wasm, native] of pairs) {
      first.append({ type: 'result', at: '', result: result('wasm', name, [wasm]) });
      first.append({ type: 'result', at: '', result: result('x86a', name, [native]) });
    }
    const h = calibrate(work, 0.25).hosts[0];
    expect(h.spearmanRho).toBeGreaterThan(0.5);
    expect(h.winnersRho).toBeCloseTo(-1, 10);
    // no timings to fit a memory floor from: the predictions are the WASM speedups
    expect(h.memoryFloor).toBeUndefined();
    expect(h.kernels).toEqual([{ kernel: 'k', points: 5, spearmanRho: h.spearmanRho, winnerPoints: 3, winnersRho: h.winnersRho, predictedRho: h.spearmanRho, predictedWinnersRho: h.winnersRho }]);
    // a later session screens w3's same source at half the speedup, and rejects a native winner
    const second = new Ledger(join(work, '.kbench', 'runs', '20261128-000000-bbbb'));
    second.append({ type: 'result', at: '', result: result('wasm', 'w3', [1.0]) });
    second.append({ type: 'result', at: '', result: result('wasm', 'w1', [0.6]) });
    const c = calibrate(work, 0.25);
    expect(c.sessions.map((s) => s.run)).toEqual(['20261127-000000-aaaa', '20261128-000000-bbbb']);
    expect(c.sessions[0]).toMatchObject({ falseRejects: [], disagreements: [] });
    expect(c.sessions[1].falseRejects).toEqual([{ kernel: 'k', candidate: 'w1', wasmBestSpeedup: 0.6 }]);
    expect(c.sessions[1].disagreements).toEqual([
      { kernel: 'k', candidate: 'w3', shape: 's0', speedup: 1.0, earlierRun: '20261127-000000-aaaa', earlierSpeedup: 2.0 },
      { kernel: 'k', candidate: 'w1', shape: 's0', speedup: 0.6, earlierRun: '20261127-000000-aaaa', earlierSpeedup: 3.0 },
    ]);
  });
});

describe('calibrate with the memory floor', () => {
  it('fits the host floor from the native timings and ranks winners past it below the compute-bound ones', () => {
    const work = mkdtempSync(join(tmpdir(), 'kbench-cal-'));
    writeMemoryFloorRun(work);
    const h = calibrate(work, 0.25).hosts[0];
    // k: the low quantile of native / read (2); c: the median WASM / native of the points within 1.5·k of the floor
    expect(h.memoryFloor).toEqual({ streamFactor: 2, floorRatio: 1.5, observations: 12 });
    const point = (candidate: string, shape: string) => h.points.find((p) => p.candidate === candidate && p.shape === shape)!;
    // prefill's floor in WASM units is 1.5 · 2 · 1000 ns: s10's 1800 ns rise to it, s4's 4500 ns stay
    expect(point('s10', 'prefill')).toMatchObject({ wasmSpeedup: 10, nativeSpeedup: 4.5 });
    expect(point('s10', 'prefill').predictedSpeedup).toBeCloseTo(6, 10);
    expect(point('s4', 'prefill').predictedSpeedup).toBeCloseTo(4, 10);
    expect(point('s10', 'decode').predictedSpeedup).toBeCloseTo(10, 10);
    expect(h.predicted.winnersRho).toBeGreaterThan(h.winnersRho + 0.05);
    expect(h.kernels[0].predictedWinnersRho).toBe(h.predicted.winnersRho);
  });

  it('predicts the same speedup for candidates on the same floor, whatever the noise of their own baseline pairings', () => {
    const work = mkdtempSync(join(tmpdir(), 'kbench-cal-'));
    // s8's pairings caught the baseline 5% slow, s10's 5% fast; both candidates lie past prefill's floor (3000 ns)
    writeMemoryFloorRun(work, 'cc', (s) => (s === 8 ? 1.05 : s === 10 ? 0.95 : 1));
    const h = calibrate(work, 0.25).hosts[0];
    const predicted = (candidate: string) => h.points.find((p) => p.candidate === candidate && p.shape === 'prefill')!.predictedSpeedup;
    // the session's median baseline (18000 ns) over the floor, for both: not 18900 / 3000 for s8 above s10's 17100 / 3000
    expect(predicted('s8')).toBeCloseTo(6, 10);
    expect(predicted('s10')).toBeCloseTo(6, 10);
  });
});

describe('the native result channel', () => {
  const kernel = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm');
  const nonce = 'feedc0dedeadbeef';
  const opts = { noiseFloor: 0.02, seed: 1, emulated: false, candidateTimeoutS: 10, nonce };
  // as the driver writes them: the fields, then seq and the HMAC of the text before it keyed with the nonce
  const sign = (text: string, key = nonce) => `${text},"mac":"${resultLineTag(key, text)}"}`;
  const line = (fields: object, seq: number, key = nonce) => sign(JSON.stringify({ ...fields, seq }).slice(0, -1), key);
  const start = line({ event: 'start', cpus: 2 }, 0);

  function judged(lines: string[], stdout = ''): ReturnType<typeof judgeCandidate> {
    const dir = mkdtempSync(join(tmpdir(), 'kbench-channel-'));
    writeFileSync(join(dir, 'status'), 'exit 0\n');
    writeFileSync(join(dir, 'results.jsonl'), lines.map((l) => `${l}\n`).join(''));
    writeFileSync(join(dir, 'stdout.txt'), stdout);
    return judgeCandidate(kernel, [], dir, opts);
  }
  const message = (j: ReturnType<typeof judgeCandidate>) => (j.check as { message: string }).message;

  it('believes lines tagged with the run nonce, in sequence', () => {
    expect(judged([start, line({ event: 'done', pinned: false }, 1)]).check).toEqual({ status: 'pass', calls: 0 });
  });

  it('fails a line without a valid tag, with what the candidate printed', () => {
    const forged = line({ event: 'time', id: 0 }, 1, 'guessed');
    const j = judged([start, forged, line({ event: 'done', pinned: false }, 2)], 'hello from the candidate');
    expect(j.check.status).toBe('trap');
    expect(message(j)).toMatch(/^result channel: line 2 of the result channel does not carry this run's nonce tag.*the candidate printed: hello from the candidate/s);
    expect(j.harnessError).toBeUndefined();
    expect(message(judged([start, '{"event":"done","pinned":false,"seq":1}']))).toMatch(/line 2 .* does not carry this run's nonce tag/);
  });

  it('fails a tagged line that is not JSON', () => {
    expect(message(judged([start, sign('{"event":"time",,"seq":1')]))).toMatch(/^result channel: line 2 of the result channel is not JSON/);
  });

  it('fails a line replayed from the file (out of sequence) and a second time event for a case', () => {
    const time = (seq: number) => line({ event: 'time', id: 3, nth: 1, callsPerSample: 2, baselineNs: [1], candidateNs: [1] }, seq);
    expect(message(judged([start, time(1), time(1)]))).toMatch(/line 3 of the result channel is out of sequence \(seq 1 where 2 was due/);
    expect(message(judged([start, time(1), time(2), line({ event: 'done', pinned: false }, 3)]))).toMatch(/a second 'time' event for case 3/);
  });
});

describe('calibrate per screen model', () => {
  it('ranks each WASM screen model (from the toolchain string) against the host on its own, and does not call two models of one source a disagreement', () => {
    const work = mkdtempSync(join(tmpdir(), 'kbench-cal-'));
    const ledger = new Ledger(join(work, '.kbench', 'runs', '20261130-000000-aaaa'));
    const avx2 = { toolchain: '@yowasp/clang 22.1.0 (npm, runs in WASM); screen avx2 (8 lanes, FMA, AVX2 intrinsics)' };
    // w3's AVX2 code needed an intrinsic the headers lack: same model, counted as a plain build
    const plain = { toolchain: `${avx2.toolchain}; plain build without AVX2 intrinsics: w3.c:4:5: error: call to undeclared function '_mm256_i32gather_ps'` };
    // the 4-lane screen (recorded before models were: no label) ranks the winners backwards, the avx2 model in order
    const points: [string, number, number, number][] = [['w1', 3.0, 1.6, 1.7], ['w2', 2.5, 2.0, 2.2], ['w3', 2.0, 2.4, 3.0]];
    for (const [name, legacy, model, native] of points) {
      ledger.append({ type: 'result', at: '', result: result('wasm', name, [legacy]) });
      ledger.append({ type: 'result', at: '', result: result('wasm', name, [model], name === 'w3' ? plain : avx2) });
      ledger.append({ type: 'result', at: '', result: result('x86a', name, [native]) });
    }
    const c = calibrate(work, 0.25);
    expect(c.hosts.map((h) => [h.host, h.screen, h.candidates, h.plainBuilds, h.winnersRho])).toEqual([
      ['x86a', 'screen avx2 (8 lanes, FMA, AVX2 intrinsics)', 3, 1, 1],
      ['x86a', 'screen wasm (4 lanes, no FMA)', 3, 0, -1],
    ]);
    expect(c.sessions[0].disagreements).toEqual([]);
  });
});
