import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { readLedger } from '../../src/ledger/ledger.js';
import type { LedgerEvent } from '../../src/ledger/records.js';
import { machineReasons, type LoadSnapshot } from '../../src/measure/stability.js';
import { loadSnapshot, snapshotFrom } from '../../src/ledger/machine.js';
import { buildReportModel } from '../../src/report/model.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderHtml } from '../../src/report/html.js';
import { SCREEN_RUN } from './fixtures.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeRunReports } from '../../src/report/index.js';
import { unstableNote, unstableWarning, withStability } from '../../src/cli/format.js';
import { renderNative } from '../../src/cli/commands/native-render.js';
import { tempDir } from '../helpers/fixtures.js';

const quiet: LoadSnapshot = { at: 't0', loadAvg1: 0.2, cpus: 2, totalTicks: 10_000, stealTicks: 0, mhz: 3000 };

function screenEvents(): LedgerEvent[] {
  return readLedger(`${SCREEN_RUN}/ledger.jsonl`);
}

/** The screen fixture with a third timed candidate (so the run's median baseline is not halfway between two), and the
 * first timed candidate's baseline taking twice as long: the machine moved during its pairs. */
function driftedRun(): { events: LedgerEvent[]; drifted: string } {
  const events = screenEvents();
  const timed = events.find((e) => e.type === 'result' && (e as Extract<LedgerEvent, { type: 'result' }>).result.speed.length)!;
  const copy = structuredClone(timed) as Extract<LedgerEvent, { type: 'result' }>;
  copy.result.candidate = 'copy';
  events.splice(events.indexOf(timed) + 1, 0, copy);
  let drifted = '';
  for (const e of events)
    if (e.type === 'result') {
      const r = (e as Extract<LedgerEvent, { type: 'result' }>).result;
      if (r.speed.length && !drifted) {
        drifted = r.candidate;
        for (const s of r.speed) {
          s.baselineNs = s.baselineNs.map((ns) => ns * 2);
          s.baselineMedianNs *= 2;
        }
      }
    }
  return { events, drifted };
}

describe('machine stability', () => {
  it('finds nothing wrong on a quiet machine', () => {
    expect(machineReasons(quiet, { ...quiet, at: 't1', loadAvg1: 1.9, totalTicks: 20_000, stealTicks: 50 })).toEqual([]);
  });

  it('counts what other programs did during the run from CPU ticks, less kbench\'s own, where it has them', () => {
    const start: LoadSnapshot = { ...quiet, loadAvg1: 3.1, totalTicks: 10_000, idleTicks: 8_000, stealTicks: 0, ownTicks: 500 };
    // 10 s on 2 CPUs: kbench used one (1000 ticks), the other stayed idle; the load average still showed others'
    // work that had ended just before the run, which the ticks say nothing of
    expect(machineReasons(start, { ...start, at: 't1', loadAvg1: 2.5, totalTicks: 12_000, idleTicks: 8_950, ownTicks: 1_500 })).toEqual([]);
    // two busy loops took 1.5 CPUs' worth beside kbench's own
    expect(machineReasons({ ...start, loadAvg1: 0.1 }, { ...start, at: 't1', totalTicks: 12_000, idleTicks: 8_000, ownTicks: 1_000 })).toEqual([
      'other programs kept 1.50 of the 2 CPUs busy during the run',
    ]);
    // too short a run for ticks to mean anything, or a host's snapshot (no own ticks): the load average at the start
    expect(machineReasons(start, { ...start, at: 't1', totalTicks: 10_100, idleTicks: 8_050, ownTicks: 550 })).toEqual(['the machine was busy when the run started (load average 3.10 on 2 CPUs)']);
    expect(machineReasons({ ...start, ownTicks: undefined }, { ...start, totalTicks: 12_000 })).toHaveLength(1);
  });

  it('names a busy start, steal time and a clock change', () => {
    const reasons = machineReasons({ ...quiet, loadAvg1: 8.4 }, { ...quiet, at: 't1', totalTicks: 20_000, stealTicks: 900, mhz: 2200 });
    expect(reasons).toEqual([
      'the machine was busy when the run started (load average 8.40 on 2 CPUs)',
      'the hypervisor took 9.0% of CPU time during the run (steal)',
      'the CPU clock moved from 3000 to 2200 MHz during the run',
    ]);
  });
});

describe('a register-bound candidate in reports', () => {
  it('is marked in the Markdown and HTML tables, with what its loop keeps live under them', () => {
    const events = screenEvents();
    const timed = events.find((e) => e.type === 'result' && (e as Extract<LedgerEvent, { type: 'result' }>).result.speed.length) as Extract<LedgerEvent, { type: 'result' }>;
    timed.result.registerBound = { liveValues: 24, baselineLiveValues: 16, allocatable: 15, nativeValues: 12, nativeRegisters: 16, registerName: 'ymm' };
    const model = buildReportModel(events);
    const md = renderMarkdown(model);
    const rows = md.split('\n').filter((l) => l.startsWith(`| ${timed.result.kernel} | ${timed.result.candidate} |`));
    expect(rows.length).toBe(timed.result.speed.length);
    for (const row of rows) expect(row).toContain('⚠ register-bound');
    expect(md).toContain(`${timed.result.candidate}: 24 vector values live in a loop, baseline 16, 15 registers here; natively 12 of 16 ymm`);
    expect(md.match(/register-bound/g)!.length).toBe(rows.length);
    const html = renderHtml(model);
    expect(html).toContain('title="24 vector values live in a loop, baseline 16, 15 registers here; natively 12 of 16 ymm">⚠ register-bound</span>');
    expect(renderMarkdown(buildReportModel(screenEvents()))).not.toMatch(/register-bound/i);
  });
});

