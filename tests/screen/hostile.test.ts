import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScreenSession } from '../../src/screen/session.js';
import { loadKernel, type Kernel } from '../../src/spec/suite.js';
import { FIXTURE_KERNELS, HOSTILE, tempDir } from '../helpers/fixtures.js';

let session: ScreenSession;
let kernel: Kernel;

beforeAll(() => {
  kernel = loadKernel(join(FIXTURE_KERNELS, 'scale_rows'));
  session = ScreenSession.open({ workDir: tempDir(), cc: 'yowasp', jobTimeoutMs: 4000, pairs: 9, sampleMs: 1, maxMemoryBytes: 64 << 20 });
});
afterAll(() => session.close());

function screen(file: string) {
  return session.screenCandidate(kernel, { name: file, source: readFileSync(join(HOSTILE, `${file}.c`), 'utf8') });
}

describe('hostile candidates get a verdict with evidence, and the harness survives', () => {
  it('an infinite loop is stopped by the wall-clock timeout', async () => {
    const r = await screen('infinite_loop');
    expect(r.check).toMatchObject({ status: 'timeout', during: 'check' });
  });

  it('a write one element past the output is out-of-bounds after y', async () => {
    expect((await screen('write_past_end')).check).toMatchObject({ status: 'out-of-bounds', buffer: 'y', side: 'after', offset: 0 });
  });

  it('a write before the output is out-of-bounds before y', async () => {
    expect((await screen('write_before')).check).toMatchObject({ status: 'out-of-bounds', buffer: 'y', side: 'before' });
  });

  it('modifying an input is input-mutated', async () => {
    expect((await screen('mutate_input')).check).toMatchObject({ status: 'input-mutated', buffer: 'x', index: 0 });
  });

  it('a constant output is wrong, with the worst element and NMSE', async () => {
    const { check } = await screen('constant');
    expect(check.status).toBe('wrong');
    if (check.status === 'wrong') {
      expect(check.buffer).toBe('y');
      expect(check.expected).not.toBe(0.5);
      expect(check.shape).toBe('n=1 rows=1');
    }
  });

  it('an output left untouched on later calls is caught by the poison', async () => {
    const { check } = await screen('stale_output');
    expect(check.status).toBe('wrong');
    // the second candidate call found the second poison (0xA5A5A5A5) where it should have written
    if (check.status === 'wrong') expect(check.got).toBeCloseTo(-2.8727e-16, 18);
  });

  it('skipping the odd tail fails on a tail length', async () => {
    const { check } = await screen('odd_tail');
    expect(check.status).toBe('wrong');
    if (check.status === 'wrong') expect(check.shape).toBe('n=1 rows=1');
  });

  it('ignoring (ith, nth) is caught by the sequential partition check', async () => {
    const { check } = await screen('single_thread_only');
    expect(check.status).toBe('wrong');
    if (check.status === 'wrong') {
      expect(check.reason).toMatch(/written by both ith=0 and ith=1 of nth=/);
      expect(check.nth).toBeGreaterThan(1);
    }
  });

  it('a compile error comes back as trimmed diagnostics naming the candidate', async () => {
    const { check } = await screen('compile_error');
    expect(check.status).toBe('compile-error');
    if (check.status === 'compile-error') {
      expect(check.diagnostic).toMatch(/compile_error\.c:3:\d+: error: use of undeclared identifier 'undefined_variable'/);
      expect(check.diagnostic).not.toMatch(/-cc1|wasm-ld|clang version/);
    }
  });

  it('a NaN in the output is wrong', async () => {
    expect((await screen('nan_output')).check).toMatchObject({ status: 'wrong', reason: 'NaN where the reference is a number' });
  });

  it('including a host file is refused before any compiler runs', async () => {
    const { check } = await screen('include_host_file');
    expect(check.status).toBe('compile-error');
    if (check.status === 'compile-error') {
      expect(check.diagnostic).toMatch(/line 3: #include "\/etc\/passwd" is not allowed/);
      expect(check.diagnostic).not.toMatch(/root:/);
    }
  });

  it('a memory.grow bomb hits the sandbox cap and traps', async () => {
    const { check } = await screen('memory_grow_bomb');
    expect(check).toMatchObject({ status: 'trap' });
    if (check.status === 'trap') expect(check.message).toMatch(/unreachable/);
  });

  it('a host-function import is refused', async () => {
    const { check } = await screen('calls_host');
    expect(check.status).toBe('compile-error');
    if (check.status === 'compile-error') expect(check.diagnostic).toMatch(/host_log/);
  });

  it('skipping work only in timed calls is caught by re-checking timed outputs', async () => {
    const { check } = await screen('cheat_when_timed');
    expect(check).toMatchObject({ status: 'wrong', phase: 'timed' });
  });

  it('after all that, an honest candidate still passes with speed results', async () => {
    const r = await session.screenCandidate(kernel, { name: 'same', source: readFileSync(join(FIXTURE_KERNELS, 'scale_rows', 'candidates', 'same.c'), 'utf8') });
    expect(r.check.status).toBe('pass');
    expect(r.speed).toHaveLength(1);
    expect(r.speed[0].ratios).toHaveLength(9);
  });
});
