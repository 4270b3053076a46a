#!/usr/bin/env node
// Measures the WASM screen itself, in one run on this machine:
//  - cold start of the compiler (first compile in a fresh process, yowasp unless --cc says otherwise)
//  - per-candidate screen time with a warm compiler and an empty build cache (compile + check + bench)
//  - whole-suite screen time (warm compiler, empty cache)
//  - A/A false-"faster" rate: the baseline screened against itself N times with different seeds
// Usage: npm run bench [-- --cc yowasp --aa 50 --kernel rms_norm --sample-ms 0.5]
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ScreenSession } from '../dist/screen/session.js';
import { loadSuite, findKernel, BUILTIN_KERNELS_DIR } from '../dist/spec/suite.js';
import { median, quantile, sortAscending } from '../dist/measure/stats.js';

const { values } = parseArgs({ options: { cc: { type: 'string', default: 'yowasp' }, aa: { type: 'string', default: '50' }, kernel: { type: 'string', default: 'rms_norm' }, 'sample-ms': { type: 'string' } } });
const sampleMs = values['sample-ms'] === undefined ? undefined : Number(values['sample-ms']);
const fresh = () => mkdtempSync(join(tmpdir(), 'kbench-bench-'));
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;

// 1. Cold start + per-candidate times.
const kernels = loadSuite(BUILTIN_KERNELS_DIR);
const t0 = performance.now();
const stageMs = { compile: [], check: [], bench: [] };
let current;
const onStage = (e) => {
  if (e.type !== 'stage') return;
  const now = performance.now();
  if (current) stageMs[current.stage].push(now - current.at);
  current = { stage: e.stage, at: now };
};
const session = ScreenSession.open({ workDir: fresh(), cc: values.cc, sampleMs, onEvent: (e) => {
  onStage(e);
  if (e.type === 'result' && current) {
    stageMs[current.stage].push(performance.now() - current.at);
    current = undefined;
  }
} });
const first = kernels[0];
await session.screenCandidate(first, { name: 'cold', source: readFileSync(first.baselinePath, 'utf8') }, { bench: false });
const coldMs = performance.now() - t0;
stageMs.compile.length = stageMs.check.length = stageMs.bench.length = 0;

const perCandidate = [];
const suiteStart = performance.now();
// As `kbench screen` does: the next candidate compiles while the current one is checked and timed.
const queue = kernels.flatMap((k) => [
  { k, c: { name: 'baseline', source: readFileSync(k.baselinePath, 'utf8') }, bench: false },
  ...k.candidates.map((c) => ({ k, c: { name: c.name, source: readFileSync(c.path, 'utf8') }, bench: true })),
]);
for (const [i, { k, c, bench }] of queue.entries()) {
  if (queue[i + 1]) session.prepare(queue[i + 1].k, queue[i + 1].c);
  const t = performance.now();
  const r = await session.screenCandidate(k, c, { bench });
  if (!bench) continue;
  perCandidate.push({ name: `${k.name}/${c.name}`, ms: performance.now() - t, verdict: r.check.status === 'pass' ? r.speed.map((s) => `${s.verdict} ${s.speedup.estimate.toFixed(2)}×`).join(', ') : r.check.status });
}
const suiteMs = performance.now() - suiteStart;
await session.close();

console.log(`compiler: ${session.toolchain.description}`);
console.log(`cold start (first compile + check in a fresh process): ${fmt(coldMs)}`);
console.log(`\nper-candidate screen time (wall, next build overlapped), warm compiler, empty cache:`);
for (const c of perCandidate) console.log(`  ${c.name.padEnd(36)} ${fmt(c.ms).padStart(8)}   ${c.verdict}`);
const times = perCandidate.map((c) => c.ms);
console.log(`  median ${fmt(median(times))}, p90 ${fmt(quantile(sortAscending(times), 0.9))} over ${times.length} candidates (target ≤ 1.5 s median)`);
for (const [stage, xs] of Object.entries(stageMs)) if (xs.length) console.log(`  stage ${stage.padEnd(8)} median ${fmt(median(xs))}${stage === 'compile' ? ' (waiting for the overlapped build)' : ''}`);
console.log(`whole suite (${kernels.length} kernels, warm compiler, empty cache): ${fmt(suiteMs)} (target ≤ 60 s)`);

// 2. A/A false-"faster" rate.
const kernel = findKernel(BUILTIN_KERNELS_DIR, values.kernel);
const reps = Number(values.aa);
const aa = ScreenSession.open({ workDir: fresh(), cc: values.cc, sampleMs });
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
