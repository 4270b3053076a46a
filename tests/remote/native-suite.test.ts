// Every kernel of the built-in suite, built natively here (AVX2+FMA): the baseline and every candidate pass their
// checks against the reference. Correctness only (one trial per shape and distribution, to stay fast); timing is
// covered by native-hostile.test.ts, the NEON paths by qemu-suite.test.ts.
import { describe, expect, it } from 'vitest';
import { HostConfig } from '../../src/config/config.js';
import { runNative } from '../../src/remote/native.js';
import { BUILTIN_KERNELS_DIR, loadSuite } from '../../src/spec/suite.js';
import { describeVerdict } from '../../src/check/verdict.js';
import { hasCommand, missing } from '../helpers/require.js';

const suite = loadSuite(BUILTIN_KERNELS_DIR);
const avx2 = process.arch === 'x64' && hasCommand('cc');

function failures(results: Awaited<ReturnType<typeof runNative>>): string[] {
  return results.filter((r) => r.check.status !== 'pass' || r.hostFailure).map((r) => `${r.kernel}/${r.candidate}: ${r.hostFailure ?? describeVerdict(r.check)}`);
}

describe.skipIf(missing('an x86-64 C compiler with AVX2 (cc)', avx2))('the suite natively on this machine (AVX2+FMA)', () => {
  const local = HostConfig.parse({ name: 'local', executor: 'local', arch: 'x86_64' });
  it.each(suite.map((k) => [k.name, k] as const))('%s: baseline and candidates pass', async (_name, kernel) => {
    const results = await runNative(kernel, [{ name: 'baseline', path: kernel.baselinePath }, ...kernel.candidates], local, { skipTiming: true, trials: 1 });
    expect(failures(results)).toEqual([]);
    expect(results.every((r) => r.toolchain.includes('-mavx2 -mfma'))).toBe(true);
  });
});
