#!/usr/bin/env node
// Does the WASM screen rank the native winners? Screens the built-in suite (every kernel, every candidate) in WASM
// once per screen model (--targets, default wasm = the 4-lane screen without FMA, and avx2 = 8 lanes with FMA, the
// model of this x86 host), runs the same candidates natively on `local` in the same session, and prints
// `kbench calibrate`'s figures per screen model: per kernel the Spearman ρ of WASM vs native speedups over every
// (candidate, shape) point and among the points that win natively by more than 1.5×. All screens use one compiler
// (--cc, default yowasp, the one that has relaxed SIMD) so the models, not the compilers, differ. The load average is
// printed with the figures (2 shared cores: say it). --rounds N repeats screens and native runs N times and also
// ranks the median speedup of each point over the rounds, since one round on a loaded machine is noisy.
// A target `avx2-plain` is the avx2 model without kbench's x86 intrinsics headers (a candidate's AVX2 branch is not
// built, its 128-bit WASM fallback is screened): `--targets avx2-plain,avx2` measures what the headers change.
// A suffix `-branchy` leaves float max/min selects to V8's branches (no branchless-minmax.ts rewrite):
// `--targets avx2-branchy,avx2` measures what the rewrite changes (suffixes combine: avx2-plain-branchy).
// Each model is also ranked with the host's memory floor applied (calibrate's "with floor", src/measure/memory-floor.ts),
// fitted on the run and, to show it is not fitted to the kernel it ranks, on the other kernels only; and the script
// prints how far each side's order among the winners repeats from round to round (no screen can beat native's own).
// --extra DIR adds candidates (DIR/<kernel>/*.c, e.g. scripts/rank-candidates) to a copy of the suite, so kernels
// with few native winners among the built-in candidates have enough to rank.
// Usage: npm run bench:rank [-- --kernel softmax --targets avx2-plain,avx2 --cc yowasp --rounds 3 --extra scripts/rank-candidates --keep]
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HostConfig } from '../dist/config/config.js';
import { fitMemoryFloor, predictNativeSpeedup } from '../dist/measure/memory-floor.js';
import { spearman } from '../dist/measure/stats.js';
import { calibrate, sessionBaselines } from '../dist/remote/calibrate.js';
import { runNativeRecorded } from '../dist/remote/native-run.js';
import { runScreen } from '../dist/screen/run.js';
import { BUILTIN_KERNELS_DIR, loadSuite } from '../dist/spec/suite.js';

const { values } = parseArgs({
  options: {
    kernel: { type: 'string', multiple: true },
    keep: { type: 'boolean', default: false },
    targets: { type: 'string', default: 'avx2-plain,avx2' },
    cc: { type: 'string', default: 'yowasp' },
    rounds: { type: 'string', default: '1' },
    extra: { type: 'string' },
  },
});
const work = mkdtempSync(join(tmpdir(), 'kbench-bench-rank-'));
const kernelsDir = join(work, 'kernels');
cpSync(BUILTIN_KERNELS_DIR, kernelsDir, { recursive: true });
if (values.extra)
  for (const kernel of readdirSync(values.extra).filter((k) => existsSync(join(kernelsDir, k, 'candidates'))))
    for (const file of readdirSync(join(values.extra, kernel)).filter((f) => f.endsWith('.c'))) cpSync(join(values.extra, kernel, file), join(kernelsDir, kernel, 'candidates', `x_${file}`));
const kernels = loadSuite(kernelsDir).filter((k) => !values.kernel?.length || values.kernel.includes(k.name));
const local = HostConfig.parse({ name: 'local', executor: 'local', arch: 'x86_64' });
const load = () => loadavg()[0].toFixed(1);
const s = (ms) => `${(ms / 1000).toFixed(0)} s`;

