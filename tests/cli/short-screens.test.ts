// A screen that ends within a second (everything cached, the candidate refused before compiling) closes the yowasp
// compiler while it is still warming. Terminating it then used to kill the whole process (SIGSEGV, abort) in about
// half of the runs: no JSON, no exit code that means anything.
import { execFile } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, FIXTURE_KERNELS, HOSTILE, tempDir } from '../helpers/fixtures.js';
import { readLedger } from '../../src/ledger/ledger.js';

const run = promisify(execFile);

async function kbench(args: string[], cwd: string): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [CLI, ...args], { cwd, maxBuffer: 16 << 20 });
    return { code: 0, signal: null, stdout, stderr };
  } catch (e) {
    const err = e as { code: number | null; signal: string | null; stdout: string; stderr: string };
    return { code: err.code, signal: err.signal, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('short screens', () => {
  it('20 screens of a refused candidate in a row: each exits 0 with its JSON and a complete ledger', async () => {
    const cwd = tempDir();
    cpSync(join(FIXTURE_KERNELS, 'scale_rows'), join(cwd, 'suite', 'scale_rows'), { recursive: true });
    cpSync(join(HOSTILE, 'include_host_file.c'), join(cwd, 'bad.c'));
    const args = ['screen', 'scale_rows', '--kernels', 'suite', '--candidate', './bad.c', '--json', '--cc', 'yowasp'];
    // the first run builds the reference and the baseline; later ones find them cached and end within a second
    const outcomes = [];
    for (let i = 0; i < 21; i++) outcomes.push(await kbench(args, cwd));
    const failures = outcomes.filter((o) => o.code !== 0).map((o) => `exit ${o.code ?? o.signal}: ${o.stderr.slice(-300)}`);
    expect(failures).toEqual([]);
    for (const o of outcomes) {
      const out = JSON.parse(o.stdout);
      expect(out.results.map((r: { check: { status: string } }) => r.check.status)).toEqual(['pass', 'compile-error']);
      expect(out.results[1].check.diagnostic).toMatch(/\/etc\/passwd/);
      const events = readLedger(join(out.dir, 'ledger.jsonl'));
      expect(events.map((e) => e.type)).toEqual(['run-start', 'result', 'result', 'run-end']);
      expect(readFileSync(join(out.dir, 'ledger.jsonl'), 'utf8').endsWith('\n')).toBe(true);
    }
  }, 400_000); // about 30 s on an idle machine
});
