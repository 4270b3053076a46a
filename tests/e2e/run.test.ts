// The pieces of runE2e that need no llama.cpp build: where the op-level speedup for the prediction comes from (the
// latest native result on this host for the same source with "vs upstream"), and the free candidate the op share is
// measured with. The whole command runs in tests/cli/e2e.test.ts.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunRecorder } from '../../src/ledger/recorder.js';
import { runsDir } from '../../src/ledger/ledger.js';
import type { TargetResult } from '../../src/ledger/records.js';
import { findOpSpeedups, freeCandidateSource } from '../../src/e2e/run.js';
import { BUILTIN_KERNELS_DIR, findKernel } from '../../src/spec/suite.js';
import { tempDir } from '../helpers/fixtures.js';
import { hasCommand } from '../helpers/require.js';

const speed = (shape: string, vs?: number) => ({ shape, ...(vs ? { vsUpstream: { estimate: vs, lo: vs - 0.1, hi: vs + 0.1, level: 0.95, verdict: 'faster' } } : {}) });
const result = (sha: string, target: string, shapes: ReturnType<typeof speed>[]) => ({ kernel: 'rms_norm', candidate: 'vec4', target, sourceSha256: sha, speed: shapes }) as unknown as TargetResult;

function record(work: string, id: string, results: TargetResult[], host = hostname()): void {
  const r = new RunRecorder(join(runsDir(work), id));
  r.start('run', id, { machine: { hostname: host } });
  for (const x of results) r.result(x);
  r.end('done');
}

describe('the op-level speedup behind the prediction', () => {
  it('is the latest local result for the same source with vs upstream, tg from "decode…" and pp from "prefill…"', () => {
    const work = tempDir();
    expect(findOpSpeedups(work, 'rms_norm', 'aa')).toBeNull();
    record(work, '20260101-000000-0001', [result('aa', 'local', [speed('decode 1x4096', 2), speed('prefill 64x4096', 3)])]);
    record(work, '20260101-000000-0002', [result('aa', 'local', [speed('decode 1x4096', 5)]), result('bb', 'local', [speed('decode 1x4096', 9)])]);
    // newer, but without vs upstream, on another host, or recorded on another machine: skipped
    record(work, '20260101-000000-0003', [result('aa', 'local', [speed('decode 1x4096')]), result('aa', 'x86a', [speed('decode 1x4096', 7)])]);
    record(work, '20260101-000000-0004', [result('aa', 'local', [speed('decode 1x4096', 8)])], 'elsewhere');
    const found = findOpSpeedups(work, 'rms_norm', 'aa');
    expect(found?.run).toBe('20260101-000000-0002');
    expect(found?.byKind.tg).toMatchObject({ shape: 'decode 1x4096', speedup: { estimate: 5 } });
    expect(found?.byKind.pp).toBeUndefined();
  });
});

describe.skipIf(!hasCommand('cc'))('the free candidate', () => {
  it('has the spec\'s signature, compiles as C and does nothing', () => {
    const kernel = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm');
    const text = freeCandidateSource(kernel);
    expect(text).toMatch(/void rms_norm\(.*\)\n\{\n.*\n\}\n$/s);
    const dir = tempDir();
    writeFileSync(join(dir, 'free.c'), text);
    execFileSync('cc', ['-std=c11', '-Wall', '-Werror', '-c', join(dir, 'free.c'), '-o', join(dir, 'free.o')]);
  });
});
