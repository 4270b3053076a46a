#!/usr/bin/env node
// Measures the sandbox part of the screen alone (the check and the timed job of every built-in candidate, through
// the real sandbox host process, no compiler running), optionally against another build of kbench in the same run:
// jobs of the two builds alternate, so machine load hits both alike and the ratio holds even on a busy machine.
// Builds are cached in --cache (compiled once, by this build's compiler).
// Usage: npm run build && node scripts/bench-sandbox.mjs [--against /path/to/other/dist] [--reps 3] [--kernel rms_norm]
// --profile DIR: the sandbox host (this build's) writes a .cpuprofile per thread into DIR (node --cpu-prof; the job
// worker's is the larger), when it exits at the end.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

const { values } = parseArgs({
  options: {
    against: { type: 'string' },
    reps: { type: 'string', default: '3' },
    kernel: { type: 'string' },
    cache: { type: 'string', default: join(tmpdir(), 'kbench-bench-sandbox-cache') },
    'sample-ms': { type: 'string', default: '0.5' },
    profile: { type: 'string' },
  },
});
const here = new URL('../dist/', import.meta.url);
const load = async (dist) => ({
  Sandbox: (await import(new URL('sandbox/sandbox.js', dist))).Sandbox,
});
const builds = [{ name: 'this', ...(await load(here)) }];
if (values.against) builds.push({ name: 'against', ...(await load(pathToFileURL(resolve(values.against) + '/'))) });

const { loadSuite, BUILTIN_KERNELS_DIR, INCLUDE_DIR } = await import(new URL('spec/suite.js', here));
const { WasmCompiler } = await import(new URL('build/compiler.js', here));
const { resolveToolchain } = await import(new URL('build/toolchain.js', here));
const { median } = await import(new URL('measure/stats.js', here));
const { DEFAULT_TIMING_GROUPS } = await import(new URL('screen/session.js', here));

const compiler = new WasmCompiler(resolveToolchain('yowasp'), { cacheDir: values.cache });
const build = async (spec, path) => {
  const r = await compiler.compile(spec, readFileSync(path, 'utf8'), path);
  if (!r.ok) throw new Error(`${path}: ${r.diagnostic}`);
  return r.wasm;
};
const kernels = loadSuite(BUILTIN_KERNELS_DIR).filter((k) => !values.kernel || k.name === values.kernel);
const jobs = [];
for (const k of kernels) {
  const reference = await build(k.spec, k.referencePath);
  const baseline = await build(k.spec, k.baselinePath);
  for (const c of k.candidates) jobs.push({ name: `${k.name}/${c.name}`, spec: k.spec, reference, baseline, candidate: await build(k.spec, c.path) });
}
await compiler.close();

const seed = 20261127;
const pairs = 11;
const maxMemoryBytes = 256 << 20;
const sampleMs = Number(values['sample-ms']);
const sandboxes = builds.map((b, i) => new b.Sandbox(i === 0 && values.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values.profile)}`] : []));
const times = builds.map(() => ({ check: [], bench: [], total: [] }));
const perJob = new Map();
const timed = async (sandbox, job) => {
  const t = performance.now();
  const reply = await sandbox.run(job, 60_000);
  return { ms: performance.now() - t, reply };
};
// warm both hosts
for (const s of sandboxes) await s.run({ kind: 'check', spec: jobs[0].spec, reference: jobs[0].reference, candidate: jobs[0].baseline, seed, maxMemoryBytes }, 60_000);
for (let rep = 0; rep < Number(values.reps); rep++)
  for (const job of jobs) {
    const order = builds.map((_, i) => i);
    if ((rep + jobs.indexOf(job)) % 2) order.reverse();
    for (const i of order) {
      const check = await timed(sandboxes[i], { kind: 'check', spec: job.spec, reference: job.reference, candidate: job.candidate, seed, maxMemoryBytes });
      if (check.reply.verdict.status !== 'pass') throw new Error(`${builds[i].name} ${job.name}: check ${JSON.stringify(check.reply.verdict)}`);
      const bench = await timed(sandboxes[i], {
        kind: 'bench', spec: job.spec, reference: job.reference, baseline: job.baseline, candidate: job.candidate, probe: new Uint8Array(0), lightFootprints: [],
        seed, maxMemoryBytes, pairs, groups: DEFAULT_TIMING_GROUPS, sampleMs,
      });
      if (bench.reply.kind !== 'bench') throw new Error(`${builds[i].name} ${job.name}: bench ${JSON.stringify(bench.reply.verdict)}`);
      // a job that timed nothing (say, a field of the job the other build does not know) must not pass for a fast one
      if (bench.reply.shapes.some((s) => s.baselineNs.length !== pairs || s.candidateNs.length !== pairs)) throw new Error(`${builds[i].name} ${job.name}: the timed job did not time ${pairs} pairs`);
      times[i].check.push(check.ms);
      times[i].bench.push(bench.ms);
      times[i].total.push(check.ms + bench.ms);
      const key = `${job.name}|${i}`;
      perJob.set(key, [...(perJob.get(key) ?? []), check.ms + bench.ms]);
    }
  }
await Promise.all(sandboxes.map((s) => s.close()));

const fmt = (ms) => `${(ms / 1000).toFixed(3)} s`;
console.log(`sandbox jobs per candidate (check + timed), ${jobs.length} candidates × ${values.reps} reps, medians:`);
for (const job of jobs)
  console.log(`  ${job.name.padEnd(36)} ${builds.map((b, i) => `${b.name} ${fmt(median(perJob.get(`${job.name}|${i}`)))}`).join('   ')}`);
for (const [i, b] of builds.entries())
  console.log(`${b.name.padEnd(8)} total ${fmt(median(times[i].total))}  check ${fmt(median(times[i].check))}  timed ${fmt(median(times[i].bench))}`);
if (builds.length === 2) {
  const ratios = jobs.map((job) => median(perJob.get(`${job.name}|0`)) / median(perJob.get(`${job.name}|1`)));
  console.log(`this/against per-candidate ratio: median ${median(ratios).toFixed(3)} (total ${(median(times[0].total) / median(times[1].total)).toFixed(3)})`);
}
