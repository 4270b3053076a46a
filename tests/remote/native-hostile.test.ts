// The hostile candidates of the WASM tests, rewritten for rms_norm, are caught by the native driver too; an A/A
// comparison (the baseline against itself) is no-change. One bundle for all of them: the harness is built once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostConfig } from '../../src/config/config.js';
import { runNative } from '../../src/remote/native.js';
import { outcomeOf } from '../../src/remote/outcome.js';
import { BUILTIN_KERNELS_DIR, findKernel } from '../../src/spec/suite.js';
import type { TargetResult } from '../../src/ledger/records.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { hasCommand, missing } from '../helpers/require.js';

const HOSTILE = join(FIXTURES, 'native', 'rms_norm');
const names = ['write_past_end', 'write_before', 'mutate_input', 'stale_output', 'cheat_when_timed', 'skip_if_computed', 'single_thread_only', 'crash', 'compile_error'];
// issue 9: the result channel, read-only inputs and guard pages, partition orders and addresses, perturbation
const issue9 = ['fake_time_stdout', 'forge_results_fd', 'replay_results', 'mutate_restore', 'write_far_past', 'partition_order', 'call_dependent', 'address_dependent', 'sampled_cache', 'timed_cache'].map((n) => `native-${n}`);

describe.skipIf(missing('a C compiler (cc)', hasCommand('cc')))('native driver against hostile candidates', () => {
  const kernel = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm');
  const local = HostConfig.parse({ name: 'local', executor: 'local', arch: 'x86_64' });
  let results: Map<string, TargetResult>;

  it('judges every hostile candidate and the A/A pair in one run', async () => {
    // rms_norm's own candidates, honest, go through the same checks and timing
    const honest = kernel.candidates.map((c) => ({ name: `honest-${c.name}`, path: c.path }));
    const candidates = [...[...names, ...issue9].map((name) => ({ name, path: join(HOSTILE, `${name}.c`) })), ...honest, { name: 'aa', path: kernel.baselinePath }];
    const list = await runNative(kernel, candidates, local, { candidateTimeoutS: 60 });
    results = new Map(list.map((r) => [r.candidate, r]));
    expect(list.map((r) => r.hostFailure)).toEqual(candidates.map(() => undefined));
  }, 300_000); // 23 candidates built, checked and timed in one bundle (about 80 s on a busy 2-core machine)

  it('catches a write one element past the output as out-of-bounds after y', () => {
    expect(results.get('write_past_end')!.check).toMatchObject({ status: 'out-of-bounds', buffer: 'y', side: 'after', offset: 0 });
    expect(outcomeOf(results.get('write_past_end')!)).toBe('wrong-native');
  });

  it('catches a write before the output as out-of-bounds before y', () => {
    expect(results.get('write_before')!.check).toMatchObject({ status: 'out-of-bounds', buffer: 'y', side: 'before', offset: 0 });
  });

  it('catches an input changed by the candidate', () => {
    expect(results.get('mutate_input')!.check).toMatchObject({ status: 'input-mutated', buffer: 'x', index: 0 });
  });

  it('catches an output left stale on the second call (poisoned before each call)', () => {
    expect(results.get('stale_output')!.check).toMatchObject({ status: 'wrong', buffer: 'y', phase: 'check' });
  });

  it('catches work skipped only in the timed calls', () => {
    const check = results.get('cheat_when_timed')!.check;
    expect(check).toMatchObject({ status: 'wrong', buffer: 'y', phase: 'timed' });
    expect(results.get('cheat_when_timed')!.speed).toEqual([]);
  });

  it('catches a candidate that skips repeated timed calls while its output still looks computed', () => {
    // without the element poisoned before each timed call, this one measured ~400× "faster" with correct outputs
    expect(results.get('skip_if_computed')!.check).toMatchObject({ status: 'wrong', buffer: 'y', phase: 'timed' });
  });

  it('catches a candidate whose threads do not cover every row (real pthreads)', () => {
    expect(results.get('single_thread_only')!.check).toMatchObject({ status: 'wrong', buffer: 'y', nth: 2, phase: 'check' });
    // rows no thread wrote hold the poison, which differs between the first and the second call
    expect((results.get('single_thread_only')!.check as { reason: string }).reason).toMatch(/still holds the poison there: an element never written/);
  });

  it('turns a crash into a trap verdict naming the signal and the shape', () => {
    expect(results.get('crash')!.check).toMatchObject({ status: 'trap', shape: 'n=17 rows=1' });
    expect((results.get('crash')!.check as { message: string }).message).toMatch(/SIGSEGV/);
  });

  it('reports a compile error with the compiler diagnostic', () => {
    const check = results.get('compile_error')!.check;
    expect(check.status).toBe('compile-error');
    expect((check as { diagnostic: string }).diagnostic).toMatch(/error/);
  });

  it('keeps the candidate stdout apart from the results: fake time lines printed there count for nothing', () => {
    // the baseline's code printing `time` lines claiming ×4 (when results shared stdout, they were believed)
    const r = results.get('native-fake_time_stdout')!;
    expect(r.check.status).toBe('pass');
    expect(r.speed.map((s) => s.shape)).toEqual(['decode 1x4096', 'prefill 64x4096']);
    for (const s of r.speed) {
      expect(s.ratios).toHaveLength(21);
      expect(s.candidateNs).not.toContain(1);
      expect(s.speedup.estimate).toBeLessThan(1.5);
    }
    expect(outcomeOf(r)).not.toBe('faster');
  });

  it('fails a candidate that writes a result line without the run nonce to the result channel (fd 3)', () => {
    const check = results.get('native-forge_results_fd')!.check;
    expect(check.status).toBe('trap');
    expect((check as { message: string }).message).toMatch(/^result channel: line \d+ of the result channel does not carry this run's nonce/);
    expect(results.get('native-forge_results_fd')!.speed).toEqual([]);
  });

  it('fails a candidate that copies a genuine line of the results file back into it (sequence numbers)', () => {
    // the file holds no nonce to steal: each line carries a tag derived from it, and a copied line is out of sequence
    const check = results.get('native-replay_results')!.check;
    expect(check.status).toBe('trap');
    expect((check as { message: string }).message).toMatch(/^result channel: line \d+ of the result channel is out of sequence/);
  });

  it('catches an input written and restored within the call (inputs are read-only during calls)', () => {
    expect(results.get('native-mutate_restore')!.check).toMatchObject({ status: 'input-mutated', buffer: 'x', index: 0, phase: 'check' });
  });

  it('catches a stray write 1 KiB past the output, beyond the canaries, with the guard page', () => {
    expect(results.get('native-write_far_past')!.check).toMatchObject({ status: 'out-of-bounds', buffer: 'y', side: 'after', offset: 1024 });
  });

  it('catches state one ith leaves for another by running the partition ith descending', () => {
    const check = results.get('native-partition_order')!.check;
    expect(check).toMatchObject({ status: 'wrong', buffer: 'y', phase: 'check', nth: 2 });
    expect((check as { reason: string }).reason).toMatch(/partition run ith descending one after another differs from ith ascending/);
  });

  it('catches outputs that differ between two calls on the same inputs at the same addresses', () => {
    const check = results.get('native-call_dependent')!.check;
    expect(check).toMatchObject({ status: 'wrong', buffer: 'y', index: 0, phase: 'check' });
    expect((check as { reason: string }).reason).toMatch(/second call on the same inputs at the same addresses differs/);
  });

  it('catches outputs that depend on where the buffers are', () => {
    const check = results.get('native-address_dependent')!.check;
    expect(check).toMatchObject({ status: 'wrong', buffer: 'y', index: 0, phase: 'check' });
    expect((check as { reason: string }).reason).toMatch(/copy of the inputs at other addresses differs/);
  });

  it('catches a cache keyed on addresses and sampled contents once the inputs are perturbed (check)', () => {
    const check = results.get('native-sampled_cache')!.check;
    expect(check).toMatchObject({ status: 'wrong', buffer: 'y', phase: 'check' });
    expect((check as { reason: string }).reason).toMatch(/elements of each input were redrawn from its distribution, same addresses/);
  });

  it('catches a cache used only in timed calls once the inputs are perturbed between samples', () => {
    const r = results.get('native-timed_cache')!;
    expect(r.check).toMatchObject({ status: 'wrong', buffer: 'y', phase: 'timed' });
    expect(r.speed).toEqual([]);
  });

  it('passes the honest built-in candidates, timed on every bench shape', () => {
    const honest = [...results.values()].filter((r) => r.candidate.startsWith('honest-'));
    expect(honest.length).toBe(kernel.candidates.length);
    for (const r of honest) {
      expect(r.check, r.candidate).toMatchObject({ status: 'pass' });
      expect(r.speed.map((s) => s.ratios.length)).toEqual([21, 21]);
    }
  });

  it('finds the baseline against itself no-change on every bench shape', () => {
    const aa = results.get('aa')!;
    expect(aa.check.status).toBe('pass');
    expect(aa.speed.map((s) => s.shape)).toEqual(['decode 1x4096', 'prefill 64x4096']);
    for (const s of aa.speed) {
      expect(s.ratios).toHaveLength(21);
      expect(s.callsPerSample).toBeGreaterThan(0);
      expect(s.verdict).toBe('no-change');
    }
    expect(outcomeOf(aa)).toBe('no-change');
  });
});

describe.skipIf(missing('a C compiler (cc)', hasCommand('cc')))('a candidate that never returns', () => {
  it('gets a timeout verdict once the per-candidate limit passes', async () => {
    const kernel = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm');
    const local = HostConfig.parse({ name: 'local', executor: 'local', arch: 'x86_64' });
    const started = Date.now();
    const [result] = await runNative(kernel, [{ name: 'infinite_loop', path: join(HOSTILE, 'infinite_loop.c') }], local, { trials: 1, candidateTimeoutS: 2 });
    expect(result.check).toEqual({ status: 'timeout', ms: 2000, during: 'check' });
    expect(result.hostFailure).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});

const hasAvx512 = /\bavx512f\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));

describe.skipIf(process.platform !== 'linux' || process.arch !== 'x64' || hasAvx512)('a host lacking a CPU feature its flags need', () => {
  it('is refused with the missing feature named, not killed by SIGILL', async () => {
    const kernel = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm');
    const host = HostConfig.parse({ name: 'old-x86', executor: 'local', arch: 'x86_64', cflags: ['-O3', '-mavx512f'] });
    const [result] = await runNative(kernel, [{ name: 'aa', path: kernel.baselinePath }], host, { trials: 1 });
    expect(result.hostFailure).toMatch(/^refused: this CPU lacks avx512f, which the build flags \(-O3 -mavx512f\) need/);
    expect(outcomeOf(result)).toBe('host-failed');
  });
});
