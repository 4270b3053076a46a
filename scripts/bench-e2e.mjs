#!/usr/bin/env node
// npm run bench:e2e: for each kernel with a graft recipe, its best candidate grafted into llama.cpp on this machine,
// measured end to end beside Amdahl's prediction. "Best" is the candidate with the highest geometric-mean "vs
// upstream" speedup in a `kbench run <kernel> --upstream` this script runs first (in a scratch project, so the
// prediction reads exactly that run). Then runE2e: logits gate, the reference and grafted llama-bench alternating,
// the op's share from a build where it does no work, and the prediction. Prints one table with the load and model.
// Options: --rounds N (5), --depths 0,4096, --kernels rms_norm,softmax, --pairs N (21, for the op-level run), --json.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runE2e } from '../dist/e2e/run.js';
import { listRunFolders, readLedger } from '../dist/ledger/ledger.js';
import { formatGain } from '../dist/format.js';
import { BUILTIN_KERNELS_DIR, loadSuite } from '../dist/spec/suite.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    depths: { type: 'string', default: '0,4096' },
    kernels: { type: 'string', default: '' },
    pairs: { type: 'string', default: '21' },
    json: { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const depths = values.depths.split(',').map(Number);
const only = values.kernels ? values.kernels.split(',') : null;
const CLI = fileURLToPath(new URL('../bin/kbench.js', import.meta.url));
const log = (l) => process.stderr.write(`  ${l}\n`);
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
const work = mkdtempSync(join(tmpdir(), 'kbench-bench-e2e-'));
const kernels = loadSuite(BUILTIN_KERNELS_DIR).filter((k) => k.spec.graft && (!only || only.includes(k.name)));

const percentOf = (i) => `${(i.estimate * 100).toFixed(1)}% [${(i.lo * 100).toFixed(1)}, ${(i.hi * 100).toFixed(1)}]`;
const geomean = (xs) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);

/** The candidate of the latest run of `kernel` in the scratch project with the highest geometric-mean vs upstream. */
function bestCandidate(kernel) {
  const [latest] = listRunFolders(work).reverse();
  const results = readLedger(latest.ledgerFile).flatMap((e) => (e.type === 'result' && e.result.kernel === kernel.name ? [e.result] : []));
  const scored = results
    .filter((r) => r.check.status === 'pass' && r.speed.length && r.speed.every((s) => s.vsUpstream))
    .map((r) => ({ name: r.candidate, vsUpstream: geomean(r.speed.map((s) => s.vsUpstream.estimate)), speed: r.speed }));
  return scored.sort((a, b) => b.vsUpstream - a.vsUpstream)[0];
}

const started = uptime();
const rows = [];
const results = [];
for (const kernel of kernels) {
  log(`${kernel.name}: kbench run --upstream (all candidates, ${values.pairs} pairs) to pick the best`);
  execFileSync(process.execPath, [CLI, 'run', kernel.name, '--upstream', '--pairs', values.pairs], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
  const best = bestCandidate(kernel);
  if (!best) {
    rows.push(`| ${kernel.name} | (no candidate with vs upstream figures) | | | | | |`);
    continue;
  }
  const op = best.speed.map((s) => `${s.shape} ${s.vsUpstream.estimate.toFixed(2)}×`).join(', ');
  log(`${kernel.name}: best ${best.name} (${op} vs upstream); end to end, ${rounds} rounds at depths ${depths.join(',')}`);
  const r = await runE2e(work, kernel, { name: best.name, path: join(kernel.dir, 'candidates', `${best.name}.c`) }, { depths, rounds, log, onRound: (phase, i, n) => log(`${phase} round ${i}/${n}`) });
  results.push(r);
  if (r.logits.status !== 'agree' || r.timing?.status !== 'timed') {
    rows.push(`| ${kernel.name} | ${best.name} | ${op} | logits ${r.logits.status} ${r.timing?.reason ?? r.logits.reason} | | | |`);
    continue;
  }
  for (const t of r.timing.tests) {
    const p = r.prediction?.find((x) => x.label === t.label);
    const share = r.shares?.find((x) => x.label === t.label);
    rows.push(
      `| ${kernel.name} | ${best.name} | ${op} | ${t.label} | ${share ? percentOf(share.share) : '–'} | ${formatGain(t.ratio)} ${t.verdict} | ${p ? formatGain(p.predicted) : `– (${r.predictionNote ?? r.shareNote ?? '?'})`} |`,
    );
  }
}
const model = results[0]?.model;
const modelText = model ? (model.generated ? `kbench's random-weight llama (${Object.entries(model.params ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')}; ${((model.parameters ?? 0) / 1e6).toFixed(0)} M parameters)` : model.path) : '?';
console.log(`end to end on ${results[0]?.hostname ?? '?'}: llama.cpp ${results[0]?.upstream.commit.slice(0, 8) ?? '?'} (${results[0]?.upstream.flags ?? '?'}), llama-bench 1 thread, ${rounds} alternating rounds, pp128 and tg32`);
console.log(`model: ${modelText}`);
console.log(`date ${new Date().toISOString().slice(0, 10)}; load at start: ${started}; at end: ${uptime()} (${loadavg()[0].toFixed(1)} on ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores)\n`);
console.log('| kernel | best candidate | op vs upstream | test | op share of the time | measured tokens/s vs upstream (95% CI) | Amdahl predicted |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const row of rows) console.log(row);
console.log('\n(measured: grafted ÷ reference tokens/s per paired round; "no-change" means the CI does not clear the ±2% noise floor)');
if (values.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
