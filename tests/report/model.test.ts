import { describe, expect, it } from 'vitest';
import type { LedgerEvent, TargetResult } from '../../src/ledger/records.js';
import { buildReportModel, loadReportModel } from '../../src/report/model.js';
import { AGENT_RUN, SCREEN_RUN } from './fixtures.js';
import { targetResult } from '../helpers/results.js';

function result(candidate: string, target: string, extra: Partial<TargetResult> = {}): LedgerEvent {
  return { type: 'result', at: '2026-11-27T06:00:01.000Z', result: targetResult({ candidate, target, sourceSha256: 'ab', ...extra }) };
}

describe('the report model', () => {
  it('keeps one row per candidate and target, the latest result replacing a retried one', () => {
    const model = buildReportModel([
      result('a', 'h1', { hostFailure: 'ssh timed out' }),
      result('a', 'wasm'),
      result('a', 'h1'),
    ]);
    expect(model.results.map((r) => [r.target, r.status])).toEqual([['wasm', 'pass'], ['h1', 'pass']]);
    expect(model.run.status).toBe('running');
  });

  it('turns failures into readable reasons and host failures into their own status', () => {
    const model = loadReportModel(AGENT_RUN);
    const reasons = Object.fromEntries(model.results.filter((r) => r.reason).map((r) => [`${r.candidate}@${r.target}`, [r.status, r.reason]]));
    expect(reasons['rsqrt_nr@wasm'][0]).toBe('wrong');
    expect(reasons['rsqrt_nr@wasm'][1]).toMatch(/^wrong: y\[3\].*n=15 rows=3, large$/);
    expect(reasons['fused8@c7g']).toEqual(['host-failure', 'host failure: ssh: connect to host c7g port 22: Connection timed out']);
  });

  it('correlates WASM and native speedups per host, with no rho below three points', () => {
    const { correlations } = loadReportModel(AGENT_RUN);
    expect(correlations.map((c) => [c.target, c.points.length])).toEqual([['c7i', 4], ['c7g', 2]]);
    expect(correlations[0].spearmanRho).toBeCloseTo(1, 10);
    expect(correlations[1].spearmanRho).toBeNull();
  });

  it('reads the agent timeline, stop reason and cost, and counts event types it does not know', () => {
    const model = loadReportModel(AGENT_RUN);
    expect(model.agent!.experiments.map((x) => [x.candidate, x.outcome])).toEqual([['acc4', 'kept'], ['fused8', 'discarded'], ['rsqrt_nr', 'failed']]);
    expect(model.agent!.stopReason).toMatch(/max experiments/);
    expect(model.agent!.cost.totalUsd).toBeCloseTo(0.184 + 0.097 + 0.0041 + 0.0011, 10);
    expect(model.otherEvents).toEqual({ note: 1 });
    expect(loadReportModel(SCREEN_RUN).agent).toBeUndefined();
  });

  it('shows an experiment whose hypothesis produced no candidate', () => {
    const model = buildReportModel([
      { type: 'run-start', schema: 'kbench.ledger/1', kind: 'agent', id: 'r', at: '2026-11-27T06:00:00.000Z' },
      { type: 'hypothesis', at: '2026-11-27T06:00:01.000Z', id: 'h1', title: 'unroll' },
      { type: 'verdict', at: '2026-11-27T06:00:02.000Z', candidate: null, hypothesis: 'h1', decision: 'failed', basis: 'none', reason: 'never compiled' },
    ]);
    expect(model.agent!.experiments).toEqual([
      { candidate: null, hypothesisId: 'h1', hypothesis: 'unroll', startedAt: '2026-11-27T06:00:02.000Z', outcome: 'failed', decidedAt: '2026-11-27T06:00:02.000Z', reason: 'never compiled' },
    ]);
  });

  it('leaves emulated timings out of the WASM-vs-native correlation', () => {
    const speed = (estimate: number, emulated?: boolean) => ({
      shape: 's', ratios: [estimate], baselineNs: [2], candidateNs: [1], speedup: { estimate, lo: estimate, hi: estimate, level: 0.95 }, verdict: 'faster' as const,
      noiseFloor: 0.02, callsPerSample: 1, candidateMedianNs: 1, baselineMedianNs: 2, gbps: 1, gflops: 1, ...(emulated ? { emulated } : {}),
    });
    const model = buildReportModel([
      result('a', 'wasm', { speed: [speed(2)] }),
      result('a', 'qemu', { arch: 'aarch64', speed: [speed(1.5, true)] }),
      result('a', 'h1', { speed: [speed(1.8)] }),
    ]);
    expect(model.correlations.map((c) => [c.target, c.points.length])).toEqual([['h1', 1]]);
    expect(model.results.find((r) => r.target === 'qemu')!.shapes[0].emulated).toBe(true);
  });

  it('names the path when a folder holds no ledger', () => {
    expect(() => loadReportModel('/nonexistent/run')).toThrow(/\/nonexistent\/run: no ledger.jsonl/);
  });
});
