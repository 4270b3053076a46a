// The table of hostile behaviours (tests/fixtures/hostile/table.ts) on the native target: every fixture the WASM
// screen judges is also built, checked and timed by the native driver on `local`, and must get the verdict the
// table gives for it. One bundle per kernel, so the harness is built three times, not once per fixture.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostConfig } from '../../src/config/config.js';
import { describeVerdict } from '../../src/check/verdict.js';
import type { TargetResult } from '../../src/ledger/records.js';
import { runNative } from '../../src/remote/native.js';
import { BUILTIN_KERNELS_DIR, findKernel, loadKernel } from '../../src/spec/suite.js';
import { HOSTILE_TABLE } from '../fixtures/hostile/table.js';
import { FIXTURE_KERNELS, HOSTILE } from '../helpers/fixtures.js';
import { hasCommand, missing } from '../helpers/require.js';

const rows = HOSTILE_TABLE.filter((r) => r.native !== null);
const kernels = [...new Set(rows.map((r) => r.kernel))];

describe.skipIf(missing('a C compiler (cc)', hasCommand('cc')))('the hostile table on the native target', () => {
  const local = HostConfig.parse({ name: 'local', executor: 'local', arch: 'x86_64' });
  const results = new Map<string, TargetResult>();

  it('runs every fixture of the table natively, one bundle per kernel, without a host failure', async () => {
    for (const name of kernels) {
      const kernel = name === 'scale_rows' ? loadKernel(join(FIXTURE_KERNELS, name)) : findKernel(BUILTIN_KERNELS_DIR, name);
      const mine = rows.filter((r) => r.kernel === name).map((r) => ({ name: r.fixture, path: join(HOSTILE, `${r.fixture}.c`) }));
      // scale_rows is tiny: its short timeout keeps the infinite loop's cost down; the suite kernels check longer
      const candidateTimeoutS = name === 'scale_rows' ? 10 : 120;
      for (const r of await runNative(kernel, mine, local, { candidateTimeoutS, pairs: 9, processes: 1 })) results.set(r.candidate, r);
    }
    expect([...results.values()].filter((r) => r.hostFailure)).toEqual([]);
  }, 600_000);

  for (const row of rows)
    it(`${row.fixture} (${row.kernel}, ${row.class}): ${row.native}${row.nativeReason ? ` "${row.nativeReason}"` : ''}`, () => {
      const r = results.get(row.fixture)!;
      expect(r.check.status, describeVerdict(r.check)).toBe(row.native);
      const evidence = r.check.status === 'compile-error' ? r.check.diagnostic : describeVerdict(r.check);
      if (row.nativeReason) expect(evidence).toContain(row.nativeReason);
      expect(r.speed).toEqual([]);
    });
});
