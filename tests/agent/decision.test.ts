import { describe, expect, it } from 'vitest';
import { decide, pooledMeanSpeedup, screenFeedback, screenOutcome, trimDiagnostic } from '../../src/agent/decision.js';
import type { TargetResult } from '../../src/ledger/records.js';
import type { SpeedVerdict } from '../../src/measure/types.js';
import { speedResult, targetResult } from '../helpers/results.js';

function target(name: string, verdicts: [number, SpeedVerdict][], extra: Partial<TargetResult> = {}): TargetResult {
  const speed = verdicts.map(([x, verdict], i) => speedResult(x, i, { verdict, speedup: { estimate: x, lo: x - 0.1, hi: x + 0.1, level: 0.95 } }));
  return targetResult({ target: name, arch: 'x86_64', sourceSha256: '', speed, ...extra });
}

describe('keep or discard', () => {
  it('keeps a candidate faster somewhere and slower nowhere', () => {
    const d = decide([target('x86', [[1.5, 'faster'], [1.0, 'no-change']]), target('arm', [[1.2, 'faster']])]);
    expect(d.decision).toBe('kept');
    expect(d.reason).toBe('faster on x86 s0, arm s0, slower nowhere');
    expect(d.speedup).toBeCloseTo(Math.cbrt(1.5 * 1.0 * 1.2), 12);
  });

  it('discards a candidate slower on any shape of any host', () => {
    expect(decide([target('x86', [[2, 'faster']]), target('arm', [[0.8, 'slower']])])).toMatchObject({ decision: 'discarded', reason: 'slower on arm s0' });
  });

  it('discards a candidate that is only within the noise', () => {
    expect(decide([target('x86', [[1.01, 'no-change']])]).decision).toBe('discarded');
  });

  it('discards a candidate that fails the check natively', () => {
    const wrong = target('arm', [], { check: { status: 'wrong', buffer: 'y', index: 3, got: 1, expected: 2, nmse: 0.5, reason: 'r', shape: 'n=17', distribution: 'normal' } });
    expect(decide([target('x86', [[2, 'faster']]), wrong]).reason).toMatch(/^arm: wrong: y\[3\]/);
  });

  it('judges on the hosts that answered and says which did not', () => {
    const lost = target('arm', [], { hostFailure: 'ssh: connection refused' });
    expect(decide([target('x86', [[2, 'faster']]), lost]).reason).toBe('faster on x86 s0, slower nowhere (not judged on arm)');
    expect(decide([lost])).toMatchObject({ decision: 'failed', reason: 'no target could judge it (arm: ssh: connection refused)' });
  });

  it('counts a harness-error as not judged, never as a failed candidate', () => {
    const broken = target('arm', [], { check: { status: 'harness-error', message: 'the sandbox host could not be reached' } });
    expect(decide([target('x86', [[2, 'faster']]), broken]).reason).toBe('faster on x86 s0, slower nowhere (not judged on arm)');
    expect(decide([broken])).toMatchObject({ decision: 'failed' });
    const wasm = { ...broken, target: 'wasm' };
    expect(screenOutcome(wasm)).toBe('host-failure');
    expect(screenFeedback(wasm, 1)).toMatch(/^The screen itself failed \(not a verdict on your code\): kbench failed: the sandbox host/);
  });

  it('takes no speed evidence from emulated or implausible timings', () => {
    const qemu = target('qemu', [[3, 'faster']]);
    qemu.speed[0].emulated = true;
    const light = target('x86', [[50, 'faster']]);
    light.speed[0].suspect = 'faster than memory bandwidth allows';
    expect(decide([qemu, light])).toMatchObject({ decision: 'discarded', reason: 'no change beyond the noise floor' });
  });

  it('tells the model how close it came to the speed of light, and does not promote a suspect timing', () => {
    const r = target('wasm', [[2, 'faster']]);
    r.speed[0] = { ...r.speed[0], candidateMedianNs: 1000, speedOfLight: { footprintBytes: 32768, readNs: 600, peakGflops: 30 } };
    expect(screenFeedback(r, 1)).toContain('candidate 1.00 µs, 60% of the measured speed of light)');
    r.speed[0].suspect = '0.1 µs per call is over 3× faster than reading its 32.0 KiB of buffers once';
    expect(screenOutcome(r)).toBe('suspect');
    expect(screenFeedback(r, 1)).toMatch(/^check passed, but not promoted \(its WASM timing on s0 is past the speed of light: 0\.1 µs/);
  });

  it('lets a passing candidate survive the screen unless even its best shape is clearly slower', () => {
    expect(screenOutcome(target('wasm', [[0.6, 'slower'], [0.7, 'slower']]))).toBe('slower');
    expect(screenOutcome(target('wasm', [[0.8, 'slower'], [0.9, 'slower']]))).toBe('survivor');
    expect(screenOutcome(target('wasm', [[2, 'faster']], { check: { status: 'compile-error', diagnostic: 'x' } }))).toBe('failed');
    expect(pooledMeanSpeedup([target('wasm', [])])).toBeUndefined();
  });
});

describe('what the model reads', () => {
  it("hears when a shape's WASM time is past a calibrated host's memory floor, and what that host can still gain there", () => {
    const r = target('wasm', [[3, 'faster'], [5, 'faster']]);
    r.speed[0] = { ...r.speed[0], shape: 'prefill', candidateMedianNs: 90_000 };
    r.speed[1] = { ...r.speed[1], shape: 'decode', candidateMedianNs: 700 };
    const floors = {
      host: 'local',
      memoryFloor: { streamFactor: 2.4, floorRatio: 1.5, observations: 40 },
      shapes: [
        { kernel: 'k', shape: 'prefill', capSpeedup: 2.84, floorWasmNs: 110_000 },
        { kernel: 'k', shape: 'decode', capSpeedup: 20, floorWasmNs: 650 },
      ],
    };
    const lines = screenFeedback(r, 1, undefined, floors).split('\n');
    expect(lines.find((l) => l.startsWith('- prefill'))).toContain("past local's memory floor: natively this shape gains ≈ 2.8× over the baseline at most");
    expect(lines.find((l) => l.startsWith('- decode'))).not.toContain('memory floor');
    expect(screenFeedback(r, 1)).not.toContain('memory floor');
  });

  it('hears that a register-bound candidate spills in WASM where natively it fits, once, and not for other candidates', () => {
    const registerBound = { liveValues: 24, baselineLiveValues: 4, allocatable: 15, nativeValues: 12, nativeRegisters: 16, registerName: 'ymm' };
    const bound = screenFeedback(target('wasm', [[1.4, 'faster'], [0.95, 'no-change']], { registerBound }), 1);
    const lines = bound.split('\n').filter((l) => l.includes('Register-bound'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('keeps 24 vector values live (the code it was timed against: 4), more than the 15 registers');
    expect(lines[0]).toContain('natively they are 12 of the 16 ymm registers');
    expect(lines[0]).toContain('do not discard register blocking on this figure alone');
    expect(bound.endsWith('You may revise 1 more time(s).')).toBe(true);
    expect(screenFeedback(target('wasm', [[1.4, 'faster']]), 1)).not.toContain('Register-bound');
    // a build that failed its check has no WASM figure to qualify
    expect(screenFeedback(target('wasm', [], { registerBound, check: { status: 'trap', message: 'x' } }), 1)).not.toContain('Register-bound');
  });

  it('gets speedups with their confidence intervals', () => {
    const text = screenFeedback(target('wasm', [[1.25, 'faster']]), 1);
    expect(text).toContain('- s0: speedup 1.250× [1.150, 1.350] 95% CI → faster');
    expect(text).toContain('You may revise 1 more time(s).');
  });

  it('gets compiler output without local paths, long lines or endless errors', () => {
    const raw = [
      '/tmp/kbench-x1/build/cand.c:3:5: error: use of undeclared identifier',
      `emcc: error: '/usr/bin/clang ${'-flag '.repeat(200)}'`,
      ...Array.from({ length: 100 }, (_, i) => `note ${i}`),
    ].join('\n');
    const out = trimDiagnostic(raw);
    expect(out.split('\n')[0]).toBe('cand.c:3:5: error: use of undeclared identifier');
    expect(out.split('\n')[1].length).toBeLessThanOrEqual(301);
    expect(out).toMatch(/… \(102 lines in all, cut\)$/);
    expect(out.split('\n')).toHaveLength(41);
  });
});
