// The logits verdict on hand-made rows: agreement within the tolerance, a top-1 change or a too-large difference
// caught with the row named, non-finite logits caught, shapes checked; and the stated tolerance.
import { describe, expect, it } from 'vitest';
import { compareLogits, F16_UNIT_ROUNDOFF, logitsTolerance, type LogitsRun } from '../../src/e2e/logits.js';
import { BUILTIN_KERNELS_DIR, findKernel } from '../../src/spec/suite.js';

function run(rows: number[][], prompt = 1): LogitsRun {
  return { nVocab: rows[0].length, prompt, steps: rows.length - prompt, tokens: [], logits: Float32Array.from(rows.flat()), graftCalls: 3 };
}
const ref = run([[1, 4, 2], [0, -1, 8]]);

describe('comparing logits', () => {
  it('agrees when top-1 matches everywhere and the relative difference is within the tolerance', () => {
    const v = compareLogits(ref, run([[1, 4.003, 2], [0, -1, 8]]), 1e-3);
    expect(v).toMatchObject({ status: 'agree', top1MismatchRow: null, worstRow: 0, rows: 2, graftCalls: 3 });
    expect(v.maxRelDiff).toBeCloseTo(0.003 / 4, 6);
    expect(v.reason).toMatch(/top-1 identical over 2 rows \(1 prompt positions, 1 decode steps\)/);
  });

  it('differs when a row moves more than the tolerance, scaled by its largest logit', () => {
    const v = compareLogits(ref, run([[1, 4, 2], [0, -1.1, 8]]), 1e-3);
    expect(v).toMatchObject({ status: 'differ', worstRow: 1 });
    expect(v.maxRelDiff).toBeCloseTo(0.1 / 8, 6);
    expect(v.reason).toMatch(/at decode step 1\).*exceeded/);
  });

  it('differs when the top-1 token changes, even within the tolerance, naming the row and both tokens', () => {
    const v = compareLogits(run([[1, 4, 3.9999]]), run([[1, 4, 4.0001]]), 1e-3);
    expect(v).toMatchObject({ status: 'differ', top1MismatchRow: 0 });
    expect(v.reason).toMatch(/top-1 token differs at prompt position 0: reference 1 .* grafted 2/);
  });

  it('differs on a non-finite logit, and fails on another shape', () => {
    expect(compareLogits(ref, run([[1, NaN, 2], [0, -1, 8]]), 1)).toMatchObject({ status: 'differ', maxRelDiff: Infinity });
    expect(compareLogits(ref, run([[1, 4, 2, 0], [0, -1, 8, 0]]), 1).status).toBe('failed');
  });
});

describe('the stated tolerance', () => {
  it('is ten times the larger of the op rtol and the f16 activation rounding', () => {
    const rms = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm').spec;
    expect(logitsTolerance(rms)).toBeCloseTo(10 * F16_UNIT_ROUNDOFF, 12);
    expect(logitsTolerance(rms, 1 / 254)).toBeCloseTo(10 / 254, 12);
  });
});