const targets = values.targets.split(',');
const rounds = Number(values.rounds);
// timings by model label (or 'native') → point key → one per round: speedup estimate, median times, read time
const seen = new Map();
// (sessionBaselineNs: the shape's median baseline over the round's screen, which the floored prediction divides)
const keep = (label, r, sessionBaseline) => {
  if (r.check.status !== 'pass' || r.hostFailure) return;
  const byPoint = seen.get(label) ?? new Map();
  seen.set(label, byPoint);
  for (const sp of r.speed) {
    const key = `${r.kernel}\0${r.candidate}\0${sp.shape}`;
    const timing = { speedup: sp.speedup.estimate, candidateNs: sp.candidateMedianNs, sessionBaselineNs: sessionBaseline?.(r.kernel, sp.shape), readNs: sp.speedOfLight?.readNs };
    byPoint.set(key, [...(byPoint.get(key) ?? []), timing]);
  }
};
const loads = [load()];
const started = performance.now();
for (let round = 0; round < rounds; round++) {
  for (const target of targets) {
    const t0 = performance.now();
    const [model, ...variants] = target.split('-');
    const screen = await runScreen({ workDir: work, kernelsDir, kernels: kernels.map((k) => k.name), cc: values.cc, target: model, intrinsics: !variants.includes('plain'), branchlessMinMax: !variants.includes('branchy') });
    const sessionBaseline = sessionBaselines(screen.results);
    for (const r of screen.results) keep(screen.toolchain.replace(/^.*; /, ''), r, sessionBaseline);
    console.log(`round ${round + 1}: WASM screen (${screen.toolchain}) ${s(performance.now() - t0)}, load ${load()}`);
  }
  const t0 = performance.now();
  for (const kernel of kernels) {
    const sources = kernel.candidates.map((c) => ({ name: c.name, path: c.path, source: readFileSync(c.path, 'utf8') }));
    for (const r of (await runNativeRecorded(work, kernel, sources, local)).results) keep('native', r);
  }
  console.log(`round ${round + 1}: native on local ${s(performance.now() - t0)}, load ${load()}`);
  loads.push(load());
}
console.log(`${rounds} round(s) in ${s(performance.now() - started)}; load average (1 min) at start and after each round: ${loads.join(' / ')}`);

const f = (x) => (Number.isNaN(x) ? '  — ' : x.toFixed(2).padStart(5));
console.log(`\nkbench calibrate (the latest round):`);
const calibration = calibrate(work);
for (const host of calibration.hosts) {
  const floor = host.memoryFloor ? `memory floor k ${host.memoryFloor.streamFactor.toFixed(2)}, c ${host.memoryFloor.floorRatio.toFixed(2)}` : 'no memory floor fitted';
  console.log(`${host.host} vs ${host.screen}: ρ pooled ${f(host.spearmanRho)} over ${host.points.length} points, among native winners ${f(host.winnersRho)} over ${host.points.filter((p) => p.nativeSpeedup > 1.5).length}; with the floor (${floor}) ${f(host.predicted.spearmanRho)} / ${f(host.predicted.winnersRho)}`);
  for (const k of host.kernels) console.log(`  ${k.kernel.padEnd(18)}${String(k.points).padStart(4)} points ρ ${f(k.spearmanRho)}  ${String(k.winnerPoints).padStart(3)} winners ρ ${f(k.winnersRho)}  with the floor ${f(k.predictedRho)} / ${f(k.predictedWinnersRho)}`);
}

