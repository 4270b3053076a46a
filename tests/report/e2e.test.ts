// The end-to-end section of the reports, from a hand-made ledger: a run of kind 'e2e' with one timed and predicted
// candidate and one the logits caught. The facts reach Markdown, HTML, JSON and the gbench export alike.
import { describe, expect, it } from 'vitest';
import type { E2eResult, LedgerEvent } from '../../src/ledger/records.js';
import { buildGbench } from '../../src/report/gbench.js';
import { renderHtml } from '../../src/report/html.js';
import { renderJson } from '../../src/report/json.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { buildReportModel } from '../../src/report/model.js';
import { validateGbench } from './gbench-schema.js';

const interval = (estimate: number, lo: number, hi: number) => ({ estimate, lo, hi, level: 0.95 });
const test = (label: string, kind: 'pp' | 'tg', ratio: number) => ({
  label, kind, tokens: kind === 'pp' ? 32 : 8, depth: 0, referenceNs: [1e7, 1.1e7, 1.05e7], graftNs: [0.99e7, 1.08e7, 1.04e7],
  referenceTokensPerS: 3000, graftTokensPerS: 3000 * ratio, ratio: interval(ratio, ratio - 0.01, ratio + 0.01), verdict: 'no-change' as const, noiseFloor: 0.02,
  summary: 'no change: +1.0% tokens/s (95% CI +0.0% … +2.0%) lies within the ±2% noise floor',
});
const base = {
  kernel: 'rms_norm', sourceSha256: 'ab'.repeat(32), host: 'local', hostname: 'box',
  upstream: { origin: 'npm:node-llama-cpp@3.22.1', commit: 'de3ff815aaaa', flags: 'avx2 fma f16c' },
  model: { path: '/tmp/m.gguf', generated: true, params: { layers: 2, embd: 256 }, parameters: 9e6 },
  recipe: { file: 'ggml/src/ggml-cpu/ops.cpp', function: 'ggml_compute_forward_rms_norm_f32', env: { GGML_CPU_DISABLE_FUSION: '1' }, flashAttention: 'auto' as const },
  bench: { threads: 1, prompt: 32, gen: 8, depths: [0], rounds: 3, seed: 1 },
  elapsedMs: 1000,
};
const timed: E2eResult = {
  ...base, candidate: 'unroll_fused',
  logits: { status: 'agree', reason: 'top-1 identical over 48 rows', maxRelDiff: 6e-4, tolerance: 4.9e-3 },
  timing: { status: 'timed', tests: [test('pp32 @ d0', 'pp', 1.01), test('tg8 @ d0', 'tg', 1.004)], stability: { status: 'unstable', reasons: ['busy'] }, load: {} },
  shares: [{ label: 'pp32 @ d0', share: interval(0.02, 0.01, 0.03) }, { label: 'tg8 @ d0', share: interval(0.01, 0, 0.02) }],
  prediction: [{ label: 'tg8 @ d0', opShape: 'decode 1x4096', opSpeedup: interval(3, 2.9, 3.1), share: interval(0.01, 0, 0.02), predicted: interval(1.0067, 1, 1.0135), check: { gap: 0.997, agrees: true, summary: 'measured +0.4%, predicted +0.7%: they agree' } }],
  opSpeedupRun: '20260101-000000-abcd',
};
const caught: E2eResult = { ...base, candidate: 'rms_norm_scaled', logits: { status: 'differ', reason: 'max relative logit difference 1.6e-2 exceeded' } };
const events: LedgerEvent[] = [
  { type: 'run-start', schema: 'kbench.ledger/1', kind: 'e2e', id: 'r1', at: '2026-01-01T00:00:00.000Z' },
  { type: 'e2e', at: '2026-01-01T00:01:00.000Z', result: timed },
  { type: 'e2e', at: '2026-01-01T00:02:00.000Z', result: caught },
  { type: 'run-end', at: '2026-01-01T00:03:00.000Z', status: 'done' },
];

describe('the end-to-end section', () => {
  const model = buildReportModel(events);

  it('is in the model, counts as shown, and makes the run unstable when a timing was', () => {
    expect(model.e2e.map((r) => r.candidate)).toEqual(['unroll_fused', 'rms_norm_scaled']);
    expect(model.otherEvents).toEqual({});
    expect(model.run.stability.reasons).toContain('e2e rms_norm/unroll_fused: busy');
    expect(JSON.parse(renderJson(model)).e2e).toHaveLength(2);
  });

  it('renders a row per test with ratio, share and prediction in Markdown, and the caught candidate without a table', () => {
    const md = renderMarkdown(model);
    expect(md).toContain('## End to end');
    expect(md).toContain('| pp32 @ d0 | 3000.0 | 3030.0 | 1.010× [1.000, 1.020] | no-change | 2.0% [1.0, 3.0] | – |');
    expect(md).toContain('| tg8 @ d0 | 3000.0 | 3012.0 | 1.004× [0.994, 1.014] | no-change | 1.0% [0.0, 2.0] | 1.007× [1.000, 1.014] |');
    expect(md).toContain('### rms_norm/rms_norm_scaled');
    expect(md).toContain('- logits differ: max relative logit difference 1.6e-2 exceeded');
    expect(md).toContain('not timed: the logits did not agree');
    // an e2e-only run has no op-level timings to speak of
    expect(md).not.toContain('Speedup vs baseline');
  });

  it('renders the section in HTML and the timings as gbench entries with tokens per second', () => {
    expect(renderHtml(model)).toMatch(/<section id="e2e"><h2>End to end<\/h2>.*pp32 @ d0/s);
    const gbench = buildGbench(model);
    expect(validateGbench(gbench)).toEqual([]);
    const iterations = gbench.benchmarks.filter((b) => b.run_type === 'iteration' && b.name === 'rms_norm/unroll_fused/e2e tg8 @ d0/local');
    expect(iterations).toHaveLength(3);
    expect(iterations[0]).toMatchObject({ real_time: 0.99e7, items_per_second: expect.closeTo(8 / 0.99e-2, 6) });
    expect(gbench.benchmarks.some((b) => b.name === 'rms_norm/upstream/e2e pp32 @ d0/local_median')).toBe(true);
  });
});
