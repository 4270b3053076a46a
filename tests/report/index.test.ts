import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveRunDir, writeRunReport, writeRunReports } from '../../src/report/index.js';
import { AGENT_RUN, SCREEN_RUN } from './fixtures.js';

const BIN = fileURLToPath(new URL('../../bin/kbench.js', import.meta.url));
const GOLDEN_SCREEN = readFileSync(fileURLToPath(new URL('./golden/screen-rms_norm.md', import.meta.url)), 'utf8');

const dirs: string[] = [];
/** A work folder with the fixture runs under .kbench/runs/<id>. */
function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kbench-report-'));
  dirs.push(dir);
  for (const [id, run] of [['20261127-060000-a1b2', SCREEN_RUN], ['20261127-070000-c3d4', AGENT_RUN]]) {
    mkdirSync(join(dir, '.kbench', 'runs', id), { recursive: true });
    cpSync(join(run, 'ledger.jsonl'), join(dir, '.kbench', 'runs', id, 'ledger.jsonl'));
  }
  return dir;
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

async function kbench(cwd: string, ...args: string[]) {
  return promisify(execFile)(process.execPath, [BIN, ...args], { cwd }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

describe('writing reports into a run folder', () => {
  it('leaves report.md and report.html beside the ledger', () => {
    const run = join(workDir(), '.kbench', 'runs', '20261127-060000-a1b2');
    const { markdownPath, htmlPath } = writeRunReports(run);
    expect(readFileSync(markdownPath, 'utf8')).toBe(GOLDEN_SCREEN);
    expect(readFileSync(htmlPath, 'utf8')).toMatch(/^<!doctype html>/);
    expect(writeRunReport(run, 'gbench')).toBe(join(run, 'report.gbench.json'));
    expect(existsSync(join(run, 'report.gbench.json'))).toBe(true);
  });
});

describe('finding a run', () => {
  it('takes an id, a folder, or nothing for the latest run', () => {
    const dir = workDir();
    const runs = join(dir, '.kbench', 'runs');
    expect(resolveRunDir(dir)).toBe(join(runs, '20261127-070000-c3d4'));
    expect(resolveRunDir(dir, '20261127-060000-a1b2')).toBe(join(runs, '20261127-060000-a1b2'));
    expect(resolveRunDir(dir, '.kbench/runs/20261127-060000-a1b2')).toBe(join(runs, '20261127-060000-a1b2'));
    expect(() => resolveRunDir(dir, 'nope')).toThrow(/no run 'nope'/);
    expect(() => resolveRunDir(mkdtempSync(join(tmpdir(), 'kbench-empty-')))).toThrow(/no runs in .* yet/);
  });
});

describe('kbench report', () => {
  it('prints Markdown by default, JSON with --json, and refuses two formats or an unknown one (exit 2)', async () => {
    const dir = workDir();
    const md = await kbench(dir, 'report', '20261127-060000-a1b2');
    expect(md).toEqual({ code: 0, stdout: GOLDEN_SCREEN, stderr: '' });
    const json = await kbench(dir, 'report', '--json');
    expect(JSON.parse(json.stdout).run.id).toBe('20261127-070000-c3d4');
    const two = await kbench(dir, 'report', '--html', '--md');
    expect([two.code, two.stderr]).toEqual([2, 'kbench: choose one report format, not html and md\n']);
    const bogus = await kbench(dir, 'report', '--format', 'csv');
    expect([bogus.code, bogus.stderr]).toEqual([2, "kbench: --format: unknown format 'csv' (one of md, html, json, gbench)\n"]);
  });
});
