#!/usr/bin/env node
// Does a screen under load say so? Quiet sessions set each candidate × shape's quiet value (the median of their
// estimates); loaded sessions run beside --busy N busy loops (default 2: both cores of this machine), interleaved
// with the quiet ones (quiet, loaded, quiet, …). Target (issue 12): every loaded result's CI covers the quiet value
// or the result or its run is marked unstable, and A/A false verdicts (each kernel's baseline screened as a
// candidate) stay ≤ 5%. Every session is a separate `kbench screen` process read back with `kbench report --json`,
// so the stability rules measured are the CLI's own. The lines per reason say which evidence flagged what: the load
// average at the start lags the busy loops by about a minute, so results flag themselves from their own evidence.
// Usage: npm run bench:load [-- --kernels rms_norm,softmax --sessions 4 --busy 2]
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from '../dist/measure/stats.js';
import { BUILTIN_KERNELS_DIR, loadSuite } from '../dist/spec/suite.js';

const { values } = parseArgs({
  options: {
    kernels: { type: 'string', default: 'rms_norm,rms_norm_mul,softmax,quantize_q8_0' },
    sessions: { type: 'string', default: '4' },
    busy: { type: 'string', default: '2' },
  },
});
const kernels = values.kernels.split(',');
const sessions = Number(values.sessions);
const kbench = fileURLToPath(new URL('../bin/kbench.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'kbench-bench-load-'));
const suite = join(work, 'kernels');
cpSync(BUILTIN_KERNELS_DIR, suite, { recursive: true });
// the A/A candidate: each kernel's baseline, screened as one of its candidates
for (const k of loadSuite(suite).filter((k) => kernels.includes(k.name))) cpSync(k.baselinePath, join(suite, k.name, 'candidates', 'aa_baseline.c'));

function screenSession() {
  const run = spawnSync(process.execPath, [kbench, '--json', '--kernels', suite, 'screen', ...kernels], { cwd: work, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`kbench screen exited ${run.status}:\n${run.stderr}`);
  const { dir } = JSON.parse(run.stdout);
  const report = spawnSync(process.execPath, [kbench, '--json', 'report', dir], { cwd: work, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (report.status !== 0) throw new Error(`kbench report exited ${report.status}:\n${report.stderr}`);
  return JSON.parse(report.stdout);
}

function busyLoops(n) {
  const loops = Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' }));
  return () => loops.forEach((p) => p.kill('SIGKILL'));
}

const quiet = [];
const loaded = [];
const loads = [];
for (let i = 0; i < sessions; i++) {
  loads.push(loadavg()[0]);
  quiet.push(screenSession());
  const stop = busyLoops(Number(values.busy));
  try {
    loaded.push(screenSession());
  } finally {
    stop();
  }
  loads.push(loadavg()[0]);
  console.error(`session pair ${i + 1}/${sessions} done, load ${loadavg()[0].toFixed(2)}`);
}

// per candidate × shape: the quiet sessions' estimates, and every loaded result with the stability that came with it
const cells = (reports) =>
  reports.flatMap((report) =>
    report.results.flatMap((r) =>
      r.status !== 'pass' || r.candidate === 'baseline'
        ? []
        : r.shapes.map((s) => ({ key: `${r.kernel}/${r.candidate} ${s.shape}`, aa: r.candidate === 'aa_baseline', s, result: r.stability, run: report.run.stability })),
    ),
  );
const quietValue = new Map();
for (const c of cells(quiet)) quietValue.set(c.key, [...(quietValue.get(c.key) ?? []), c.s.speedup.estimate]);

const pct = (a, b) => `${a} of ${b} (${((100 * a) / Math.max(b, 1)).toFixed(1)}%)`;
const summarize = (label, cs) => {
  const honest = cs.filter((c) => !c.aa);
  const aa = cs.filter((c) => c.aa);
  const covers = (c) => {
    const m = median(quietValue.get(c.key));
    return c.s.speedup.lo <= m && m <= c.s.speedup.hi;
  };
  const flagged = (c) => c.result.status === 'unstable' || c.run.status === 'unstable';
  console.log(`\n${label}: ${honest.length} honest results, ${aa.length} A/A`);
  console.log(`  CI covers the quiet value: ${pct(honest.filter(covers).length, honest.length)}`);
  console.log(`  covers it or says unstable: ${pct(honest.filter((c) => covers(c) || flagged(c)).length, honest.length)} (target 100%)`);
  console.log(`  covers it or the result itself says unstable (its baseline drifted, its CI is wide): ${pct(honest.filter((c) => covers(c) || c.result.status === 'unstable').length, honest.length)}`);
  console.log(`  marked unstable: result ${pct(honest.filter((c) => c.result.status === 'unstable').length, honest.length)}, run ${pct(honest.filter((c) => c.run.status === 'unstable').length, honest.length)}`);
  console.log(`  A/A false verdicts: ${pct(aa.filter((c) => c.s.verdict !== 'no-change').length, aa.length)} (target ≤ 5%); of them unmarked: ${aa.filter((c) => c.s.verdict !== 'no-change' && !flagged(c)).length}`);
  const misses = honest.filter((c) => !covers(c) && !flagged(c));
  for (const c of misses) console.log(`  missed, not flagged: ${c.key} ${c.s.speedup.estimate.toFixed(2)}× [${c.s.speedup.lo.toFixed(2)}, ${c.s.speedup.hi.toFixed(2)}] vs quiet ${median(quietValue.get(c.key)).toFixed(2)}×`);
  const reasons = new Map();
  for (const c of honest) for (const r of [...c.result.reasons, ...c.run.reasons]) reasons.set(r.replace(/[\d.]+/g, 'N'), (reasons.get(r.replace(/[\d.]+/g, 'N')) ?? 0) + 1);
  for (const [r, n] of [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 6)) console.log(`  reason ×${n}: ${r}`);
};
console.log(`${sessions} quiet and ${sessions} loaded sessions (${values.busy} busy loops), kernels ${kernels.join(', ')}; load average (1 min) ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}`);
summarize('quiet sessions', cells(quiet));
summarize(`loaded sessions (${values.busy} busy loops)`, cells(loaded));
