// End to end through the real CLI: `kbench new` scaffolds kernels that `kbench screen` passes right away, and
// the real run exports valid Google Benchmark JSON and an HTML report.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { validateGbench } from '../report/gbench-schema.js';

const BIN = fileURLToPath(new URL('../../bin/kbench.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'kbench-cli-new-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function kbench(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { cwd: work, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('kbench new', () => {
  it('scaffolds kernels that kbench screen --json passes, and whose run exports valid gbench JSON and HTML', async () => {
    expect((await kbench('new', 'foo', '--kernels', 'k')).code).toBe(0);
    expect((await kbench('new', 'foo_rows', '--template', 'row-reduce', '--kernels', 'k')).code).toBe(0);

    // seed 15707 draws a one-row case whose float sum nearly cancels: an NMSE tolerance failed the template's own simd
    const screen = await kbench('screen', 'foo', 'foo_rows', '--kernels', 'k', '--json', '--pairs', '9', '--sample-ms', '1', '--seed', '15707');
    expect(screen.stderr).toBe('');
    expect(screen.code).toBe(0);
    const run = JSON.parse(screen.stdout);
    const outcomes = run.results.map((r: { kernel: string; candidate: string; check: { status: string }; speed: unknown[] }) => [r.kernel, r.candidate, r.check.status, r.speed.length]);
    expect(outcomes).toEqual([
      ['foo', 'baseline', 'pass', 0],
      ['foo', 'simd', 'pass', 2],
      ['foo_rows', 'baseline', 'pass', 0],
      ['foo_rows', 'simd', 'pass', 2],
    ]);

    // the run remembers its suite, so `kbench promote` finds these kernels without --kernels
    const start = JSON.parse(readFileSync(join(run.dir, 'ledger.jsonl'), 'utf8').split('\n')[0]);
    expect(start).toMatchObject({ type: 'run-start', kind: 'screen', kernelsDir: join(work, 'k') });

    const gbench = await kbench('report', run.id, '--format', 'gbench');
    expect(gbench.code).toBe(0);
    const doc = JSON.parse(gbench.stdout);
    expect(validateGbench(doc)).toEqual([]);
    expect(doc.benchmarks.filter((b: { run_type: string }) => b.run_type === 'iteration').length).toBe(4 * 9 * 2); // 2 kernels × 2 shapes × (simd + pooled baseline) × 9 pairs

    const html = await kbench('report', '--html', '--out', 'report.html');
    expect(html.code).toBe(0);
    expect(readFileSync(join(work, 'report.html'), 'utf8').match(/<g class="ci-row/g)?.length).toBe(4);
  });

  it('refuses to overwrite a kernel folder (exit 2)', async () => {
    await kbench('new', 'twice', '--kernels', 'k');
    const again = await kbench('new', 'twice', '--kernels', 'k');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/twice already exists/);
  });

  it('words a tolerance miss after the in-place input change as a miss, not as stale outputs', async () => {
    // the template with the NMSE bound it used to have: seed 9883 draws a one-row sum near 0 that misses it on the
    // call after the inputs changed in place; the outputs are new ones, merely outside the tolerance
    expect((await kbench('new', 'tight_rows', '--template', 'row-reduce', '--kernels', 'k')).code).toBe(0);
    const specPath = join(work, 'k', 'tight_rows', 'kernel.json');
    const spec = JSON.parse(readFileSync(specPath, 'utf8'));
    writeFileSync(specPath, JSON.stringify({ ...spec, tolerance: { ...spec.tolerance, nmse: 1e-9 } }));
    const screen = await kbench('screen', 'tight_rows', '--kernels', 'k', '--json', '--pairs', '9', '--sample-ms', '1', '--seed', '9883');
    const simd = JSON.parse(screen.stdout).results.find((r: { candidate: string }) => r.candidate === 'simd');
    expect(simd.check).toMatchObject({ status: 'wrong' });
    expect(simd.check.reason).toMatch(/NMSE .* after 8 input elements changed in place/);
    expect(simd.check.reason).not.toMatch(/stale/);
  });
});
