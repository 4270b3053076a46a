#!/usr/bin/env node
// Does a candidate's WASM time depend on what the screen ran before it? In one screen session (one sandbox host
// process), screens the target candidate first, then every other candidate of the kernel, then the target again,
// --rounds times, and prints the target's speedup per shape each time and the ratio later / first. Before the
// sampler called its batches at varied stack depths, quantize_q8_0's group8_avx2 (scripts/rank-candidates) went
// from 1.73× first to 1.36× after any other candidate (V8's spill slots aliasing its buffers modulo 4 KB).
// Usage: npm run bench:order [-- --kernel quantize_q8_0 --candidate scripts/rank-candidates/quantize_q8_0/group8_avx2.c --rounds 2]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ScreenSession } from '../dist/screen/session.js';
import { BUILTIN_KERNELS_DIR, loadKernel } from '../dist/spec/suite.js';

const { values } = parseArgs({
  options: {
    kernel: { type: 'string', default: 'quantize_q8_0' },
    candidate: { type: 'string', default: 'scripts/rank-candidates/quantize_q8_0/group8_avx2.c' },
    rounds: { type: 'string', default: '2' },
    target: { type: 'string', default: 'avx2' },
  },
});
const work = mkdtempSync(join(tmpdir(), 'kbench-bench-order-'));
const kernel = loadKernel(join(BUILTIN_KERNELS_DIR, values.kernel));
const source = (path) => ({ name: basename(path, '.c'), path, source: readFileSync(path, 'utf8') });
const target = source(values.candidate);
const session = ScreenSession.open({ workDir: work, cc: 'yowasp', target: values.target, seed: 1 });
const speedups = async (c) => Object.fromEntries((await session.screenCandidate(kernel, c)).speed.map((s) => [s.shape, s.speedup.estimate]));
const loads = [loadavg()[0].toFixed(1)];
await session.screenCandidate(kernel, source(kernel.baselinePath), { bench: false });
const first = await speedups(target);
const later = [];
for (let round = 0; round < Number(values.rounds); round++) {
  for (const c of kernel.candidates) await speedups(source(c.path));
  later.push(await speedups(target));
  loads.push(loadavg()[0].toFixed(1));
}
await session.close();
rmSync(work, { recursive: true, force: true });
console.log(`${values.kernel}/${target.name} in one screen session, first and after the kernel's ${kernel.candidates.length} other candidates (load ${loads.join(' / ')}):`);
for (const [shape, x] of Object.entries(first))
  console.log(`  ${shape.padEnd(20)} first ${x.toFixed(2)}×, later ${later.map((l) => `${l[shape].toFixed(2)}×`).join(' ')} (later / first ${later.map((l) => (l[shape] / x).toFixed(2)).join(' ')})`);
process.exit(0);
