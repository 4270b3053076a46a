#!/usr/bin/env node
// npm run bench:upstream: one interleaved run per kernel with an upstream adapter and bench shape, on this machine,
// 1 thread: upstream (the real ggml op), baseline and best candidate times, baseline vs upstream and best vs
// upstream with 95% CIs. Options: --rounds N (30), --copies N (16), --kernels a,b, --json, --wasm (everything as
// wasm32 SIMD128 built by emscripten, run under this Node: ggml's WASM path against the WASM baseline).
import { benchUpstream } from '../dist/upstream/bench.js';
import { fetchUpstream } from '../dist/upstream/source.js';
import { buildGgml, buildGgmlWasm } from '../dist/upstream/build.js';
import { loadSuite, BUILTIN_KERNELS_DIR } from '../dist/spec/suite.js';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const rounds = Number(opt('--rounds', 30));
const copies = Number(opt('--copies', 16));
const only = opt('--kernels', '') ? opt('--kernels', '').split(',') : null;
const log = (l) => process.stderr.write(`  ${l}\n`);
const source = await fetchUpstream({ log });
const target = args.includes('--wasm') ? 'wasm' : 'native';
const build = target === 'wasm' ? await buildGgmlWasm(source, { log }) : await buildGgml(source, { log });
const kernels = loadSuite(BUILTIN_KERNELS_DIR).filter((k) => k.spec.upstream && (!only || only.includes(k.name)));
const fmt = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);
const ci = (s) => `${s.estimate.toFixed(2)}× [${s.lo.toFixed(2)}, ${s.hi.toFixed(2)}] ${s.verdict}`;
const reports = [];
console.log(`upstream: ggml ${source.commit.slice(0, 12)} from ${source.origin} (llama.cpp ${source.tag}), ${build.flags}, 1 thread, ${rounds} interleaved rounds, up to ${copies} ops per graph (fewer where a graph would outlast a batch)`);
console.log(`date ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| kernel | shape | upstream | baseline | base vs upstream | best candidate | best | best vs upstream | best vs baseline |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const kernel of kernels) {
  const r = await benchUpstream(kernel, { source, build, rounds, copies, log, target });
  reports.push(r);
  for (const t of r.timings) {
    const cands = Object.keys(t.medianNs).filter((v) => v.startsWith('cand:'));
    const best = cands.sort((a, b) => t.medianNs[a] - t.medianNs[b])[0];
    const base = t.vsUpstream.base;
    console.log(
      `| ${kernel.name} | ${t.shape} | ${fmt(t.medianNs.upstream)} | ${fmt(t.medianNs.base)} | ${ci(base)} | ${best ? best.slice(5) : '—'} | ${best ? fmt(t.medianNs[best]) : '—'} | ${best ? ci(t.vsUpstream[best]) : '—'} | ${best ? ci(t.vsBaseline[best]) : '—'} |`,
    );
  }
}
if (args.includes('--json')) process.stdout.write(JSON.stringify(reports, null, 2) + '\n');
console.log('\n(× = upstream time / variant time per paired round: > 1 means faster than ggml; "base vs upstream" within ±10% is the target)');
