// A candidate compiled for a graft: only its renamed entry point stays global, a signature other than the spec's
// is a compile error (not a crash inside llama.cpp), and the include policy refuses what it refuses everywhere.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compileCandidate } from '../../src/e2e/candidate.js';
import { localHost, toolchainFor } from '../../src/remote/hosts.js';
import { BUILTIN_KERNELS_DIR, findKernel } from '../../src/spec/suite.js';
import { hasCommand, missing } from '../helpers/require.js';

const why = missing('a C compiler with objcopy and nm', hasCommand('cc') && hasCommand('objcopy') && hasCommand('nm'));
const FIXTURES = fileURLToPath(new URL('../fixtures/e2e/', import.meta.url));

describe.skipIf(why)('compiling a candidate for a graft', () => {
  const kernel = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm');
  const toolchain = toolchainFor(localHost());
  const work = mkdtempSync(join(tmpdir(), 'kbench-graft-cand-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const compile = (path: string, name: string) => compileCandidate(path, kernel.spec, 'kbench_graft_rms_norm', join(work, name), toolchain);

  it('keeps only the renamed entry point global', async () => {
    const r = await compile(join(kernel.dir, 'candidates', 'unroll_fused.c'), 'ok');
    if (!r.ok) throw new Error(r.reason);
    const globals = execFileSync('nm', ['-g', '--defined-only', r.object], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(' ').pop());
    expect(globals).toEqual(['kbench_graft_rms_norm']);
  });

  it('refuses a signature other than the spec prototype at compile time', async () => {
    const path = join(work, 'wrong_signature.c');
    writeFileSync(path, 'void rms_norm(const float *x, float *y, int n, int rows, int ith, int nth) { (void)x; (void)y; (void)n; (void)rows; (void)ith; (void)nth; }\n');
    const r = await compile(path, 'sig');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/conflicting types/);
  });

  it('applies the include policy', async () => {
    const r = await compile(join(FIXTURES, 'rms_norm_reads_host_file.c'), 'policy');
    expect(!r.ok && r.reason).toMatch(/refused by the include policy: reads \/etc\/hostname/);
  });
});
