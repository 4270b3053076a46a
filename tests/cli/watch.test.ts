// `kbench screen <kernel> --candidate file.c --watch`: a round per save, with a warm compiler and the baseline
// checked once; Ctrl-C ends it (130) and nothing goes to .kbench/runs.
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, FIXTURE_KERNELS, tempDir } from '../helpers/fixtures.js';

describe('kbench screen --watch', () => {
  it('screens the candidate again on each save, one JSON line a round, and saves no run', async () => {
    const cwd = tempDir('kbench-watch-');
    cpSync(FIXTURE_KERNELS, join(cwd, 'k'), { recursive: true });
    const file = join(cwd, 'mine.c');
    cpSync(join(FIXTURE_KERNELS, 'scale_rows', 'candidates', 'same.c'), file);
    const child = spawn(process.execPath, [CLI, '--json', 'screen', 'scale_rows', '--kernels', 'k', '-c', 'mine.c', '--watch', '--pairs', '9', '--sample-ms', '1'], { cwd });
    const rounds: { round: number; elapsedMs: number; schema: string; result: { candidate: string; sourceSha256: string; check: { status: string } } }[] = [];
    let stderr = '';
    let buffered = '';
    child.stderr.on('data', (d) => (stderr += d));
    let arrived = () => {};
    child.stdout.on('data', (d) => {
      buffered += d;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const l of lines) if (l.trim()) rounds.push(JSON.parse(l));
      arrived();
    });
    const waitFor = (n: number) =>
      new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no round ${n} in time; stderr: ${stderr}`)), 90_000);
        const check = () => rounds.length >= n && (clearTimeout(t), resolve());
        arrived = check;
        check();
      });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    await waitFor(1);
    appendFileSync(file, '\n// an edit\n');
    await waitFor(2);
    child.kill('SIGINT');
    expect(await exited).toBe(130);

    expect(rounds.map((r) => [r.schema, r.round, r.result.candidate, r.result.check.status])).toEqual([
      ['kbench.screen-watch/1', 1, 'mine', 'pass'],
      ['kbench.screen-watch/1', 2, 'mine', 'pass'],
    ]);
    expect(rounds[1].result.sourceSha256).not.toBe(rounds[0].result.sourceSha256);
    // the compiler is warm for round 2: nothing like the cold start of a one-off screen
    expect(rounds[1].elapsedMs).toBeLessThan(6_000);
    expect(existsSync(join(cwd, '.kbench', 'runs'))).toBe(false);
  }, 150_000);

  it('needs one kernel and a candidate (exit 2)', async () => {
    const child = spawn(process.execPath, [CLI, 'screen', '--watch'], { cwd: tempDir('kbench-watch-') });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(2);
    expect(stderr).toMatch(/--watch: name one kernel and the candidate to watch/);
  });
});
