// An exception of kbench's own code inside the sandbox (here: a seed the CLI would refuse, passed through the
// programmatic API, which the sampler's generator rejects) is a harness-error, never the candidate's trap.
import { describe, expect, it } from 'vitest';
import { runScreen } from '../../src/screen/run.js';
import { FIXTURE_KERNELS, tempDir } from '../helpers/fixtures.js';

describe('harness errors in the sandbox', () => {
  it('a bad seed reaching the sampler is a harness-error naming the cause, not a trap', async () => {
    const run = await runScreen({ workDir: tempDir(), kernelsDir: FIXTURE_KERNELS, kernels: ['scale_rows'], candidate: 'same', cc: 'yowasp', seed: 1.5, pairs: 9, sampleMs: 1 });
    const same = run.results.find((r) => r.candidate === 'same')!;
    expect(same.check).toMatchObject({ status: 'harness-error', message: expect.stringMatching(/^RangeError: .*seed.*1\.5/) });
    expect(same.speed).toEqual([]);
  });
});
