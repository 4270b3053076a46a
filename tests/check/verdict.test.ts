// describeVerdict says only what is known: a native or timed-call failure carries no element values (NaN, null once
// saved as JSON), and reports built from a saved ledger must not crash on them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeVerdict, thrownVerdict, type CheckVerdict } from '../../src/check/verdict.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { LEDGER_SCHEMA, type TargetResult } from '../../src/ledger/records.js';
import { writeRunReports } from '../../src/report/index.js';
import { FIXTURES, tempDir } from '../helpers/fixtures.js';
import type { SpeedResult } from '../../src/measure/types.js';
import { formatSpeedup, throughputNote } from '../../src/cli/format.js';

const roundTrip = (v: CheckVerdict): CheckVerdict => JSON.parse(JSON.stringify(v));

const timedNative: CheckVerdict = {
  status: 'wrong', buffer: 'y', index: -1, got: NaN, expected: NaN, nmse: NaN,
  reason: 'output of a timed call differs from the checked call', shape: 'decode 1x4096', distribution: 'uniform', phase: 'timed',
};

describe('describeVerdict', () => {
  it('a failure without element values names the buffer and the reason, before and after JSON', () => {
    for (const v of [timedNative, roundTrip(timedNative)])
      expect(describeVerdict(v)).toBe('wrong: y; output of a timed call differs from the checked call at decode 1x4096, uniform (timed call)');
  });

  it('an NMSE failure shows the NMSE but no element', () => {
    const v: CheckVerdict = { status: 'wrong', buffer: 'y', index: -1, got: NaN, expected: NaN, nmse: 0.5, reason: 'NMSE 5.00e-1 > 1e-7', shape: 's', distribution: 'd' };
    for (const w of [v, roundTrip(v)]) expect(describeVerdict(w)).toBe('wrong: y, nmse 5.00e-1; NMSE 5.00e-1 > 1e-7 at s, d');
  });

  it('an element mismatch keeps its values, and a NaN output stays visible after JSON', () => {
    const v: CheckVerdict = { status: 'wrong', buffer: 'y', index: 16, got: 0, expected: 1.25, nmse: 0.0588, reason: 'too far', shape: 'n=17 rows=1', distribution: 'uniform' };
    expect(describeVerdict(roundTrip(v))).toBe('wrong: y[16] = 0 (expected 1.25), nmse 5.88e-2; too far at n=17 rows=1, uniform');
    const nan: CheckVerdict = { ...v, got: NaN, nmse: NaN, reason: 'NaN where the reference is a number' };
    expect(describeVerdict(nan)).toMatch(/^wrong: y\[16\] = NaN \(expected 1\.25\); NaN where/);
    expect(describeVerdict(roundTrip(nan))).toMatch(/^wrong: y\[16\] = NaN or inf \(expected 1\.25\); NaN where/);
  });

  it('a native run whose ledger holds such a verdict still gets its reports', () => {
    const dir = join(tempDir(), 'run');
    const ledger = new Ledger(dir);
    ledger.append({ type: 'run-start', schema: LEDGER_SCHEMA, kind: 'run', id: 'r', at: new Date().toISOString() });
    const result: TargetResult = {
      kernel: 'rms_norm', candidate: 'cheat', target: 'local', arch: 'x86_64', toolchain: 'cc', sourceSha256: 'a'.repeat(64),
      check: timedNative, speed: [], elapsedMs: 10,
    };
    ledger.append({ type: 'result', at: new Date().toISOString(), result });
    ledger.append({ type: 'run-end', at: new Date().toISOString(), status: 'done' });
    const { markdownPath } = writeRunReports(dir);
    const md = readFileSync(markdownPath, 'utf8');
    expect(md).toContain('wrong: y; output of a timed call differs');
    expect(md).not.toMatch(/y\[-1\]|expected NaN/);
  });

  it('timings whose numbers were lost (NaN, saved as null) render as – in reports and tables', () => {
    const fixture = readFileSync(join(FIXTURES, 'ledgers', 'screen-rms_norm', 'ledger.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const timed = fixture.find((e) => e.type === 'result' && e.result.speed.length).result as TargetResult;
    const speed = { ...timed.speed[0], gbps: null, gflops: null, speedup: { ...timed.speed[0].speedup, lo: null } } as unknown as SpeedResult;
    const dir = join(tempDir(), 'run');
    const ledger = new Ledger(dir);
    ledger.append({ type: 'run-start', schema: LEDGER_SCHEMA, kind: 'run', id: 'r', at: new Date().toISOString() });
    ledger.append({ type: 'result', at: new Date().toISOString(), result: { ...timed, speed: [speed] } });
    const md = readFileSync(writeRunReports(dir).markdownPath, 'utf8');
    expect(md).toMatch(/\[–, \d\.\d\d\]/);
    expect(throughputNote(speed)).toMatch(/^– GB\/s/);
    expect(formatSpeedup(speed.speedup)).toMatch(/× \[–, \d/);
  });
});

// (module (func (export "f") (call 0))) and (module (func (export "f") unreachable))
const wasmFunction = (body: number[]) =>
  new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 7, 5, 1, 1, 0x66, 0, 0, 10, body.length + 2, 1, body.length, ...body])))
    .exports.f as () => void;
const thrown = (f: () => void): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
};

describe('thrownVerdict: whose exception it was', () => {
  const where = { shape: 'n=1', distribution: 'uniform' };
  it("what the candidate's WASM raises is its trap: a trap instruction, a stack overflow", () => {
    expect(thrownVerdict(thrown(wasmFunction([0, 0x00, 0x0b])), where)).toEqual({ status: 'trap', message: 'unreachable', ...where });
    expect(thrownVerdict(thrown(wasmFunction([0, 0x10, 0, 0x0b])), where)).toEqual({ status: 'trap', message: 'RangeError: Maximum call stack size exceeded', ...where });
  });

  it("anything else is kbench's own failure, reported as such with where it was thrown", () => {
    const v = thrownVerdict(thrown(() => (null as unknown as { x: number }).x), where, 'candidate: ');
    expect(v.status).toBe('harness-error');
    expect(describeVerdict(v)).toMatch(/^harness-error \(kbench's fault, the candidate was not judged\): candidate: TypeError: Cannot read properties of null .*verdict\.test\.ts/);
    expect(thrownVerdict(new RangeError('Invalid array length')).status).toBe('harness-error');
  });
});
