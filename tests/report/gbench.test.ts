import { describe, expect, it } from 'vitest';
import { buildGbench } from '../../src/report/gbench.js';
import { loadReportModel } from '../../src/report/model.js';
import { validateGbench } from './gbench-schema.js';
import { AGENT_RUN, SCREEN_RUN } from './fixtures.js';

describe('the Google Benchmark export', () => {
  it('of the agent fixture validates against Google Benchmark JSON structure', () => {
    expect(validateGbench(JSON.parse(JSON.stringify(buildGbench(loadReportModel(AGENT_RUN)))))).toEqual([]);
  });

  it('has one repetition per interleaved pair, named kernel/candidate/shape/target', () => {
    const model = loadReportModel(SCREEN_RUN);
    const doc = buildGbench(model);
    const vec4 = doc.benchmarks.filter((b) => b.name === 'rms_norm/vec4/decode 1x4096/wasm');
    const speed = model.results.find((r) => r.candidate === 'vec4')!.shapes[0];
    expect(vec4.map((b) => b.real_time)).toEqual(speed.candidateNs);
    expect(vec4.every((b) => b.run_type === 'iteration' && b.iterations === speed.callsPerSample)).toBe(true);
    const median = doc.benchmarks.find((b) => b.name === 'rms_norm/vec4/decode 1x4096/wasm_median')!;
    expect(median.real_time).toBe(speed.candidateMedianNs);
  });

  it('pools the baseline timed beside each candidate into one benchmark per shape and target', () => {
    const doc = buildGbench(loadReportModel(SCREEN_RUN));
    const baseline = doc.benchmarks.filter((b) => b.name === 'rms_norm/baseline/prefill 64x4096/wasm');
    expect(baseline.length).toBe(18); // 9 pairs beside unroll2, 9 beside vec4
  });

  it('leaves out candidates that were never timed', () => {
    const names = buildGbench(loadReportModel(SCREEN_RUN)).benchmarks.map((b) => b.name);
    expect(names.some((n) => n.includes('bad_tail') || n.includes('spin'))).toBe(false);
  });

  it('catches an aggregate that disagrees with its repetitions (the validator can fail)', () => {
    const doc = buildGbench(loadReportModel(SCREEN_RUN));
    const mean = doc.benchmarks.find((b) => b.name.endsWith('_mean'))!;
    mean.real_time *= 1.01;
    expect(validateGbench(doc)).toEqual([expect.stringMatching(/_mean: .* != /)]);
  });
});
