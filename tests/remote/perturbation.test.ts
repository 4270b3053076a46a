// The native check changes the inputs between calls (a content-keyed cache then goes stale) without breaking what
// the input's distribution promises: a candidate correct on every input the distribution can draw stays correct.
// Copying one element over another broke q8_0's `ties` blocks (each holds ±127 once), which failed honest quantizers.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostConfig } from '../../src/config/config.js';
import { runNative } from '../../src/remote/native.js';
import { loadKernel } from '../../src/spec/suite.js';
import { FIXTURES } from '../helpers/fixtures.js';
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
});