// The same from the median over rounds of each point's speedup (what one noisy round cannot show), for each model
// as screened and with the host's memory floor (fitted by calibrate on the latest round) applied to every round.
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rho = (pts, model) => (pts.length >= 3 ? spearman(pts.map((p) => p[model]), pts.map((p) => p.native)) : NaN);
const nativeRead = new Map([...seen.get('native')].map(([key, rs]) => [key, median(rs.map((r) => r.readNs))]));
const floors = new Map(calibration.hosts.filter((h) => h.memoryFloor).map((h) => [h.screen, h.memoryFloor]));
const models = [...seen.keys()].filter((l) => l !== 'native');
const labels = models.flatMap((l) => (floors.has(l) ? [l, `${l} + floor`] : [l]));
const speedupsOf = (label, key) => {
  const [model, floored] = [label.replace(/ \+ floor$/, ''), label.endsWith(' + floor')];
  const rs = seen.get(model).get(key);
  if (!rs || !floored) return rs?.map((r) => r.speedup);
  return rs.map((r) => (nativeRead.get(key) ? predictNativeSpeedup({ candidateNs: r.candidateNs, baselineNs: r.sessionBaselineNs }, nativeRead.get(key), floors.get(model)) : r.speedup));
};
const points = [...seen.get('native')].flatMap(([key, nat]) => {
  const p = { key, kernel: key.split('\0')[0], native: median(nat.map((r) => r.speedup)) };
  for (const l of labels) {
    const w = speedupsOf(l, key);
    if (!w) return [];
    p[l] = median(w);
  }
  return [p];
});
if (rounds > 1) {
  console.log(`\nmedian over ${rounds} rounds, ρ pooled / ρ among native winners (> 1.5×):`);
  const width = Math.max(...labels.map((l) => l.length)) + 2;
  console.log(`${'kernel'.padEnd(18)} pts win  ${labels.map((l) => l.padEnd(width)).join('')}`);
  for (const kernel of [...new Set(points.map((p) => p.kernel))].sort().concat('(all)')) {
    const mine = kernel === '(all)' ? points : points.filter((p) => p.kernel === kernel);
    const win = mine.filter((p) => p.native > 1.5);
    console.log(`${kernel.padEnd(18)}${String(mine.length).padStart(4)}${String(win.length).padStart(4)}  ${labels.map((l) => `${f(rho(mine, l))} / ${f(rho(win, l))}`.padEnd(width)).join('')}`);
  }
  // The floor fitted without the kernel it ranks (leave one kernel out): what it does for a kernel it has never seen.
  const medianOf = (label, key, field) => median(seen.get(label).get(key).map((r) => r[field]));
  for (const model of models) {
    const held = (kernel) => {
      const observations = points.filter((p) => p.kernel !== kernel && nativeRead.get(p.key)).map((p) => ({ wasmCandidateNs: medianOf(model, p.key, 'candidateNs'), nativeCandidateNs: medianOf('native', p.key, 'candidateNs'), nativeReadNs: nativeRead.get(p.key) }));
      const floor = fitMemoryFloor(observations);
      const win = points.filter((p) => p.kernel === kernel && p.native > 1.5);
      if (!floor || win.length < 3) return '—';
      const predicted = win.map((p) => (nativeRead.get(p.key) ? predictNativeSpeedup({ candidateNs: medianOf(model, p.key, 'candidateNs'), baselineNs: medianOf(model, p.key, 'sessionBaselineNs') }, nativeRead.get(p.key), floor) : p[model]));
      return `${f(spearman(predicted, win.map((p) => p.native)))} (k ${floor.streamFactor.toFixed(2)}, c ${floor.floorRatio.toFixed(2)})`;
    };
    console.log(`\n${model} + floor fitted on the other kernels only, ρ among native winners:`);
    for (const kernel of [...new Set(points.map((p) => p.kernel))].sort()) console.log(`${kernel.padEnd(18)} ${held(kernel)}`);
  }
  // How far a ranking repeats: ρ among the winners between two rounds of the same side. Where native does not
  // repeat its own order (near-ties), no screen can; where both repeat and still disagree, the model is wrong.
  console.log(`\nrepeatability among the winners, ρ of round i vs round j (median over pairs): native / ${models.join(' / ')}`);
  const roundRho = (label, keys) => {
    const rhos = [];
    for (let i = 0; i < rounds; i++) for (let j = i + 1; j < rounds; j++) rhos.push(spearman(keys.map((k) => seen.get(label).get(k)[i].speedup), keys.map((k) => seen.get(label).get(k)[j].speedup)));
    return median(rhos);
  };
  for (const kernel of [...new Set(points.map((p) => p.kernel))].sort()) {
    const win = points.filter((p) => p.kernel === kernel && p.native > 1.5 && [...seen.values()].every((m) => m.get(p.key)?.length === rounds)).map((p) => p.key);
    if (win.length >= 3) console.log(`${kernel.padEnd(18)}${String(win.length).padStart(4)}  ${['native', ...models].map((l) => f(roundRho(l, win))).join(' / ')}`);
  }
}
console.log(`\npoints (kernel candidate shape: WASM speedup per model → native${rounds > 1 ? ', medians' : ''})`);
for (const p of points) console.log(`  ${p.key.replaceAll('\0', ' ')}: ${labels.map((l) => p[l].toFixed(2)).join(' / ')} → ${p.native.toFixed(2)}`);
if (values.keep) console.log(`\nruns kept in ${work} (kbench calibrate there)`);
else rmSync(work, { recursive: true, force: true });
