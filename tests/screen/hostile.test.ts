// Every hostile fixture of tests/fixtures/hostile/table.ts gets its expected WASM verdict, with evidence, and the
// harness survives them all.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScreenSession } from '../../src/screen/session.js';
import { describeVerdict } from '../../src/check/verdict.js';
import { BUILTIN_KERNELS_DIR, findKernel, loadKernel, type Kernel } from '../../src/spec/suite.js';
import { FIXTURE_KERNELS, HOSTILE, tempDir } from '../helpers/fixtures.js';
import { HOSTILE_TABLE } from '../fixtures/hostile/table.js';

// scale_rows is tiny: a short job timeout keeps the infinite loop's test short. Built-in kernels check longer.
let small: ScreenSession;
let builtin: ScreenSession;
const kernels = new Map<string, Kernel>();

beforeAll(() => {
  const options = { workDir: tempDir(), cc: 'yowasp', pairs: 9, sampleMs: 1 };
  small = ScreenSession.open({ ...options, jobTimeoutMs: 4000, maxMemoryBytes: 64 << 20 });
  builtin = ScreenSession.open({ ...options, jobTimeoutMs: 30_000 });
});
afterAll(async () => {
  await small.close();
  await builtin.close();
});

function kernel(name: string): Kernel {
  if (!kernels.has(name)) kernels.set(name, name === 'scale_rows' ? loadKernel(join(FIXTURE_KERNELS, name)) : findKernel(BUILTIN_KERNELS_DIR, name));
  return kernels.get(name)!;
}

describe('hostile candidates get a verdict with evidence, and the harness survives', () => {
  for (const row of HOSTILE_TABLE.filter((r) => r.wasm !== null)) {
    it(`${row.fixture} (${row.kernel}, ${row.class}): ${row.wasm}${row.reason ? ` "${row.reason}"` : ''}`, async () => {
      const session = row.kernel === 'scale_rows' ? small : builtin;
      const { check } = await session.screenCandidate(kernel(row.kernel), { name: row.fixture, source: readFileSync(join(HOSTILE, `${row.fixture}.c`), 'utf8') });
      expect(check.status, describeVerdict(check)).toBe(row.wasm);
      if (row.reason) expect(describeVerdict(check)).toContain(row.reason);
      if (row.detail) expect(check).toMatchObject(row.detail);
    });
  }

  it('a compile error names the candidate and hides the compiler internals', async () => {
    const { check } = await small.screenCandidate(kernel('scale_rows'), { name: 'compile_error', source: readFileSync(join(HOSTILE, 'compile_error.c'), 'utf8') });
    if (check.status !== 'compile-error') throw new Error(describeVerdict(check));
    expect(check.diagnostic).toMatch(/compile_error\.c:3:\d+: error: use of undeclared identifier 'undefined_variable'/);
    expect(check.diagnostic).not.toMatch(/-cc1|wasm-ld|clang version/);
  });

  it('a refused include never shows the host file', async () => {
    const { check } = await small.screenCandidate(kernel('scale_rows'), { name: 'include_host_file', source: readFileSync(join(HOSTILE, 'include_host_file.c'), 'utf8') });
    expect(describeVerdict(check)).not.toMatch(/root:/);
  });

  it('after all that, an honest candidate still passes with speed results', async () => {
    const r = await small.screenCandidate(kernel('scale_rows'), { name: 'same', source: readFileSync(join(FIXTURE_KERNELS, 'scale_rows', 'candidates', 'same.c'), 'utf8') });
    expect(r.check.status).toBe('pass');
    expect(r.speed).toHaveLength(1);
    expect(r.speed[0].ratios).toHaveLength(9);
  });
});
