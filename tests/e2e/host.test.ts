// The host layer of kbench e2e on this machine (the same code runs over ssh: tests/cli/e2e-ssh.test.ts): the build
// lock serializes two builders and takes over a lock whose process is gone; files shipped once are placed whole.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { locked } from '../../src/e2e/build.js';
import { localE2e, readOn, runOn, shipOnce } from '../../src/e2e/host.js';

describe('the e2e host layer on this machine', () => {
  const work = mkdtempSync(join(tmpdir(), 'kbench-e2e-host-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const h = localE2e();

  it('the build lock lets one builder at a time into a folder, and is released when it ends', async () => {
    const dir = join(work, 'build');
    const log = join(work, 'order.log');
    const step = (name: string) => runOn(h, locked(dir, `echo "${name} in" >> ${log}; sleep 0.4; echo "${name} out" >> ${log}`));
    const results = await Promise.all([step('a'), step('b'), step('c')]);
    expect(results.map((r) => r.exitCode)).toEqual([0, 0, 0]);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    // never two inside at once: every "in" is followed by its own "out"
    for (let i = 0; i < lines.length; i += 2) expect(lines[i + 1]).toBe(lines[i].replace(' in', ' out'));
    expect(lines).toHaveLength(6);
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });

  it('a lock left by a process that is gone is taken over', async () => {
    const dir = join(work, 'stale');
    const gone = spawn('true');
    await new Promise((r) => gone.on('exit', r));
    mkdirSync(`${dir}.lock`, { recursive: true });
    writeFileSync(join(`${dir}.lock`, 'pid'), String(gone.pid));
    const r = await runOn(h, locked(dir, 'echo built'), { timeoutMs: 20_000 });
    expect(r.stdout.trim()).toBe('built');
  });

  it('ships a folder once, whole, and leaves no part folder behind', async () => {
    const from = join(work, 'from');
    mkdirSync(from);
    writeFileSync(join(from, 'a.txt'), 'one');
    writeFileSync(join(from, 'skip.txt'), 'not shipped');
    const dest = join(work, 'shipped', 'tree');
    await shipOnce(h, from, ['a.txt'], dest, 'a.txt');
    expect(await readOn(h, join(dest, 'a.txt'))).toBe('one');
    expect(existsSync(join(dest, 'skip.txt'))).toBe(false);
    writeFileSync(join(from, 'a.txt'), 'two');
    await shipOnce(h, from, ['a.txt'], dest, 'a.txt');
    expect(await readOn(h, join(dest, 'a.txt'))).toBe('one');
    expect(readdirSync(join(work, 'shipped'))).toEqual(['tree']);
    expect(await readOn(h, join(dest, 'missing'))).toBeNull();
  });
});
