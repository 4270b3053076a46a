// A one-line TTY status (spinner + text) on stderr; silent when stderr is not a TTY or with --json.
export interface Progress {
  start(label: string): void;
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function createProgress({ json = false, stream = process.stderr }: { json?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const live = !json && stream.isTTY === true;
  let text = '';
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  const draw = () => live && stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${text}`);
  const clear = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    if (live) stream.write('\r\x1b[2K');
  };
  const finish = (mark: string, t?: string) => {
    clear();
    if (live && (t ?? text)) stream.write(`${mark} ${t ?? text}\n`);
  };
  return {
    start(label) {
      text = label;
      if (live && !timer) timer = setInterval(draw, 80).unref();
      draw();
    },
    update(t) {
      if (!timer) this.start(t);
      text = t;
    },
    succeed: (t) => finish(process.env.NO_COLOR ? 'ok' : '\x1b[32m✔\x1b[0m', t),
    fail: (t) => finish(process.env.NO_COLOR ? 'failed' : '\x1b[31m✖\x1b[0m', t),
    stop: clear,
  };
}