describe('result stability in reports', () => {
  it('a run whose baselines agree is stable', () => {
    const model = buildReportModel(screenEvents());
    expect(model.run.stability).toEqual({ status: 'stable', reasons: [] });
    expect(model.results.every((r) => r.stability.status === 'stable')).toBe(true);
    expect(renderMarkdown(model)).not.toMatch(/unstable/i);
  });

  it('flags the result whose baseline drifted from the rest of the run, and the run, with what to do', () => {
    const { events, drifted } = driftedRun();
    const model = buildReportModel(events);
    const row = model.results.find((r) => r.candidate === drifted)!;
    expect(row.stability.status).toBe('unstable');
    expect(row.stability.reasons[0]).toMatch(/^the baseline took .* on .* here against .* across the run$/);
    expect(model.results.filter((r) => r.candidate !== drifted).every((r) => r.stability.status === 'stable')).toBe(true);
    expect(model.run.stability.status).toBe('unstable');
    const md = renderMarkdown(model);
    expect(md).toMatch(/\*\*Warning: unstable run\.\*\* 1 of 3 timed results are unstable\. Re-run on a quiet machine/);
    expect(md).toMatch(/⚠ unstable/);
    expect(renderHtml(model)).toMatch(/class="warning"><strong>Unstable run\.<\/strong>/);
  });

  it('reaches the terminal and --json of the command that ran: a flag on the row, a warning at the end', () => {
    const { events, drifted } = driftedRun();
    const dir = join(tempDir('kbench-stability-'), 'run');
    mkdirSync(dir);
    writeFileSync(join(dir, 'ledger.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const { stability } = writeRunReports(dir);
    const results = events.flatMap((e) => (e.type === 'result' ? [(e as Extract<LedgerEvent, { type: 'result' }>).result] : []));
    const table = renderNative(results, stability).split('\n');
    expect(table.filter((l) => l.includes('⚠ unstable')).length).toBeGreaterThan(0);
    expect(table.filter((l) => l.includes('⚠ unstable')).every((l) => l.includes(` ${drifted} `))).toBe(true);
    expect(results.filter((r) => r.candidate !== drifted).map((r) => unstableNote(stability, r))).toEqual(results.filter((r) => r.candidate !== drifted).map(() => ''));
    expect(unstableWarning(stability)).toMatch(/^\nwarning: unstable run: 1 of 3 timed results are unstable\.\n {2}Re-run on a quiet machine/);
    const json = withStability(stability, results);
    expect(json.stability.status).toBe('unstable');
    expect(json.results.find((r) => r.candidate === drifted)!.stability!.reasons[0]).toMatch(/^the baseline took/);
    const quietRun = join(tempDir('kbench-stability-'), 'run');
    mkdirSync(quietRun);
    writeFileSync(join(quietRun, 'ledger.jsonl'), screenEvents().map((e) => JSON.stringify(e)).join('\n') + '\n');
    expect(unstableWarning(writeRunReports(quietRun).stability)).toBe('');
  });

  it('shows the load recorded at the start and the end of the run', () => {
    const events = screenEvents().map((e) =>
      e.type === 'run-start' ? { ...e, machine: { ...(e.machine as object), load: { ...quiet, loadAvg1: 3.5 } } } : e.type === 'run-end' ? { ...e, machine: { load: { ...quiet, loadAvg1: 4 } } } : e,
    ) as LedgerEvent[];
    const md = renderMarkdown(buildReportModel(events));
    expect(md).toMatch(/load average 3\.50 at the start, 4\.00 at the end \(2 CPUs\)/);
    expect(md).toMatch(/the machine was busy when the run started \(load average 3\.50 on 2 CPUs\)/);
  });
});

describe('load snapshots of this machine', () => {
  it('read /proc/stat and kbench\'s own ticks (its process, its live descendants, its reaped children), in the same clock ticks', async () => {
    const snapshot = snapshotFrom({
      loadAvg1: 0.5,
      cpus: 2,
      procStat: 'cpu  100 5 50 1000 20 1 2 7 0 0\ncpu0 1 2 3\n',
      ownProcStats: ['4242 (node (kbench)) S 1 4242 4242 0 -1 4194560 2000 0 0 0 300 40 25 5 20 0 11 0 9999', '4250 (node) S 4242 4242 4242 0 -1 0 0 0 0 0 60 4 0 0 20 0 3 0 10000'],
    });
    expect(snapshot).toMatchObject({ totalTicks: 1185, stealTicks: 7, idleTicks: 1020, ownTicks: 370 + 64 });
    const before = loadSnapshot();
    if (before.ownTicks === undefined) return; // no /proc here: the load average rule applies
    // busy for 300 ms of CPU time, not of wall time: on a loaded machine a wall-clock loop gets fewer ticks
    const cpuMs = () => (process.cpuUsage().user + process.cpuUsage().system) / 1000;
    const until = cpuMs() + 300;
    while (cpuMs() < until);
    const afterSelf = loadSnapshot().ownTicks!;
    expect(afterSelf - before.ownTicks).toBeGreaterThanOrEqual(15);
    // a child still running (not reaped: the sandbox host while a screen ends) counts as kbench's own: it spends
    // 400 ms of CPU, says so, and stays alive
    const child = spawn(process.execPath, ['-e', 'const c = () => process.cpuUsage().user / 1000; const t = c() + 400; while (c() < t); console.log("done"); setTimeout(() => {}, 5000)']);
    await new Promise((r) => child.stdout.once('data', r));
    try {
      expect(loadSnapshot().ownTicks! - afterSelf).toBeGreaterThanOrEqual(25);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
