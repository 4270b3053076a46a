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
  /** a count with a bar, the elapsed time and, once something is done, an ETA: [#####-----] 5/10 12 s, ETA 12 s */
  count(done: number, total: number, text?: string): void;
  /** lines under the status line, e.g. one per host of a parallel promotion; [] removes them */
  rows(lines: string[]): void;
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

/** 0.4 s, 12 s, 2 min 05 s */
export function formatDuration(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
}

/** "12 s, ETA 30 s": the ETA assumes the rest takes as long per item as what is done (none before the first). */
export function formatEta(done: number, total: number, elapsedMs: number): string {
  const eta = done > 0 && total > done ? `, ETA ${formatDuration((elapsedMs / done) * (total - done))}` : '';
  return `${formatDuration(elapsedMs)}${eta}`;
}

const SILENT: Progress = { enabled: false, start() {}, update() {}, count() {}, rows() {}, succeed() {}, fail() {}, stop() {} };

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
  let extra: string[] = [];
  /** lines on screen now, to clear before the next frame */
  let drawn = 1;
  let counting: { done: number; total: number; text?: string } | undefined;

  // One line, cut to the terminal width (less the mark, its space and one spare column): a wrapped line
  // could not be cleared with \r.
  const fit = (text: string) => {
    // a pty can report 0 columns (or none): that is "unknown", not "no room"
    const columns = stream.columns && stream.columns > 0 ? stream.columns : Number(env.COLUMNS) > 0 ? Number(env.COLUMNS) : 80;
    const room = Math.max(columns - 3, 2);
    return [...text].length > room ? [...text].slice(0, room - 1).join('') + '…' : text;
  };
  const line = (...parts: (string | undefined)[]) => fit(parts.filter(Boolean).join(' '));
  const clear = () => '\r\x1b[2K' + '\x1b[1A\x1b[2K'.repeat(drawn - 1);
  const draw = () => {
    // a count's elapsed time and ETA move with the clock, so they are recomputed on every frame
    if (counting) detail = `${formatBar(counting.done, counting.total, 10)} ${formatEta(counting.done, counting.total, now() - startedAt)}${counting.text ? ` ${counting.text}` : ''}`;
    const lines = [`${paint(36, FRAMES[frame])} ${line(label, detail)}`, ...extra.map((l) => `  ${fit(l)}`)];
    stream.write(clear() + lines.join('\n'));
    drawn = lines.length;
  };
  const end = (mark: string | undefined, text: string | undefined) => {
    if (!timer) return;
    clearInterval(timer);
    timer = undefined;
    const seconds = ((now() - startedAt) / 1000).toFixed(1);
    stream.write(clear() + (mark ? `${mark} ${line(label, text ?? (label ? undefined : detail), `(${seconds} s)`)}\n` : ''));
    [extra, drawn, counting] = [[], 1, undefined];
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
      counting = undefined;
      detail = text;
      draw();
    },
    count(done, total, text) {
      if (!timer) this.start('');
      counting = { done, total, text };
      draw();
    },
    rows(lines) {
      if (!timer) this.start('');
      extra = lines;
      draw();
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
