import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { planSkyHost, renderSkyTask, SkyCommandError, skyDown, skyUp, spawnRunner, type CommandRunner } from '../../src/remote/skypilot.js';
import { UsageError } from '../../src/errors.js';

const BIN = fileURLToPath(new URL('../../bin/kbench.js', import.meta.url));
const dirs: string[] = [];
function workDir(config?: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'kbench-sky-'));
  dirs.push(dir);
  if (config) writeFileSync(join(dir, 'kbench.config.json'), JSON.stringify(config, null, 2));
  return dir;
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function fakeSky(code = 0): { calls: string[][]; run: CommandRunner } {
  const calls: string[][] = [];
  return { calls, run: async (cmd, args) => (calls.push([cmd, ...args]), { code, stdout: '', stderr: code ? 'sky: no AWS credentials' : '' }) };
}

describe('the SkyPilot task YAML', () => {
  it('for x86 asks for a c7i.xlarge on demand with autostop, installs gcc and make, and has no workdir', () => {
    const task = parse(renderSkyTask(planSkyHost({ name: 'c7i', arch: 'x86' })));
    expect(task.name).toBe('kbench-c7i');
    expect(task.resources).toEqual({ infra: 'aws', instance_type: 'c7i.xlarge', use_spot: false, autostop: { idle_minutes: 30, down: false } });
    expect(task.setup).toMatch(/apt-get install -y .*\bgcc make\b/);
    expect(task.run).toMatch(/gcc --version/);
    expect(task.run).toMatch(/avx2/);
    expect(task).not.toHaveProperty('workdir');
    expect(task).not.toHaveProperty('file_mounts');
  });

  it('for ARM asks for a Graviton c7g.xlarge, and a spot VM is torn down when idle', () => {
    const task = parse(renderSkyTask(planSkyHost({ name: 'grav', arch: 'arm', spot: true, autostopMinutes: 15 })));
    expect(task.resources).toEqual({ infra: 'aws', instance_type: 'c7g.xlarge', use_spot: true, autostop: { idle_minutes: 15, down: true } });
    expect(task.run).toMatch(/asimd/);
  });
});

describe('planning a SkyPilot host', () => {
  it('prices hosts from the dated table, spot at its share of on-demand', () => {
    expect(planSkyHost({ name: 'a', arch: 'arm' })).toMatchObject({ arch: 'aarch64', usdPerHour: 0.145, cores: 4 });
    expect(planSkyHost({ name: 'a', arch: 'x86', instanceType: 'c7a.xlarge' }).usdPerHour).toBe(0.205);
    expect(planSkyHost({ name: 'a', arch: 'x86', spot: true }).usdPerHour).toBeCloseTo(0.1785 * 0.45, 4);
  });

  it('refuses an instance type of the other architecture, an unpriced one, or a bad name', () => {
    expect(() => planSkyHost({ name: 'a', arch: 'x86', instanceType: 'c7g.xlarge' })).toThrow(/c7g.xlarge is aarch64, not --arch x86/);
    expect(() => planSkyHost({ name: 'a', arch: 'x86', instanceType: 'm7i.large' })).toThrow(/not in the price table.*--usd-per-hour/);
    expect(planSkyHost({ name: 'a', arch: 'x86', instanceType: 'm7i.large', usdPerHour: 0.1 }).usdPerHour).toBe(0.1);
    expect(() => planSkyHost({ name: '-x', arch: 'x86' })).toThrow(UsageError);
  });
});

describe('kbench hosts up and down', () => {
  it('launches with the exact sky argv, then adds the host while keeping the rest of the config', async () => {
    const dir = workDir({ $schema: './schema.json', kernels: 'my-kernels', hosts: [{ name: 'box', executor: 'ssh', arch: 'x86_64', sshOptions: ['-p', '2222'] }] });
    const sky = fakeSky();
    const up = await skyUp(dir, { name: 'c7i', arch: 'x86' }, sky.run);
    expect(up.yamlPath).toBe(join(dir, '.kbench', 'sky', 'c7i.yaml'));
    expect(sky.calls).toEqual([['sky', 'launch', '-c', 'c7i', up.yamlPath, '-d', '-y']]);
    expect(JSON.parse(readFileSync(join(dir, 'kbench.config.json'), 'utf8'))).toEqual({
      $schema: './schema.json',
      kernels: 'my-kernels',
      hosts: [
        { name: 'box', executor: 'ssh', arch: 'x86_64', sshOptions: ['-p', '2222'] },
        { name: 'c7i', executor: 'ssh', arch: 'x86_64', usdPerHour: 0.1785, cores: 4 },
      ],
    });
    const down = await skyDown(dir, 'c7i', sky.run);
    expect(sky.calls[1]).toEqual(['sky', 'down', 'c7i', '-y']);
    expect(down.removed).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'kbench.config.json'), 'utf8')).hosts.map((h: { name: string }) => h.name)).toEqual(['box']);
  });

  it('leaves the config alone when sky launch fails, and says what sky said', async () => {
    const dir = workDir();
    await expect(skyUp(dir, { name: 'c7g', arch: 'arm' }, fakeSky(1).run)).rejects.toThrow(SkyCommandError);
    await expect(skyUp(dir, { name: 'c7g', arch: 'arm' }, fakeSky(1).run)).rejects.toThrow(/sky launch -c c7g .* failed \(exit 1\):\nsky: no AWS credentials/);
    expect(() => readFileSync(join(dir, 'kbench.config.json'))).toThrow();
  });

  it('explains how to install SkyPilot when sky is missing', async () => {
    await expect(skyDown(workDir(), 'x', spawnRunner({ PATH: '/nonexistent' }))).rejects.toThrow(/pip install "skypilot\[aws\]"/);
  });

  it('exits 2 from the CLI with the install hint when sky is not on PATH', async () => {
    const dir = workDir();
    const run = promisify(execFile)(process.execPath, [BIN, 'hosts', 'up', 'c7i', '--arch', 'x86'], { cwd: dir, env: { PATH: join(dir, 'no-bin') } });
    const failure = await run.then(() => undefined, (e: { code: number; stderr: string }) => e);
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain('pip install "skypilot[aws]"');
  });
});
