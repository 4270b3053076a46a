#!/usr/bin/env node
// Measures the WASM screen itself, in one run on this machine:
//  - cold start of the compiler (first compile in a fresh process, yowasp unless --cc says otherwise)
//  - per-candidate screen time with a warm compiler and an empty build cache (compile + check + bench), and the
//    check's and the timed stage's share of it
//  - whole-suite screen time (warm compiler, empty cache)
//  - A/A false-"faster" rate: the baseline screened against itself N times with different seeds
// --against DIR (another build's dist/, e.g. main's copied aside): both builds screen every candidate, in turns
// that alternate which goes first, so that load on a shared machine hits both alike; prints the ratio.
// The sandbox jobs alone, without the compiler: scripts/bench-sandbox.mjs (with --profile for a CPU profile).
// Usage: npm run bench [-- --cc yowasp --aa 50 --kernel rms_norm --sample-ms 0.5 --against /tmp/main-dist]
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { loadSuite, findKernel, BUILTIN_KERNELS_DIR } from '../dist/spec/suite.js';
import { median, quantile, sortAscending } from '../dist/measure/stats.js';

const { values } = parseArgs({
  options: {
    cc: { type: 'string', default: 'yowasp' },
    aa: { type: 'string', default: '50' },
    kernel: { type: 'string', default: 'rms_norm' },
    'sample-ms': { type: 'string' },
    against: { type: 'string' },
  },
});
const sampleMs = values['sample-ms'] === undefined ? undefined : Number(values['sample-ms']);
const fresh = () => mkdtempSync(join(tmpdir(), 'kbench-bench-'));
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
const dists = [{ name: 'this', url: new URL('../dist/', import.meta.url) }];
if (values.against) dists.push({ name: 'against', url: pathToFileURL(resolve(values.against) + '/') });
const builds = await Promise.all(dists.map(async (d) => ({ ...d, ScreenSession: (await import(new URL('screen/session.js', d.url))).ScreenSession })));

/** A session of one build that records how long each stage of each screen took. */
function openSession(build) {
  const stageMs = { compile: [], check: [], bench: [] };
  let current;
  const session = build.ScreenSession.open({
    workDir: fresh(),
    cc: values.cc,
    sampleMs,
    onEvent: (e) => {
      const now = performance.now();
      if (e.type !== 'stage' && e.type !== 'result') return;
      if (current) stageMs[current.stage].push(now - current.at);
      current = e.type === 'stage' ? { stage: e.stage, at: now } : undefined;
    },
  });
  return { build, session, stageMs, perCandidate: [] };
}

// 1. Cold start + per-candidate times.
const kernels = loadSuite(BUILTIN_KERNELS_DIR);
const runs = builds.map(openSession);
const first = kernels[0];
const coldMs = [];
for (const run of runs) {
  const t0 = performance.now();
  await run.session.screenCandidate(first, { name: 'cold', source: readFileSync(first.baselinePath, 'utf8') }, { bench: false });
  coldMs.push(performance.now() - t0);
  for (const xs of Object.values(run.stageMs)) xs.length = 0;
}

// As `kbench screen` does: the next candidate compiles while the current one is checked and timed.
const queue = kernels.flatMap((k) => [
  { k, c: { name: 'baseline', source: readFileSync(k.baselinePath, 'utf8') }, bench: false },
  ...k.candidates.map((c) => ({ k, c: { name: c.name, source: readFileSync(c.path, 'utf8') }, bench: true })),
]);
const suiteMs = runs.map(() => 0);
for (const [i, { k, c, bench }] of queue.entries()) {
  const turn = i % 2 ? [...runs.keys()].reverse() : [...runs.keys()];
  for (const r of turn) {
    const { session, perCandidate } = runs[r];
    if (queue[i + 1]) session.prepare(queue[i + 1].k, queue[i + 1].c);
    const t = performance.now();
    const result = await session.screenCandidate(k, c, { bench });
    suiteMs[r] += performance.now() - t;
    if (!bench) continue;
    const verdict = result.check.status === 'pass' ? result.speed.map((s) => `${s.verdict} ${s.speedup.estimate.toFixed(2)}×`).join(', ') : result.check.status;
    perCandidate.push({ name: `${k.name}/${c.name}`, ms: performance.now() - t, verdict });
  }
}
await Promise.all(runs.map((r) => r.session.close()));

console.log(`compiler: ${runs[0].session.toolchain.description}`);
for (const [r, run] of runs.entries()) {
  const label = runs.length > 1 ? ` [${run.build.name}]` : '';
  console.log(`\ncold start (first compile + check in a fresh process)${label}: ${fmt(coldMs[r])}`);
  console.log(`per-candidate screen time (wall, next build overlapped), warm compiler, empty cache${label}:`);
  for (const c of run.perCandidate) console.log(`  ${c.name.padEnd(36)} ${fmt(c.ms).padStart(8)}   ${c.verdict}`);
  const times = run.perCandidate.map((c) => c.ms);
  console.log(`  median ${fmt(median(times))}, p90 ${fmt(quantile(sortAscending(times), 0.9))} over ${times.length} candidates (target ≤ 1.5 s median)`);
  const stages = Object.entries(run.stageMs).filter(([, xs]) => xs.length);
  const total = stages.reduce((n, [, xs]) => n + xs.reduce((a, b) => a + b, 0), 0);
  for (const [stage, xs] of stages) {
    const share = (100 * xs.reduce((a, b) => a + b, 0)) / total;
    console.log(`  stage ${stage.padEnd(8)} median ${fmt(median(xs))}, ${share.toFixed(0)}% of the screens' time${stage === 'compile' ? ' (waiting for the overlapped build)' : ''}`);
  }
  console.log(`whole suite (${kernels.length} kernels, warm compiler, empty cache)${label}: ${fmt(suiteMs[r])} (target ≤ 60 s)`);
}
if (runs.length > 1) {
  const [a, b] = runs.map((run) => new Map(run.perCandidate.map((c) => [c.name, c.ms])));
  const ratios = [...a.keys()].map((name) => a.get(name) / b.get(name));
  const medians = runs.map((run) => median(run.perCandidate.map((c) => c.ms)));
  console.log(`\nthis/against: per-candidate median ${fmt(medians[0])} vs ${fmt(medians[1])} (ratio ${(medians[0] / medians[1]).toFixed(2)}), median of per-candidate ratios ${median(ratios).toFixed(2)}`);
}

// 2. A/A false-"faster" rate (this build only; --aa 0 skips it).
if (Number(values.aa) === 0) process.exit(0);
const kernel = findKernel(BUILTIN_KERNELS_DIR, values.kernel);
const reps = Number(values.aa);
const aa = builds[0].ScreenSession.open({ workDir: fresh(), cc: values.cc, sampleMs });
const counts = { faster: 0, slower: 0, 'no-change': 0 };
let shapes = 0;
const base = readFileSync(kernel.baselinePath, 'utf8');
for (let i = 0; i < reps; i++) {
  const r = await aa.screenCandidate(kernel, { name: 'a_a', source: base }, { seed: 1000 + i });
  for (const s of r.speed) {
    counts[s.verdict]++;
    shapes++;
  }
}
await aa.close();
console.log(`\nA/A on ${kernel.name} (baseline vs itself), ${reps} screens × bench shapes = ${shapes} verdicts:`);
console.log(`  faster ${counts.faster} (${((100 * counts.faster) / shapes).toFixed(1)}%, target ≤ 5%), slower ${counts.slower}, no-change ${counts['no-change']}`);
