import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScreenSession } from '../../src/screen/session.js';
import { loadKernel, type Kernel } from '../../src/spec/suite.js';
import { FIXTURE_KERNELS, tempDir } from '../helpers/fixtures.js';

let session: ScreenSession;
let kernel: Kernel;
const baseline = () => readFileSync(kernel.baselinePath, 'utf8');

beforeAll(() => {
  kernel = loadKernel(join(FIXTURE_KERNELS, 'scale_rows'));
  session = ScreenSession.open({ workDir: tempDir(), cc: 'yowasp', pairs: 15, sampleMs: 2 });
});
afterAll(() => session.close());

describe('speed verdicts of the WASM screen', () => {
  it('an A/A comparison (the baseline against itself) is no-change, with a CI around 1', async () => {
    const r = await session.screenCandidate(kernel, { name: 'a_a', source: baseline() });
    expect(r.check.status).toBe('pass');
    const s = r.speed[0];
    expect(s.verdict).toBe('no-change');
    expect(s.speedup.lo).toBeLessThanOrEqual(1.02);
    expect(s.speedup.hi).toBeGreaterThanOrEqual(1 / 1.02);
    expect(s.ratios).toHaveLength(15);
    // the pairs were timed in three groups of freshly compiled instances, and the CI resampled them as groups
    expect(s.groupSizes).toEqual([5, 5, 5]);
  });

  it('times one instance pair with instances: 1, and refuses groups of fewer than two pairs', async () => {
    const one = ScreenSession.open({ workDir: tempDir(), cc: 'yowasp', pairs: 9, sampleMs: 2, instances: 1 });
    try {
      const r = await one.screenCandidate(kernel, { name: 'a_a', source: baseline() });
      expect(r.speed[0].ratios).toHaveLength(9);
      expect(r.speed[0].groupSizes).toBeUndefined();
    } finally {
      await one.close();
    }
    expect(() => ScreenSession.open({ workDir: tempDir(), pairs: 9, instances: 5 })).toThrow(/instances: a whole number from 1 to 4 \(at least 2 of the 9 pairs per group\), got 5/);
  });

  it('a candidate doing the row reduction four times over is slower', async () => {
    // Same result, ~3 extra passes over the row: a known cost the statistics must see.
    const slower = baseline().replace(
      'for (int i = 0; i < n; i++) s += fabs((double)x[r * n + i]);',
      'for (int k = 0; k < 4; k++) { s = 0; for (int i = 0; i < n; i++) s += fabs((double)x[r * n + i]); __asm__ volatile("" : "+m"(s)); }',
    );
    expect(slower).not.toBe(baseline());
    const r = await session.screenCandidate(kernel, { name: 'extra_work', source: slower });
    expect(r.check.status).toBe('pass');
    expect(r.speed[0].verdict).toBe('slower');
    expect(r.speed[0].speedup.hi).toBeLessThan(0.9);
  });

  it('throughput follows from the spec cost expressions and the median time', async () => {
    const r = await session.screenCandidate(kernel, { name: 'a_a', source: baseline() });
    const s = r.speed[0];
    expect(s.gbps).toBeCloseTo((8 * 1024) / s.candidateMedianNs, 6);
    expect(s.gflops).toBeCloseTo((3 * 1024) / s.candidateMedianNs, 6);
    expect(s.suspect).toBeUndefined();
  });
});
