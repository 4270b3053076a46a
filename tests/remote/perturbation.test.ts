// The native check changes the inputs between calls (a content-keyed cache then goes stale) without breaking what
// the input's distribution promises: a candidate correct on every input the distribution can draw stays correct.
// Copying one element over another broke q8_0's `ties` blocks (each holds ±127 once), which failed honest quantizers.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostConfig } from '../../src/config/config.js';
import { runNative } from '../../src/remote/native.js';
import { loadKernel } from '../../src/spec/suite.js';
import { FIXTURES, tempDir } from '../helpers/fixtures.js';
import { runScreen } from '../../src/screen/run.js';
import { hasCommand, missing } from '../helpers/require.js';

describe.skipIf(missing('a C compiler (cc)', hasCommand('cc')))('native input changes keep the distribution', () => {
  it('keeps every ties block holding its ±127, so a candidate relying on it passes every check and timed call', async () => {
    const kernel = loadKernel(join(FIXTURES, 'kernels', 'block_max'));
    const [trusting, ...others] = await runNative(kernel, kernel.candidates, HostConfig.parse({ name: 'local', executor: 'local', arch: 'x86_64' }), { candidateTimeoutS: 60, pairs: 9 });
    expect(others).toEqual([]);
    expect(trusting.candidate).toBe('trusts_the_distribution');
    expect(trusting.check).toEqual({ status: 'pass', calls: expect.any(Number) });
    expect(trusting.speed.length).toBe(1);
  }, 120_000);

  it('still changes what a row sum sees: a cache keyed on a sample of the input is caught on a reduction too', async () => {
    // moving elements within their block (a swap of neighbours) would keep such a kernel's outputs, and so the cache's
    const kernel = loadKernel(join(FIXTURES, 'kernels', 'row_sum'));
    const [cache] = await runNative(kernel, kernel.candidates, HostConfig.parse({ name: 'local', executor: 'local', arch: 'x86_64' }), { candidateTimeoutS: 60, pairs: 9 });
    expect(cache.candidate).toBe('sampled_cache');
    expect(cache.check).toMatchObject({ status: 'wrong', buffer: 'y', phase: 'check' });
    expect((cache.check as { reason: string }).reason).toMatch(/elements of each input were redrawn from its distribution/);
  }, 120_000);
});

describe('the sandbox changes inputs the same way', () => {
  it('passes the candidate that trusts the ties blocks and catches the sampled cache on the row sum', async () => {
    const screen = await runScreen({ workDir: tempDir(), kernelsDir: join(FIXTURES, 'kernels'), kernels: ['block_max', 'row_sum'], cc: 'yowasp', pairs: 9, sampleMs: 1 });
    const check = (name: string) => screen.results.find((r) => r.candidate === name)!.check;
    expect(check('trusts_the_distribution').status).toBe('pass');
    expect(check('sampled_cache')).toMatchObject({ status: 'wrong', buffer: 'y' });
  }, 120_000);
});
