// Ctrl-C during a screen stops the sandbox job in progress at once (not after its 20 s timeout): the run ends
// interrupted, with what finished saved and the interrupted candidate left out rather than given a verdict.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLedger } from '../../src/ledger/ledger.js';
import { runScreen } from '../../src/screen/run.js';
import { FIXTURE_KERNELS, HOSTILE, tempDir } from '../helpers/fixtures.js';

describe('interrupting a screen', () => {
  it('stops a candidate that never returns at once, and saves the run as interrupted', async () => {
    const controller = new AbortController();
    let abortedAt = 0;
    const run = await runScreen({
      workDir: tempDir(),
      kernelsDir: FIXTURE_KERNELS,
      kernels: ['scale_rows'],
      candidate: join(HOSTILE, 'infinite_loop.c'),
      cc: 'yowasp',
      jobTimeoutMs: 20_000,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'stage' && e.candidate === 'infinite_loop' && e.stage === 'check')
          setTimeout(() => {
            abortedAt = performance.now();
            controller.abort();
          }, 500);
      },
    });
    expect(abortedAt).toBeGreaterThan(0);
    expect(performance.now() - abortedAt).toBeLessThan(5_000);
    expect(run.interrupted).toBe(true);
    expect(run.results.map((r) => r.candidate)).toEqual(['baseline']);
    const events = readLedger(join(run.dir, 'ledger.jsonl'));
    expect(events.at(-1)).toMatchObject({ type: 'run-end', status: 'interrupted' });
    expect(events.filter((e) => e.type === 'result')).toHaveLength(1);
  });
});
