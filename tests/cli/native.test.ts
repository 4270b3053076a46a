// The native commands as a user runs them: `kbench hosts`, `kbench run`, `kbench calibrate`, each with --json.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, tempDir } from '../helpers/fixtures.js';
import { BUILTIN_KERNELS_DIR } from '../../src/spec/suite.js';
import { hasCommand, missing } from '../helpers/require.js';
import { writeMemoryFloorRun } from '../helpers/results.js';

const run = promisify(execFile);
const kbench = (cwd: string, ...args: string[]) => run('node', [CLI, ...args], { cwd, encoding: 'utf8' });

describe.skipIf(missing('a C compiler (cc)', hasCommand('cc')))('native commands', () => {
  const work = tempDir();

  it('lists the implicit hosts with their reachability', async () => {
    const { stdout } = await kbench(work, '--json', 'hosts');
    const hosts = JSON.parse(stdout).hosts;
    expect(hosts.map((h: { name: string }) => h.name)).toEqual(['local', 'qemu-aarch64']);
    expect(hosts[0].probe).toMatchObject({ reachable: true });
  });

  it('runs one candidate natively, saves the run, and calibrate finds nothing to compare without a screen', async () => {
    const { stdout } = await kbench(work, '--json', 'run', 'rms_norm', '--on', 'local', '-c', 'vec4', '--check-only');
    const out = JSON.parse(stdout);
    expect(out.results).toHaveLength(1);
    expect(out.results[0]).toMatchObject({ candidate: 'vec4', target: 'local', arch: 'x86_64', check: { status: 'pass' }, speed: [] });
    expect(out.dir).toContain('.kbench/runs/');
    const cal = JSON.parse((await kbench(work, '--json', 'calibrate')).stdout);
    expect(cal).toMatchObject({ runs: 1, hosts: [] });
  });

  it('a baseline that does not define the spec\'s function is a spec error naming baseline.c and "function", with no run left', async () => {
    const cwd = tempDir();
    const dir = join(cwd, 'suite', 'rms_norm');
    cpSync(join(BUILTIN_KERNELS_DIR, 'rms_norm'), dir, { recursive: true });
    writeFileSync(join(dir, 'baseline.c'), readFileSync(join(dir, 'baseline.c'), 'utf8').replace(/void rms_norm\(/, 'void rms_norm_v2('));
    const failed = kbench(cwd, 'run', 'rms_norm', '--kernels', 'suite', '--on', 'local', '-c', 'vec4', '--check-only');
    await expect(failed).rejects.toMatchObject({ code: 2, stderr: `kbench: ${join(dir, 'baseline.c')}: does not define rms_norm(), the "function" of ${join(dir, 'kernel.json')}\n` });
    expect(existsSync(join(cwd, '.kbench', 'runs')) ? readdirSync(join(cwd, '.kbench', 'runs')) : []).toEqual([]);
  });

  it('refuses an unknown host with exit status 2 and the known names', async () => {
    await expect(kbench(work, 'run', 'rms_norm', '--on', 'nowhere')).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown host 'nowhere' \(known: local, qemu-aarch64/) });
  });
});

describe('kbench calibrate', () => {
  it('prints the memory floor it fitted and ρ among the winners with it', async () => {
    const cwd = tempDir();
    writeMemoryFloorRun(cwd);
    const { stdout } = await kbench(cwd, 'calibrate');
    expect(stdout).toContain("x86a vs screen wasm (4 lanes, no FMA): memory floor k = 2.00 × the native time to read a call's buffers once, c = 1.50× in WASM");
    const header = stdout.split('\n').find((l) => l.includes('with floor'))!;
    const all = stdout.split('\n').find((l) => l.startsWith('x86a'))!.split(/\s{2,}/);
    const column = header.split(/\s{2,}/).indexOf('with floor');
    expect(Number(all[column])).toBeGreaterThan(Number(all[column - 1]));
  });
});
