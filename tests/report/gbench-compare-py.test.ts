// Google Benchmark's own tools/compare.py (Debian's libbenchmark-tools; it needs python3 with numpy and scipy)
// reads kbench's gbench export and reaches the same conclusion as kbench.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildGbench } from '../../src/report/gbench.js';
import { loadReportModel } from '../../src/report/model.js';
import { missing } from '../helpers/require.js';
import { SCREEN_RUN } from './fixtures.js';

const COMPARE_PY = process.env.KBENCH_GBENCH_COMPARE ?? '/usr/share/benchmark/compare.py';
const python = ['python3', '/usr/bin/python3'].find((py) => spawnSync(py, ['-c', 'import numpy, scipy'], { stdio: 'ignore' }).status === 0);

interface Comparison {
  name: string;
  run_type: string;
  aggregate_name: string;
  measurements: { real_time: number; real_time_other: number; time: number }[];
  utest: { time_pvalue?: number; nr_of_repetitions?: number; nr_of_repetitions_other?: number };
}

function comparePy(args: string[]): Comparison[] {
  const dump = join(mkdtempSync(join(tmpdir(), 'kbench-gbench-')), 'comparison.json');
  execFileSync(python!, [COMPARE_PY, '--no-color', '-d', dump, ...args], { stdio: 'pipe' });
  return JSON.parse(readFileSync(dump, 'utf8'));
}

const skip = missing('Google Benchmark compare.py (libbenchmark-tools) with python3-numpy and python3-scipy', existsSync(COMPARE_PY) && !!python);

describe.skipIf(skip)("Google Benchmark's compare.py on kbench's gbench export", () => {
  const model = loadReportModel(SCREEN_RUN);
  const file = join(mkdtempSync(join(tmpdir(), 'kbench-gbench-')), 'run.json');
  writeFileSync(file, JSON.stringify(buildGbench(model)));

  it('compares a candidate with the baseline in one run: the median change and U test agree with kbench', () => {
    const rows = comparePy(['filters', file, 'baseline/decode 1x4096', 'vec4/decode 1x4096']);
    const speed = model.results.find((r) => r.candidate === 'vec4')!.shapes.find((s) => s.shape === 'decode 1x4096')!;
    const pooled = rows.find((r) => r.run_type === 'iteration')!;
    // the baseline beside both candidates (2 × 9 pairs) against vec4's 9 repetitions
    expect(pooled.utest).toMatchObject({ nr_of_repetitions: 18, nr_of_repetitions_other: 9 });
    expect(pooled.utest.time_pvalue).toBeLessThan(0.01);
    const median = rows.find((r) => r.aggregate_name === 'median')!.measurements[0];
    expect(median.real_time_other).toBe(speed.candidateMedianNs);
    expect(1 / (1 + median.time)).toBeGreaterThan(speed.speedup.lo * 0.98);
    expect(1 / (1 + median.time)).toBeLessThan(speed.speedup.hi * 1.02);
  });

  it('compares two runs benchmark by benchmark: only the candidate made twice as slow changes', () => {
    const slower = buildGbench(model);
    for (const b of slower.benchmarks) {
      if (!b.name.startsWith('rms_norm/vec4/') || b.aggregate_name === 'cv') continue;
      b.real_time *= 2;
      b.cpu_time *= 2;
    }
    const other = join(mkdtempSync(join(tmpdir(), 'kbench-gbench-')), 'slower.json');
    writeFileSync(other, JSON.stringify(slower));
    const rows = comparePy(['benchmarks', file, other]);
    const medians = rows.filter((r) => r.aggregate_name === 'median');
    expect(medians.map((r) => r.name).sort()).toEqual(
      ['unroll2', 'vec4', 'baseline'].flatMap((c) => ['decode 1x4096', 'prefill 64x4096'].map((s) => `rms_norm/${c}/${s}/wasm_median`)).sort(),
    );
    for (const r of medians) expect(r.measurements[0].time).toBeCloseTo(r.name.includes('/vec4/') ? 1 : 0, 10);
  });
});
