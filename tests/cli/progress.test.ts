import { describe, expect, it } from 'vitest';
import { createProgress, formatBar } from '../../src/cli/progress.js';

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
});
