#!/usr/bin/env node
// Do the WASM screen's CIs cover what a re-run sees? N independent screen sessions (separate processes, as two
// `kbench screen` runs would be) of the same candidates, then per candidate × shape: does each session's CI cover the
// median of the N session estimates (coverage, target ≥ 90%), how far apart the session estimates lie, and the A/A
// false verdicts (each kernel's baseline screened against itself, target ≤ 5%). With several --instances values the
// settings are compared in one run, their sessions interleaved (session 1 of each, then session 2 of each, …).
// --save FILE writes every session's results with their paired ratios and group sizes, for analysis offline.
// Usage: npm run bench:sessions [-- --sessions 5 --kernels rms_norm,softmax --instances 1,4 --pairs 11 --save s.json]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomInt } from 'node:crypto';
import { ScreenSession } from '../dist/screen/session.js';
import { findKernel, loadSuite, BUILTIN_KERNELS_DIR } from '../dist/spec/suite.js';
import { median } from '../dist/measure/stats.js';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '5' },
    kernels: { type: 'string' },
    instances: { type: 'string', default: '' },
    pairs: { type: 'string' },
    cc: { type: 'string', default: 'yowasp' },
    child: { type: 'string' },
    save: { type: 'string' },
  },
});

// One session: a fresh process screening every candidate of the kernels and each baseline against itself.
if (values.child) {
  const { kernels, workDir, options } = JSON.parse(values.child);
  const session = ScreenSession.open({ workDir, ...options });
  const results = [];
  for (const name of kernels) {
    const kernel = findKernel(BUILTIN_KERNELS_DIR, name);
    const base = readFileSync(kernel.baselinePath, 'utf8');
    await session.prepareKernel(kernel);
    const sources = [...kernel.candidates.map((c) => ({ name: c.name, source: readFileSync(c.path, 'utf8') })), { name: 'A/A', source: base }];
    for (const c of sources) {
      const r = await session.screenCandidate(kernel, c);
      if (r.check.status !== 'pass') {
        results.push({ name: `${name}/${c.name}`, failed: r.check.status });
        continue;
      }
      for (const s of r.speed) {
        // each group's median ratio: how far apart the groups of one session lie, against how far the sessions do
        const sizes = s.groupSizes ?? [s.ratios.length];
        const groupMedians = sizes.map((n, g) => median(s.ratios.slice(sizes.slice(0, g).reduce((a, b) => a + b, 0), sizes.slice(0, g + 1).reduce((a, b) => a + b, 0))));
        results.push({ name: `${name}/${c.name}`, shape: s.shape, ...s.speedup, verdict: s.verdict, groups: sizes.length, groupSpread: Math.max(...groupMedians) / Math.min(...groupMedians), ratios: s.ratios, groupSizes: sizes });
      }
    }
  }
  await session.close();
  process.stdout.write(JSON.stringify(results));
  process.exit(0);
}

const sessions = Number(values.sessions);
const kernels = values.kernels ? values.kernels.split(',') : loadSuite(BUILTIN_KERNELS_DIR).map((k) => k.name);
const settings = values.instances ? values.instances.split(',').map((k) => ({ label: `instances=${k}`, options: { instances: Number(k) } })) : [{ label: 'default', options: {} }];
const workDir = mkdtempSync(join(tmpdir(), 'kbench-sessions-')); // one build cache: the same sources, built once
const self = fileURLToPath(import.meta.url);
const load = () => loadavg()[0].toFixed(2);

const runs = settings.map(() => []);
const loads = [];
for (let i = 0; i < sessions; i++)
  for (const [v, setting] of settings.entries()) {
    const options = { cc: values.cc, seed: randomInt(2 ** 31), ...setting.options, ...(values.pairs ? { pairs: Number(values.pairs) } : {}) };
    const before = load();
    const t = performance.now();
    const child = spawnSync(process.execPath, [self, '--child', JSON.stringify({ kernels, workDir, options })], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (child.status !== 0) throw new Error(`session ${i + 1} (${setting.label}) failed:\n${child.stderr}`);
    runs[v].push(JSON.parse(child.stdout));
    loads.push(Number(before), Number(load()));
    console.error(`session ${i + 1}/${sessions} ${setting.label}: ${((performance.now() - t) / 1000).toFixed(1)} s, load ${before} → ${load()}`);
  }

if (values.save) writeFileSync(values.save, JSON.stringify(settings.map((setting, v) => ({ ...setting, sessions: runs[v] }))));

const pct = (a, b) => `${((100 * a) / b).toFixed(1)}%`;
console.log(`${sessions} sessions per setting, kernels ${kernels.join(', ')}; load average ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}`);
for (const [v, setting] of settings.entries()) {
  const cells = new Map();
  for (const session of runs[v])
    for (const r of session) {
      const key = `${r.name}\0${r.shape ?? ''}`;
      if (!cells.has(key)) cells.set(key, []);
      cells.get(key).push(r);
    }
  let covered = 0, total = 0, aa = 0, aaFalse = 0;
  const rows = [];
  for (const [key, rs] of cells) {
    const [name, shape] = key.split('\0');
    const ok = rs.filter((r) => !r.failed);
    if (name.endsWith('/A/A')) {
      aa += ok.length;
      aaFalse += ok.filter((r) => r.verdict !== 'no-change').length;
      continue;
    }
    if (ok.length < 2) continue;
    const m = median(ok.map((r) => r.estimate));
    const hits = ok.filter((r) => r.lo <= m && m <= r.hi).length;
    covered += hits;
    total += ok.length;
    const estimates = ok.map((r) => r.estimate);
    const spread = Math.max(...estimates) / Math.min(...estimates);
    const width = median(ok.map((r) => r.hi / r.lo));
    rows.push({ name, shape, m, hits, n: ok.length, spread, width, groups: Math.max(...ok.map((r) => r.groups)), groupSpread: median(ok.map((r) => r.groupSpread)) });
  }
  console.log(`\n${setting.label}: CI covers the median of the ${sessions} session estimates in ${covered} of ${total} (${pct(covered, total)}, target ≥ 90%); A/A false verdicts ${aaFalse} of ${aa} (${pct(aaFalse, aa)}, target ≤ 5%)`);
  console.log(`  spread of session estimates (max/min): median ${median(rows.map((r) => r.spread)).toFixed(3)}×, worst ${Math.max(...rows.map((r) => r.spread)).toFixed(3)}×; CI width (hi/lo) median ${median(rows.map((r) => r.width)).toFixed(3)}×; groups per CI ${Math.max(...rows.map((r) => r.groups))}${rows[0].groups > 1 ? `, spread of group medians within a session: median ${median(rows.map((r) => r.groupSpread)).toFixed(3)}×` : ''}`);
  for (const r of rows.sort((a, b) => a.hits / a.n - b.hits / b.n || b.spread - a.spread))
    console.log(`  ${`${r.name} ${r.shape}`.padEnd(52)} median ${r.m.toFixed(2)}×  covered ${r.hits}/${r.n}  spread ${r.spread.toFixed(3)}×  CI width ${r.width.toFixed(3)}×`);
}
