// The native commands as a user runs them: `kbench hosts`, `kbench run`, `kbench calibrate`, each with --json.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, tempDir } from '../helpers/fixtures.js';
import { hasCommand, missing } from '../helpers/require.js';

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

  it('refuses an unknown host with exit status 2 and the known names', async () => {
    await expect(kbench(work, 'run', 'rms_norm', '--on', 'nowhere')).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown host 'nowhere' \(known: local, qemu-aarch64/) });
  });
});
