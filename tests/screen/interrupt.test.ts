// Ctrl-C during a screen stops the sandbox job in progress at once (not after its 20 s timeout): the run ends
// interrupted, with what finished saved and the interrupted candidate left out rather than given a verdict.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLedger } from '../../src/ledger/ledger.js';
import { runScreen } from '../../src/screen/run.js';
import { CLI, FIXTURE_KERNELS, HOSTILE, tempDir } from '../helpers/fixtures.js';

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

// Ctrl-C at the terminal reaches the whole process group (the sandbox host included); a script's kill reaches
// kbench alone; an impatient user presses twice. Each time the screen prints what finished, says it was
// interrupted, exits 130, within seconds, and never keeps a verdict of the candidate it stopped.
describe('Ctrl-C during kbench screen from the command line', () => {
  const cwd = tempDir();
  cpSync(join(FIXTURE_KERNELS, 'scale_rows'), join(cwd, 'suite', 'scale_rows'), { recursive: true });
  const looping = readFileSync(join(HOSTILE, 'infinite_loop.c'), 'utf8');
  const args = ['screen', '--kernels', 'suite', '--cc', 'yowasp', '--json', '--pairs', '9', '--sample-ms', '1'];

  /** Starts a screen, waits for the baseline's result in the ledger, then interrupts the next candidate. */
  async function interrupted(how: 'group' | 'process' | 'twice', extraMs: number) {
    // a source never seen before: the interrupt may land while it compiles, between two sandbox jobs
    writeFileSync(join(cwd, 'suite', 'scale_rows', 'candidates', 'infinite_loop.c'), `${looping}\n/* ${how} ${extraMs} */\n`);
    const before = new Set(existsSync(join(cwd, '.kbench', 'runs')) ? readdirSync(join(cwd, '.kbench', 'runs')) : []);
    const child = spawn(process.execPath, [CLI, ...args], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal!)));
    const ledger = async () => {
      for (;;) {
        const dirs = existsSync(join(cwd, '.kbench', 'runs')) ? readdirSync(join(cwd, '.kbench', 'runs')).filter((d) => !before.has(d)) : [];
        const file = dirs.length ? join(cwd, '.kbench', 'runs', dirs[0], 'ledger.jsonl') : '';
        if (file && existsSync(file) && readFileSync(file, 'utf8').includes('"type":"result"')) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await ledger();
    await new Promise((r) => setTimeout(r, extraMs));
    const interruptedAt = performance.now();
    // the second Ctrl-C of 'twice' may find kbench and its group already gone (ESRCH): nothing left to interrupt
    const sigint = () => {
      try {
        if (how === 'process') child.kill('SIGINT');
        else process.kill(-child.pid!, 'SIGINT');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
    };
    sigint();
    if (how === 'twice') setTimeout(sigint, 100);
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running 20 s later'), 20_000))]);
    const stopMs = performance.now() - interruptedAt;
    if (typeof code === 'string' && code.startsWith('still')) process.kill(-child.pid!, 'SIGKILL');
    return { code, stdout, stderr, stopMs };
  }

  // 'group': the terminal's Ctrl-C; 'process': kill -INT of kbench alone; 'twice': two Ctrl-C 100 ms apart
  const tries: ['group' | 'process' | 'twice', number][] = [['group', 0], ['group', 300], ['process', 150], ['twice', 0], ['group', 800], ['process', 600]];
  it.each(tries)('Ctrl-C (%s), %i ms into the next candidate: output, exit 130, the candidate left out', async (how, extraMs) => {
    const { code, stdout, stderr, stopMs } = await interrupted(how, extraMs);
    expect({ code, stderr }).toMatchObject({ code: 130, stderr: expect.stringMatching(/kbench: interrupted/) });
    expect(stderr).not.toMatch(/internal error|ERR_IPC/);
    expect(stopMs).toBeLessThan(10_000);
    const out = JSON.parse(stdout);
    expect(out.interrupted).toBe(true);
    expect(out.results.map((r: { candidate: string; check: { status: string } }) => `${r.candidate}:${r.check.status}`)).toEqual(['baseline:pass']);
    const events = readLedger(join(out.dir, 'ledger.jsonl'));
    expect(events.at(-1)).toMatchObject({ type: 'run-end', status: 'interrupted' });
  }, 60_000);
});
