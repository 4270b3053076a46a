// Every command's --json names its schema (`kbench.<command>/1`) and writes only keys documented in
// docs/cli-schemas.md (TargetResult, under `results`, is documented in docs/screen-schema.md).
import { execFile } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, tempDir } from '../helpers/fixtures.js';
import { hasCommand } from '../helpers/require.js';
import { AGENT_RUN, SCREEN_RUN } from '../report/fixtures.js';

const doc = (name: string) => readFileSync(fileURLToPath(new URL(`../../docs/${name}`, import.meta.url)), 'utf8');
const CLI_DOC = doc('cli-schemas.md');
/** every identifier written inside backticks */
const DOCUMENTED = new Set([...CLI_DOC.matchAll(/`([^`]+)`/g)].flatMap((m) => m[1].match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []));

/** Values whose keys are documented elsewhere: TargetResult (screen-schema.md), a kernel's C signature (kernel.schema.json). */
const ELSEWHERE = new Set(['results', 'function']);

function keysOf(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => keysOf(v, into));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      into.add(k);
      if (!ELSEWHERE.has(k)) keysOf(v, into);
    }
  return into;
}

const work = tempDir('kbench-schemas-');

async function json(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, '--json', ...args], { cwd: work, encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(stdout);
}

beforeAll(() => {
  // two past runs: a screen and an agent run promoted to native hosts, so runs and calibrate have something to say
  cpSync(SCREEN_RUN, join(work, '.kbench', 'runs', '20261127-060000-a1b2'), { recursive: true });
  cpSync(AGENT_RUN, join(work, '.kbench', 'runs', '20261127-070000-c3d4'), { recursive: true });
});

const COMMANDS: [string, string[]][] = [
  ['list', ['list']],
  ['doctor', ['doctor']],
  ['hosts', ['hosts']],
  ['hosts-check', ['hosts', 'check', 'local']],
  ['hosts-up', ['hosts', 'up', 'c7i', '--arch', 'x86', '--dry-run']],
  ['runs', ['runs']],
  ['calibrate', ['calibrate']],
  ['new', ['new', 'foo', '--kernels', 'k']],
  ['promote', ['promote', '--on', 'local', '--run', '.kbench/runs/20261127-060000-a1b2']],
  ...(hasCommand('cc') ? ([['run', ['run', 'rms_norm', '-c', 'vec4', '--check-only']]] as [string, string[]][]) : []),
];

describe('the --json of every command', () => {
  it.each(COMMANDS)('%s: names its schema and documents every key', async (name, args) => {
    const out = await json(...args);
    expect(out.schema).toBe(`kbench.${name}/1`);
    expect(CLI_DOC).toContain(`\`kbench.${name}/1\``);
    const undocumented = [...keysOf(out)].filter((k) => !DOCUMENTED.has(k));
    expect(undocumented).toEqual([]);
  }, 120_000);

  it('calibrate and runs had data to show (the check above is not vacuous)', async () => {
    const runs = (await json('runs')).runs as unknown[];
    expect(runs.length).toBeGreaterThanOrEqual(2);
  });
});
