// Spinners and progress counts for long CLI steps. They draw only on an interactive terminal: with --json,
// when the stream is not a TTY (pipes, CI logs) or TERM=dumb they write nothing at all, so output stays clean.
// NO_COLOR (https://no-color.org) drops the colour codes but keeps the spinner.
import type { Writable } from 'node:stream';

export interface ProgressStream extends Pick<Writable, 'write'> {
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** --json: machine-readable output, never decorate */
  json?: boolean;
  /** default process.stderr, so stdout stays the command's result */
  stream?: ProgressStream;
  /** default process.env (NO_COLOR, TERM) */
  env?: NodeJS.ProcessEnv;
  /** spinner frame interval; default 80 ms */
  intervalMs?: number;
  /** clock for elapsed times; default Date.now */
  now?: () => number;
}

export interface Progress {
  /** false when nothing will be drawn */
  readonly enabled: boolean;
  /** begins a step; a step still running is stopped without a mark */
  start(label: string): void;
  /** the detail after the label, e.g. "candidate 3 of 8: vec4"; starts an unlabelled step when none runs */
  update(text: string): void;
  /** a count with a bar, e.g. [#####-----] 5/10 */
  count(done: number, total: number, text?: string): void;
  /** ends the step with ✔ and its elapsed time */
  succeed(text?: string): void;
  /** ends the step with ✖ */
  fail(text?: string): void;
  /** clears the line and ends the step without a mark */
  stop(): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function formatBar(done: number, total: number, width = 20): string {
  const share = total > 0 ? Math.min(Math.max(done / total, 0), 1) : 0;
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`;
}

const SILENT: Progress = { enabled: false, start() {}, update() {}, count() {}, succeed() {}, fail() {}, stop() {} };

export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const env = options.env ?? process.env;
  if (options.json || !stream.isTTY || env.TERM === 'dumb') return SILENT;
  const color = env.NO_COLOR === undefined || env.NO_COLOR === '';
  const paint = (code: number, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const now = options.now ?? Date.now;
  let label = '';
  let detail = '';
  let frame = 0;
  let startedAt = 0;
  let timer: NodeJS.Timeout | undefined;

  // One line, cut to the terminal width (less the mark, its space and one spare column): a wrapped line
  // could not be cleared with \r.
  const fit = (text: string) => {
    const room = (stream.columns ?? 80) - 3;
    return [...text].length > room ? [...text].slice(0, room - 1).join('') + '…' : text;
  };
  const line = (...parts: (string | undefined)[]) => fit(parts.filter(Boolean).join(' '));
  const draw = () => {
    stream.write(`\r\x1b[2K${paint(36, FRAMES[frame])} ${line(label, detail)}`);
  };
  const end = (mark: string | undefined, text: string | undefined) => {
    if (!timer) return;
    clearInterval(timer);
    timer = undefined;
    const seconds = ((now() - startedAt) / 1000).toFixed(1);
    stream.write(mark ? `\r\x1b[2K${mark} ${line(label, text ?? (label ? undefined : detail), `(${seconds} s)`)}\n` : '\r\x1b[2K');
  };

  return {
    enabled: true,
    start(next) {
      end(undefined, undefined);
      [label, detail, frame, startedAt] = [next, '', 0, now()];
      timer = setInterval(() => {
        frame = (frame + 1) % FRAMES.length;
        draw();
      }, options.intervalMs ?? 80);
      timer.unref(); // a forgotten spinner must not keep the process alive
      draw();
    },
    update(text) {
      if (!timer) this.start('');
      detail = text;
      draw();
    },
    count(done, total, text) {
      this.update(`${formatBar(done, total)}${text ? ` ${text}` : ''}`);
    },
    succeed(text) {
      end(paint(32, '✔'), text);
    },
    fail(text) {
      end(paint(31, '✖'), text);
    },
    stop() {
      end(undefined, undefined);
    },
  };
}
