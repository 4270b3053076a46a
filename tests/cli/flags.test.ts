// Issue 14 through the real CLI: one meaning per flag, the global options in every help, and the smaller
// surprises (run's default host and host pre-check, promote's kernels folder and shared-arch hosts, new outside a
// project, hosts up --dry-run, exit 3 for an unreachable host).
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, tempDir } from '../helpers/fixtures.js';
import { hasCommand, missing } from '../helpers/require.js';
import { SCREEN_RUN } from '../report/fixtures.js';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function kbench(cwd: string, ...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** An ssh host nothing answers for: port 1 of 127.0.0.1 refuses at once. */
const GONE = { name: 'gone', executor: 'ssh', ssh: '127.0.0.1', arch: 'x86_64', sshOptions: ['-p', '1', '-o', 'BatchMode=yes'], connectTimeoutS: 3 };

function project(config: object): string {
  const dir = tempDir('kbench-flags-');
  writeFileSync(join(dir, 'kbench.config.json'), JSON.stringify(config));
  return dir;
}

describe('one meaning per flag', () => {
  it.each([
    [['--pairs', '9.5'], /--pairs: expected a whole number ≥ 9, got '9.5'/],
    [['--pairs', '5'], /--pairs: expected a whole number ≥ 9/],
    [['--noise-floor', '5'], /--noise-floor: expected a fraction in \[0, 1\), got '5'/],
    [['--sample-ms', '0'], /--sample-ms: expected a positive number, got '0'/],
    [['--seed', '-1'], /--seed: expected a whole number in \[0, 4294967295\]/],
  ])('screen refuses %j as run does (exit 2, nothing saved)', async (flag, message) => {
    const cwd = tempDir('kbench-flags-');
    for (const command of [['screen', 'rms_norm'], ['run', 'rms_norm'], ['promote', '--on', 'local']]) {
      const out = await kbench(cwd, ...command, ...flag);
      expect(out.code, command).toBe(2);
      expect(out.stderr, command).toMatch(message);
    }
    expect(existsSync(join(cwd, '.kbench'))).toBe(false);
  });

  it('shows the same help for a shared flag, with each command its own default', async () => {
    const cwd = tempDir('kbench-flags-');
    const help = async (...args: string[]) => (await kbench(cwd, ...args, '--help')).stdout.replace(/\s+/g, ' ');
    const screen = await help('screen');
    const run = await help('run');
    expect(screen).toMatch(/--sample-ms <ms> minimum duration of one timed batch in ms, > 0; a sample is the fastest of 5 batches \(default: 0.5\)/);
    expect(run).toMatch(/--sample-ms <ms> minimum duration of one timed batch in ms, > 0; a sample is the fastest of 5 batches \(default: 0.5\)/);
    expect(screen).toMatch(/--pairs <n> .*coarse filter and takes 11.* \(default: 11\)/);
    expect(run).toMatch(/--pairs <n> .*coarse filter and takes 11.* \(default: 21\)/);
    expect(run).toMatch(/--on <host> .*\(default: "local"\)/);
  });

  it('lists the global --json and --kernels in every sub-command\'s help, and examples where promised', async () => {
    const cwd = tempDir('kbench-flags-');
    const commands = [['screen'], ['list'], ['doctor'], ['report'], ['compare'], ['new'], ['agent'], ['runs'], ['hosts'], ['hosts', 'check'], ['hosts', 'up'], ['hosts', 'down'], ['run'], ['promote'], ['calibrate']];
    for (const c of commands) {
      const { stdout, code } = await kbench(cwd, ...c, '--help');
      expect(code, c.join(' ')).toBe(0);
      expect(stdout, c.join(' ')).toMatch(/Global Options:[\s\S]*--kernels <dir>[\s\S]*--json/);
    }
    for (const c of [['run'], ['promote'], ['calibrate'], ['runs'], ['hosts'], ['hosts', 'check']]) expect((await kbench(cwd, ...c, '--help')).stdout, c.join(' ')).toContain('Examples:');
  });
});

describe('run and hosts with a host that does not answer', () => {
  it('run probes the host first: one message naming it, exit 3, no run saved', async () => {
    const cwd = project({ hosts: [GONE] });
    const out = await kbench(cwd, 'run', 'rms_norm', '--on', 'gone');
    expect(out.code).toBe(3);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).toMatch(/^kbench: host gone \(ssh 127\.0\.0\.1\) is unreachable: .*; nothing was run or saved/);
    expect(existsSync(join(cwd, '.kbench'))).toBe(false);
  });

  it('hosts check exits 3 (not 1, which is kbench failing) for an unreachable host', async () => {
    const cwd = project({ hosts: [GONE] });
    const out = await kbench(cwd, 'hosts', 'check', 'gone');
    expect(out.code).toBe(3);
    expect(out.stdout).toMatch(/gone\s+unreachable/);
  });

  it('promote probes its hosts first: exit 3, and the ledger is untouched', async () => {
    const cwd = project({ hosts: [GONE] });
    const run = join(cwd, 'screen-run');
    cpSync(SCREEN_RUN, run, { recursive: true });
    const before = readFileSync(join(run, 'ledger.jsonl'), 'utf8');
    const out = await kbench(cwd, 'promote', '--on', 'local,gone', '--run', run);
    expect(out.code).toBe(3);
    expect(out.stderr).toMatch(/host gone \(ssh 127\.0\.0\.1\) is unreachable/);
    expect(out.stderr).not.toMatch(/host local/);
    expect(readFileSync(join(run, 'ledger.jsonl'), 'utf8')).toBe(before);
  });
});

