// Every kernel of the built-in suite cross-built for aarch64 and run under qemu-aarch64, so the NEON paths of
// kb_simd.h and of the candidates are checked on this x86 machine. Timings under emulation are never a verdict.
import { describe, expect, it } from 'vitest';
import { HostConfig } from '../../src/config/config.js';
import { runNative } from '../../src/remote/native.js';
import { toolchainFor } from '../../src/remote/hosts.js';
import { BUILTIN_KERNELS_DIR, loadSuite } from '../../src/spec/suite.js';
import { describeVerdict } from '../../src/check/verdict.js';
import { hasCommand, missing } from '../helpers/require.js';

const suite = loadSuite(BUILTIN_KERNELS_DIR);

function failures(results: Awaited<ReturnType<typeof runNative>>): string[] {
  return results.filter((r) => r.check.status !== 'pass' || r.hostFailure).map((r) => `${r.kernel}/${r.candidate}: ${r.hostFailure ?? describeVerdict(r.check)}`);
}

const qemu = HostConfig.parse({ name: 'qemu-aarch64', executor: 'qemu-aarch64', arch: 'aarch64' });
const hasQemu = hasCommand('qemu-aarch64') && hasCommand(toolchainFor(qemu).cc);

describe.skipIf(missing('qemu-aarch64 and aarch64-linux-gnu-gcc', hasQemu))('the suite under qemu-aarch64 (NEON paths)', () => {
  it.each(suite.map((k) => [k.name, k] as const))('%s: baseline and candidates pass', async (_name, kernel) => {
    const results = await runNative(kernel, [{ name: 'baseline', path: kernel.baselinePath }, ...kernel.candidates], qemu, { skipTiming: true, trials: 1 });
    expect(failures(results)).toEqual([]);
    expect(results.every((r) => r.arch === 'aarch64' && r.toolchain.startsWith('aarch64-linux-gnu-gcc'))).toBe(true);
  }, 600_000); // emulated: softmax's five candidates took over 2 min at load 12 on 2 cores

  it('marks emulated timings as such and never gives them a verdict', async () => {
    const kernel = suite.find((k) => k.name === 'rms_norm') ?? suite[0];
    const [result] = await runNative(kernel, [{ name: 'aa', path: kernel.baselinePath }], qemu, { benchShapes: [kernel.spec.shapes.bench[0].name ?? ''], pairs: 9, processes: 1 });
    expect(result.check.status).toBe('pass');
    expect(result.speed.length).toBe(1);
    expect(result.speed[0]).toMatchObject({ emulated: true, verdict: 'no-change' });
  });
});
