import { describe, expect, it } from 'vitest';
import { createProgress, formatBar, formatDuration, formatEta } from '../../src/cli/progress.js';
import { summaryLine } from '../../src/cli/format.js';
import type { TargetResult } from '../../src/ledger/records.js';

function fakeStream(isTTY: boolean, columns = 80) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns, write: (s: string) => (writes.push(s), true) } };
}

function run(options: Parameters<typeof createProgress>[0]) {
  let t = 1_000;
  const p = createProgress({ now: () => t, env: {}, ...options });
  p.start('compiling');
  p.update('vec4');
  t += 2_500;
  p.succeed('3 candidates');
  return p;
}

describe('progress', () => {
  it('writes nothing when the stream is not a TTY', () => {
    const { writes, stream } = fakeStream(false);
    expect(run({ stream }).enabled).toBe(false);
    expect(writes).toEqual([]);
  });

  it('writes nothing with --json even on a TTY', () => {
    const { writes, stream } = fakeStream(true);
    run({ stream, json: true });
    expect(writes).toEqual([]);
  });

  it('draws a spinner line and ends with a green mark and the elapsed time', () => {
    const { writes, stream } = fakeStream(true);
    run({ stream });
    expect(writes[0]).toBe('\r\x1b[2K\x1b[36m⠋\x1b[0m compiling');
    expect(writes[1]).toBe('\r\x1b[2K\x1b[36m⠋\x1b[0m compiling vec4');
    expect(writes.at(-1)).toBe('\r\x1b[2K\x1b[32m✔\x1b[0m compiling 3 candidates (2.5 s)\n');
  });

  it('drops colour codes under NO_COLOR', () => {
    const { writes, stream } = fakeStream(true);
    run({ stream, env: { NO_COLOR: '1' } });
    expect(writes.join('')).not.toContain('\x1b[3');
    expect(writes.at(-1)).toBe('\r\x1b[2K✔ compiling 3 candidates (2.5 s)\n');
  });

  it('cuts lines to the terminal width so \\r can clear them', () => {
    const { writes, stream } = fakeStream(true, 20);
    const p = createProgress({ stream, env: { NO_COLOR: '1' } });
    p.update('a very long status line that would wrap');
    p.fail();
    expect(writes.at(-2)).toBe('\r\x1b[2K⠋ a very long stat…');
    expect(writes.at(-1)).toMatch(/^\r\x1b\[2K✖ a very long stat…\n$/);
  });

  it('draws counts as a bar', () => {
    expect(formatBar(5, 10, 10)).toBe('[#####-----] 5/10');
    expect(formatBar(0, 0, 4)).toBe('[----] 0/0');
  });

  it('takes a pty that reports 0 columns for an unknown width, not for no room', () => {
    const { writes, stream } = fakeStream(true, 0);
    const p = createProgress({ stream, env: { NO_COLOR: '1' } });
    p.update('compiling rms_norm/vec4 with the warm compiler');
    p.stop();
    expect(writes[1]).toBe('\r\x1b[2K⠋ compiling rms_norm/vec4 with the warm compiler');
  });

  it('counts with the elapsed time and an ETA from the pace so far', () => {
    let t = 0;
    const { writes, stream } = fakeStream(true, 120);
    const p = createProgress({ stream, env: { NO_COLOR: '1' }, now: () => t });
    p.count(0, 4, 'a');
    expect(writes.at(-1)).toBe('\r\x1b[2K⠋ [----------] 0/4 0.0 s a');
    t = 30_000;
    p.count(1, 4, 'b');
    expect(writes.at(-1)).toBe('\r\x1b[2K⠋ [###-------] 1/4 30 s, ETA 1 min 30 s b');
    p.stop();
    expect(formatDuration(125_000)).toBe('2 min 05 s');
    expect(formatEta(4, 4, 2_000)).toBe('2.0 s');
  });

  it('draws one line per host under the status line, and clears them all before redrawing', () => {
    const { writes, stream } = fakeStream(true, 80);
    const p = createProgress({ stream, env: { NO_COLOR: '1' }, now: () => 0 });
    p.start('promoting');
    p.rows(['x86a  rms_norm/vec4: building', 'arm1  rms_norm/vec4: checking and timing']);
    expect(writes.at(-1)).toBe('\r\x1b[2K⠋ promoting\n  x86a  rms_norm/vec4: building\n  arm1  rms_norm/vec4: checking and timing');
    p.update('1/2');
    expect(writes.at(-1)!.startsWith('\r\x1b[2K\x1b[1A\x1b[2K\x1b[1A\x1b[2K⠋ promoting 1/2\n')).toBe(true);
    p.succeed('done');
    expect(writes.at(-1)).toBe('\r\x1b[2K\x1b[1A\x1b[2K\x1b[1A\x1b[2K✔ promoting done (0.0 s)\n');
  });
});

describe('the closing summary line', () => {
  const speed = (shape: string, estimate: number, extra: object = {}) => ({ shape, verdict: estimate > 1.05 ? 'faster' : 'no-change', speedup: { estimate, lo: estimate - 0.1, hi: estimate + 0.1, level: 0.95 }, ...extra });
  const result = (candidate: string, target: string, speeds: object[]) => ({ kernel: 'rms_norm', candidate, target, speed: speeds }) as unknown as TargetResult;

  it('names the winner with its CI and shape, and never a suspect timing', () => {
    const results = [
      result('baseline', 'wasm', []),
      result('vec4', 'wasm', [speed('decode 1x4096', 1.5), speed('prefill 64x4096', 1.2)]),
      result('unroll_fused', 'wasm', [speed('decode 1x4096', 11.5)]),
      result('cache', 'wasm', [speed('decode 1x4096', 90, { suspect: 'past the speed of light' })]),
    ];
    expect(summaryLine(results, 41_000)).toBe('3 candidates in 41 s, 2 faster; best: rms_norm/unroll_fused 11.50× [11.40, 11.60] vs baseline on decode 1x4096 (faster)');
    expect(summaryLine([result('vec4', 'x86a', [speed('d', 2)])], 1_000)).toMatch(/on d on host x86a/);
    expect(summaryLine([result('vec4', 'wasm', [])], 1_000)).toBe('1 candidate in 1.0 s, 0 faster; nothing timed');
  });
});