describe('promote', () => {
  /** A screen run that recorded `kernelsDir`, as `kbench screen` now does. */
  function screenRun(cwd: string, kernelsDir: string): string {
    const run = join(cwd, 'screen-run');
    cpSync(SCREEN_RUN, run, { recursive: true });
    const [start, ...rest] = readFileSync(join(run, 'ledger.jsonl'), 'utf8').split('\n');
    writeFileSync(join(run, 'ledger.jsonl'), [JSON.stringify({ ...JSON.parse(start), kernelsDir }), ...rest].join('\n'));
    return run;
  }

  it('takes the kernels from the folder its screen used, and says when hosts of one arch share the work', async () => {
    const cwd = project({ hosts: [{ name: 'twin', executor: 'local', arch: 'x86_64' }] });
    const elsewhere = join(cwd, 'my-kernels');
    mkdirSync(elsewhere);
    const run = screenRun(cwd, elsewhere);
    const out = await kbench(cwd, 'promote', '--on', 'local,twin', '--run', run);
    // the recorded folder (empty here) is where promote looked, not the built-in suite that has rms_norm
    expect(out.stderr).toContain(`unknown kernel 'rms_norm' in ${elsewhere}`);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/kbench: local, twin are all x86_64: each candidate runs on one of them, not on each \(--every-host runs it on each\)/);
    const every = await kbench(cwd, 'promote', '--on', 'local,twin', '--run', run, '--every-host');
    expect(every.stderr).not.toMatch(/are all x86_64/);
  });
});

describe('kbench new outside a project', () => {
  it('scaffolds into ./kernels, never into the installed package', async () => {
    const cwd = tempDir('kbench-flags-');
    const out = await kbench(cwd, '--json', 'new', 'gelu');
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout).dir).toBe(join(cwd, 'kernels', 'gelu'));
    expect(existsSync(join(cwd, 'kernels', 'gelu', 'kernel.json'))).toBe(true);
    expect((await kbench(cwd, 'new', 'relu')).stdout).toContain('next: kbench screen relu --kernels kernels');
  });
});

describe('kbench hosts up', () => {
  it('--dry-run prints the task, the sky command and the config entry, and writes nothing', async () => {
    const cwd = tempDir('kbench-flags-');
    const out = await kbench(cwd, 'hosts', 'up', 'c7i', '--arch', 'x86', '--dry-run');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('instance_type: c7i.xlarge');
    expect(out.stdout).toMatch(/would run: sky launch -c c7i .*c7i\.yaml -d -y/);
    expect(existsSync(join(cwd, '.kbench'))).toBe(false);
    expect(existsSync(join(cwd, 'kbench.config.json'))).toBe(false);
  });

  it('refuses a name SkyPilot would reject (exit 2)', async () => {
    const out = await kbench(tempDir('kbench-flags-'), 'hosts', 'up', 'x86-', '--arch', 'x86', '--dry-run');
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/host name 'x86-': SkyPilot cluster names start with a letter, end with a letter or digit/);
  });

  it('exits 3 when sky fails, saying what sky said and where the task stays', async () => {
    const cwd = tempDir('kbench-flags-');
    mkdirSync(join(cwd, 'bin'));
    writeFileSync(join(cwd, 'bin', 'sky'), '#!/bin/sh\necho "sky: no AWS credentials" >&2\nexit 1\n', { mode: 0o755 });
    const out = await promisify(execFile)(process.execPath, [CLI, 'hosts', 'up', 'c7i', '--arch', 'x86'], { cwd, env: { PATH: `${join(cwd, 'bin')}:/usr/bin:/bin` } }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(out.code).toBe(3);
    expect(out.stderr).toMatch(/sky launch -c c7i .* failed \(exit 1\):\nsky: no AWS credentials\nthe task stays in .*c7i\.yaml/);
    expect(existsSync(join(cwd, 'kbench.config.json'))).toBe(false);
  });

  it('leaves no task YAML behind when sky is missing', async () => {
    const cwd = tempDir('kbench-flags-');
    const out = await promisify(execFile)(process.execPath, [CLI, 'hosts', 'up', 'c7i', '--arch', 'x86'], { cwd, env: { PATH: join(cwd, 'no-bin') } }).then(
      () => ({ code: 0 }),
      (e: { code: number }) => e,
    );
    expect(out.code).toBe(2);
    expect(existsSync(join(cwd, '.kbench', 'sky', 'c7i.yaml'))).toBe(false);
  });
});

describe.skipIf(missing('a C compiler (cc)', hasCommand('cc')))('kbench run without --on', () => {
  it('runs on local', async () => {
    const cwd = tempDir('kbench-flags-');
    const out = await kbench(cwd, '--json', 'run', 'rms_norm', '-c', 'vec4', '--check-only');
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout).results[0]).toMatchObject({ candidate: 'vec4', target: 'local', check: { status: 'pass' } });
  }, 120_000);
});

describe('a reader that closes the pipe', () => {
  it('ends kbench quietly with the exit code it had, not with an EPIPE stack trace', () => {
    // `true` exits before node has started, so every write of the help hits a closed pipe
    const piped = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" --help | true; echo "status $\{PIPESTATUS[0]}" >&2`], { encoding: 'utf8' });
    expect(piped.stderr).not.toMatch(/EPIPE|Error/);
    expect(piped.stderr).toMatch(/^status 0$/m);
  });
});
