import { describe, expect, it } from 'vitest';
import { compareRuns } from '../../src/report/compare.js';
import { renderComparisonMarkdown } from '../../src/report/markdown.js';
import { loadReportModel, type ReportModel } from '../../src/report/model.js';
import { AGENT_RUN, SCREEN_RUN } from './fixtures.js';

/** The same run with one candidate's times scaled, as if run B made it faster. */
function withCandidateScaled(model: ReportModel, candidate: string, factor: number): ReportModel {
  const copy = structuredClone(model);
  copy.run.id = 'B';
  for (const r of copy.results) if (r.candidate === candidate) for (const s of r.shapes) s.candidateNs = s.candidateNs.map((ns) => ns * factor);
  return copy;
}

describe('comparing two runs', () => {
  it('finds no change between a run and itself', () => {
    const model = loadReportModel(SCREEN_RUN);
    const c = compareRuns(model, model);
    expect(c.rows.length).toBe(6); // baseline, unroll2, vec4 on two shapes
    for (const r of c.rows) {
      expect(r.speedup.estimate).toBe(1);
      expect(r.verdict).toBe('no-change');
      expect(r.pValue).toBeGreaterThan(0.9);
    }
  });

  it('reports a candidate twice as fast in run B as faster, with a small p-value', () => {
    const a = loadReportModel(SCREEN_RUN);
    const c = compareRuns(a, withCandidateScaled(a, 'vec4', 0.5));
    const vec4 = c.rows.filter((r) => r.candidate === 'vec4');
    expect(vec4.map((r) => r.verdict)).toEqual(['faster', 'faster']);
    for (const r of vec4) {
      expect(r.speedup.estimate).toBeCloseTo(2, 10);
      expect(r.speedup.lo).toBeGreaterThan(1.9);
      expect(r.pValue).toBeLessThan(0.001);
    }
    expect(c.rows.filter((r) => r.candidate !== 'vec4').every((r) => r.verdict === 'no-change')).toBe(true);
  });

  it('lists the benchmarks only one run timed', () => {
    const c = compareRuns(loadReportModel(SCREEN_RUN), loadReportModel(AGENT_RUN));
    expect(c.rows.map((r) => r.name)).toEqual(['rms_norm/baseline/decode 1x4096/wasm', 'rms_norm/baseline/prefill 64x4096/wasm']);
    expect(c.onlyInA).toContain('rms_norm/vec4/decode 1x4096/wasm');
    expect(c.onlyInB).toContain('rms_norm/acc4/prefill 64x4096/c7g');
    expect(renderComparisonMarkdown(c)).toMatch(/Only in 20261127-070000-c3d4 \(\d+\):\n(- .*\n)*- rms_norm\/acc4\//);
  });

  it('lists unmatched benchmarks one a line, at most 10, never one long line', () => {
    const c = compareRuns(loadReportModel(SCREEN_RUN), loadReportModel(AGENT_RUN));
    const many = { ...c, onlyInA: Array.from({ length: 200 }, (_, i) => `k/cand${i}/decode 1x4096/wasm`) };
    const text = renderComparisonMarkdown(many);
    expect(Math.max(...text.split('\n').map((l) => l.length))).toBeLessThan(400);
    expect(text).toContain('Only in');
    expect(text).toContain('- k/cand9/decode 1x4096/wasm\n- … and 190 more (--json lists them all)');
    expect(text).not.toContain('cand10/');
  });
});

describe('comparing two runs when the machine moved', () => {
  it('marks every row of a kernel, shape and target unstable when the baseline moved, instead of calling a change', () => {
    const a = loadReportModel(SCREEN_RUN);
    const b = structuredClone(a);
    b.run.id = 'B';
    // A slower session: every timing of the run, the baseline's included, took 3× as long.
    for (const r of b.results)
      for (const s of r.shapes) {
        s.baselineNs = s.baselineNs.map((ns) => ns * 3);
        s.candidateNs = s.candidateNs.map((ns) => ns * 3);
      }
    const c = compareRuns(a, b);
    expect(c.rows.length).toBe(6);
    for (const r of c.rows) {
      expect(r.verdict).toBe('unstable');
      expect(r.unstableReason).toMatch(/baseline itself came out 0\.33×/);
    }
    expect(renderComparisonMarkdown(c)).toMatch(/Warning: rms_norm on decode 1x4096, wasm: the baseline itself came out 0\.33×/);
  });

  it('still calls a change when only the candidate moved', () => {
    const a = loadReportModel(SCREEN_RUN);
    const c = compareRuns(a, withCandidateScaled(a, 'vec4', 2));
    expect(c.rows.filter((r) => r.candidate === 'vec4').map((r) => r.verdict)).toEqual(['slower', 'slower']);
    expect(c.rows.some((r) => r.verdict === 'unstable')).toBe(false);
  });
});
