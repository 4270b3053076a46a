#!/usr/bin/env node
// Measures the native stage on this machine and prints the figures:
//  1. round trip per candidate (bundle, build, check, timing, judging) on `local` and over ssh to a throwaway sshd
//     on 127.0.0.1 (needs /usr/sbin/sshd)
//  2. A/A false-"faster" rate: the baseline against itself, --aa times (each a separately built binary)
//  3. detection rate of a synthetic ~5% slowdown (the baseline plus ~5% extra work), --detect times
//  4. `kbench calibrate` over a WASM screen of the suite and its promotion to `local` (skip with --no-calibrate)
// Usage: npm run bench:native [-- --kernel rms_norm --aa 50 --detect 20 --no-calibrate]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HostConfig } from '../dist/config/config.js';
import { median } from '../dist/measure/stats.js';
import { runNative } from '../dist/remote/native.js';
import { BUILTIN_KERNELS_DIR, findKernel } from '../dist/spec/suite.js';
import { SSHD, startSshd } from '../tests/fixtures/native/sshd.mjs';

const { values } = parseArgs({
  options: {
    kernel: { type: 'string', default: 'rms_norm' },
    aa: { type: 'string', default: '50' },
    detect: { type: 'string', default: '20' },
    'extra-fraction': { type: 'string', default: '0.05' },
    'no-calibrate': { type: 'boolean', default: false },
  },
});
const kernel = findKernel(BUILTIN_KERNELS_DIR, values.kernel);
const local = HostConfig.parse({ name: 'local', executor: 'local', arch: 'x86_64' });
const work = mkdtempSync(join(tmpdir(), 'kbench-bench-native-'));
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const pct = (k, n) => `${k}/${n} = ${((100 * k) / n).toFixed(1)}%`;

// 1. Round trips: one candidate per run, as promotion does.
async function roundTrips(host, label, count = 3) {
  const candidate = kernel.candidates[0];
  const times = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const [r] = await runNative(kernel, [candidate], host);
    times.push(performance.now() - t0);
    if (r.hostFailure || r.check.status !== 'pass') throw new Error(`${label}: ${r.hostFailure ?? r.check.status}`);
  }
  console.log(`round trip ${label.padEnd(18)} ${kernel.name}/${candidate.name}: median ${s(median(times))} (${times.map(s).join(', ')})`);
}
await roundTrips(local, 'local');
if (existsSync(SSHD)) {
  const server = await startSshd();
  try {
    await roundTrips(HostConfig.parse({ name: 'ssh-127', executor: 'ssh', ssh: server.alias, arch: 'x86_64', sshConfig: server.configFile }), 'ssh 127.0.0.1');
  } finally {
    await server.stop();
  }
} else {
  console.log('round trip ssh: skipped (no /usr/sbin/sshd)');
}

// 2 and 3. Verdict rates, many candidates in one bundle (each its own binary and driver processes).
function verdictCounts(results) {
  const counts = { faster: 0, slower: 0, 'no-change': 0, failed: 0, total: 0 };
  const ratios = [];
  for (const r of results) {
    if (r.check.status !== 'pass' || r.hostFailure) {
      counts.failed++;
      continue;
    }
    for (const sp of r.speed) {
      counts[sp.verdict]++;
      counts.total++;
      ratios.push(sp.speedup.estimate);
    }
  }
  return { counts, ratios };
}

async function copies(prefix, path, n) {
  return Array.from({ length: n }, (_, i) => ({ name: `${prefix}${String(i).padStart(2, '0')}`, path }));
}

const aaCount = Number(values.aa);
let t0 = performance.now();
const aa = verdictCounts(await runNative(kernel, await copies('aa', kernel.baselinePath, aaCount), local, { trials: 1 }));
console.log(
  `A/A (${kernel.name}, ${aaCount} runs × ${kernel.spec.shapes.bench.length} shapes, ${s(performance.now() - t0)}): ` +
    `false 'faster' ${pct(aa.counts.faster, aa.counts.total)}, false 'slower' ${pct(aa.counts.slower, aa.counts.total)}; ` +
    `speedup estimates ${Math.min(...aa.ratios).toFixed(3)}–${Math.max(...aa.ratios).toFixed(3)}`,
);

// The synthetic change: the baseline, then an extra dependent sum of squares over a fraction of each row.
const extra = Number(values['extra-fraction']);
const baseline = readFileSync(kernel.baselinePath, 'utf8');
const fn = kernel.spec.function;
if (kernel.name !== 'rms_norm') throw new Error('the synthetic slowdown is written for rms_norm');
const slower = join(work, 'plus5.c');
writeFileSync(
  slower,
  baseline.replace(`void ${fn}(`, `static void base_impl(`) +
    `
static volatile double kb_sink;
void ${fn}(const float *x, float *y, int n, int rows, float eps, int ith, int nth) {
    base_impl(x, y, n, rows, eps, ith, nth);
    const int extra = (int)(n * ${extra});
    for (int r = ith; r < rows; r += nth) {
        double s = 0.0;
        for (int i = 0; i < extra; i++) s += (double)(x[(long)r * n + i] * x[(long)r * n + i]);
        kb_sink = s;
    }
}
`,
);
const detectCount = Number(values.detect);
t0 = performance.now();
const det = verdictCounts(await runNative(kernel, await copies('plus', slower, detectCount), local, { trials: 1 }));
console.log(
  `synthetic slowdown (+${(extra * 100).toFixed(0)}% of the sum-of-squares pass, ${detectCount} runs × ${kernel.spec.shapes.bench.length} shapes, ${s(performance.now() - t0)}): ` +
    `detected as 'slower' ${pct(det.counts.slower, det.counts.total)}; measured speedup median ${median(det.ratios).toFixed(3)} ` +
    `(range ${Math.min(...det.ratios).toFixed(3)}–${Math.max(...det.ratios).toFixed(3)})`,
);

// 4. Calibration: screen the suite in WASM, promote everything that passed to local, then calibrate.
if (!values['no-calibrate']) {
  const cli = join(process.cwd(), 'bin', 'kbench.js');
  const run = (args) => execFileSync('node', [cli, ...args], { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  t0 = performance.now();
  run(['screen', '--json']);
  const screenMs = performance.now() - t0;
  t0 = performance.now();
  run(['promote', '--on', 'local', '--margin', '0.99', '--json']);
  console.log(`calibration data: WASM screen of the suite ${s(screenMs)}, promotion of every passing candidate to local ${s(performance.now() - t0)}`);
  console.log(run(['calibrate']));
}
rmSync(work, { recursive: true, force: true });
