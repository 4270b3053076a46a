// "vs upstream" in what a run leaves behind: the Markdown report (a column, which upstream, the best candidate
// against it), the gbench export's labels and kbench compare. Synthetic ledger events: no ggml build needed.
import { describe, expect, it } from 'vitest';
import type { LedgerEvent, TargetResult, UpstreamInfo } from '../../src/ledger/records.js';
import type { SpeedResult } from '../../src/measure/types.js';
import { buildReportModel } from '../../src/report/model.js';
import { renderReport } from '../../src/report/index.js';
import { compareRuns } from '../../src/report/compare.js';
import { renderComparisonMarkdown } from '../../src/report/markdown.js';
import { renderNative } from '../../src/cli/commands/native-render.js';

const upstream: UpstreamInfo = { origin: 'npm:node-llama-cpp@3.22.1', commit: 'de3ff815ea7d559ee917f063901b8986f038abc6', flags: '-mavx2 -mfma -mf16c', call: 'graph', how: 'ggml_rms_norm graph', copies: 16 };

function speed(candidateNs: number, upstreamNs: number, baselineNs = 3000): SpeedResult {
  const n = 9;
  const s = upstreamNs / candidateNs;
  return {
    shape: 'decode 1x4096',
    ratios: Array(n).fill(baselineNs / candidateNs),
    baselineNs: Array(n).fill(baselineNs),
    candidateNs: Array(n).fill(candidateNs),
    speedup: { estimate: baselineNs / candidateNs, lo: baselineNs / candidateNs - 0.01, hi: baselineNs / candidateNs + 0.01, level: 0.95 },
    verdict: 'faster',
    noiseFloor: 0.02,
    callsPerSample: 100,
    candidateMedianNs: candidateNs,
    baselineMedianNs: baselineNs,
    gbps: 1,
    gflops: 1,
    vsUpstream: { estimate: s, lo: s - 0.05, hi: s + 0.05, level: 0.95, verdict: 'faster' },
    upstreamNs: Array(n).fill(upstreamNs),
    upstreamMedianNs: upstreamNs,
  };
}

function run(id: string, candidateNs: number): LedgerEvent[] {
  const result = (candidate: string, s: SpeedResult): TargetResult => ({ kernel: 'rms_norm', candidate, target: 'local', arch: 'x86_64', toolchain: 'cc -O3', sourceSha256: 'x', check: { status: 'pass', calls: 1 }, speed: [s], elapsedMs: 1, upstream });
  const at = '2026-11-30T06:00:00Z';
  return [
    { type: 'run-start', schema: 'kbench.ledger/1', kind: 'run', id, at },
    { type: 'result', at, result: result('vec4', speed(candidateNs, 3000)) },
    { type: 'result', at, result: result('upstream', speed(3000, 3000)) },
    { type: 'run-end', at, status: 'done' },
  ];
}

describe('vs upstream in reports', () => {
  it('the Markdown report has the column, says which upstream and the best candidate against it', () => {
    const md = renderReport(buildReportModel(run('a', 500)), 'md');
    expect(md).toMatch(/\| vs upstream \[95% CI\] \|/);
    expect(md).toMatch(/\| vec4 \| local \| decode 1x4096 \| 6\.00× .*\| 6\.00× \[5\.95, 6\.05\] faster \|/);
    expect(md).toContain('ggml de3ff815ea7d (npm:node-llama-cpp@3.22.1), -mavx2 -mfma -mf16c, graph of 16 ops');
    expect(md).toMatch(/best vs upstream, rms_norm decode 1x4096 on local: vec4 6\.00×/);
  });

  it('names the shapes whose upstream graph held fewer copies than asked, in the terminal and both reports', () => {
    const events = run('a', 500).map((e) => (e.type === 'result' ? { ...e, result: { ...e.result, speed: e.result.speed.map((s) => ({ ...s, upstreamCopies: 2 })) } } : e)) as LedgerEvent[];
    const capped = 'graph of 16 ops (2 on decode 1x4096: a timing batch holds no more)';
    const model = buildReportModel(events);
    expect(renderReport(model, 'md')).toContain(capped);
    expect(renderReport(model, 'html')).toContain(capped);
    const results = events.flatMap((e) => (e.type === 'result' ? [e.result] : []));
    expect(renderNative(results, { run: { status: 'stable', reasons: [] }, of: () => undefined })).toContain(capped);
    expect(renderReport(buildReportModel(run('a', 500)), 'md')).not.toContain('timing batch');
  });

  it('the gbench export labels the candidate with its vs upstream', () => {
    const json = JSON.parse(renderReport(buildReportModel(run('a', 500)), 'gbench')) as { benchmarks: { name: string; label?: string }[] };
    const vec4 = json.benchmarks.find((b) => b.name.includes('vec4') && b.label);
    expect(vec4?.label).toMatch(/vs upstream 6\.00x \[5\.95, 6\.05\] faster/);
    expect(json.benchmarks.find((b) => b.name.includes('baseline') && b.label?.includes('vs upstream'))).toBeUndefined();
  });

  it('kbench compare shows each run\'s vs upstream beside the change', () => {
    const c = compareRuns(buildReportModel(run('a', 500)), buildReportModel(run('b', 400)));
    const row = c.rows.find((r) => r.candidate === 'vec4')!;
    expect(row.vsUpstreamA?.estimate).toBeCloseTo(6);
    expect(row.vsUpstreamB?.estimate).toBeCloseTo(7.5);
    expect(renderComparisonMarkdown(c)).toMatch(/\| 6\.00× → 7\.50× \|/);
    // ggml itself is a row too: the same upstream in both runs is an A/A comparison
    expect(c.rows.some((r) => r.candidate === 'upstream')).toBe(true);
  });
});
