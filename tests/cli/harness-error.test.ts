// `kbench screen` exits 1 when any result is a harness-error, and says so on stderr: the run did not judge
// everything it was asked to, and no verdict table may hide that.
import { describe, expect, it, vi } from 'vitest';
import type { ScreenRun } from '../../src/screen/run.js';
import type { TargetResult } from '../../src/ledger/records.js';
import { targetResult } from '../helpers/results.js';

const result = (candidate: string, check: TargetResult['check']): TargetResult =>
  targetResult({ kernel: 'rms_norm', candidate, toolchain: 'yowasp', sourceSha256: 'a'.repeat(64), check });

// the sandbox is real elsewhere (tests/screen/harness-error.test.ts); here only what the command makes of it
vi.mock('../../src/screen/run.js', async (actual) => ({
  ...(await actual<typeof import('../../src/screen/run.js')>()),
  runScreen: async (): Promise<ScreenRun> => ({
    id: 'r', dir: '/tmp/r', toolchain: 'yowasp', interrupted: false,
    results: [result('baseline', { status: 'pass', calls: 1 }), result('vec4', { status: 'harness-error', message: 'RangeError: rng seed must be a safe integer' })],
  }),
}));

vi.mock('../../src/report/index.js', async (actual) => ({
  ...(await actual<typeof import('../../src/report/index.js')>()),
  writeRunReports: () => ({ markdownPath: '/tmp/r/report.md', htmlPath: '/tmp/r/report.html', stability: { run: { status: 'stable', reasons: [] }, of: () => undefined } }),
}));

describe('kbench screen with a harness error', () => {
  it('prints the results, names the harness error on stderr, and exits 1', async () => {
    const { main } = await import('../../src/cli/main.js');
    let stdout = '';
    let stderr = '';
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += s), true));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += s), true));
    try {
      expect(await main(['node', 'kbench', 'screen', 'rms_norm', '--json'])).toBe(1);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    expect(JSON.parse(stdout).results[1].check.status).toBe('harness-error');
    expect(stderr).toMatch(/kbench: rms_norm\/vec4: harness-error .*RangeError: rng seed/);
  });
});
