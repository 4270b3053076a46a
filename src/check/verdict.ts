// Every way a correctness check can end, as data with its evidence (never an exception). `harness-error` is
// kbench's own failure (a bug, a lost sandbox host): the candidate is not judged, and the command exits 1.

export interface Where {
  /** display name of the shape, e.g. "n=17 rows=1" */
  shape: string;
  distribution: string;
  /** set for threaded kernels: the nth the partition was run with */
  nth?: number;
  /** set when the failure was found in outputs of timed calls */
  phase?: 'check' | 'timed';
}

export type CheckVerdict =
  | { status: 'pass'; calls: number }
  | ({ status: 'wrong'; buffer: string; index: number; got: number; expected: number; nmse: number; reason: string } & Where)
  | ({ status: 'out-of-bounds'; buffer: string; side: 'before' | 'after'; offset: number } & Where)
  | ({ status: 'input-mutated'; buffer: string; index: number } & Where)
  | ({ status: 'trap'; message: string } & Partial<Where>)
  | { status: 'timeout'; ms: number; during: 'check' | 'bench' }
  | { status: 'compile-error'; diagnostic: string }
  | { status: 'harness-error'; message: string };

export type CheckStatus = CheckVerdict['status'];

/** One line a person can read, e.g. "wrong: y[16] = 0 (expected 1.25) at n=17 rows=1, uniform". */
export function describeVerdict(v: CheckVerdict): string {
  const at = (w: Partial<Where>) =>
    w.shape ? ` at ${w.shape}${w.distribution ? `, ${w.distribution}` : ''}${w.nth ? `, nth=${w.nth}` : ''}${w.phase === 'timed' ? ' (timed call)' : ''}` : '';
  switch (v.status) {
    case 'pass':
      return 'pass';
    case 'wrong':
      return `wrong: ${describeWrong(v)}; ${v.reason}${at(v)}`;
    case 'out-of-bounds':
      return `out-of-bounds: wrote ${v.side === 'before' ? `${v.offset + 1} bytes before` : `at byte ${v.offset} past the end of`} ${v.buffer}${at(v)}`;
    case 'input-mutated':
      return `input-mutated: ${v.buffer}[${v.index}] changed${at(v)}`;
    case 'trap':
      return `trap: ${v.message}${at(v)}`;
    case 'timeout':
      return `timeout: no answer within ${v.ms} ms during ${v.during}`;
    case 'compile-error':
      return `compile-error: ${v.diagnostic.split('\n')[0]}`;
    case 'harness-error':
      return `harness-error (kbench's fault, the candidate was not judged): ${v.message}`;
  }
}

/**
 * The verdict for an exception caught while a candidate was being called. Only what the candidate's code raised
 * is its trap: a WASM trap, or a stack overflow (a RangeError, from WASM recursion). Anything else is a bug of
 * kbench's own code around the call and must not be blamed on the candidate.
 */
export function thrownVerdict(e: unknown, where: Partial<Where> = {}, label = ''): CheckVerdict {
  const err = e as Error;
  if (err instanceof WebAssembly.RuntimeError || (err instanceof RangeError && /call stack size/.test(err.message)))
    return { status: 'trap', message: `${label}${err instanceof RangeError ? `RangeError: ${err.message}` : err.message}`, ...where };
  return { status: 'harness-error', message: `${label}${err?.name ?? 'Error'}: ${err?.message ?? String(e)}${err?.stack ? ` (${stackTop(err.stack)})` : ''}` };
}

/** The first frame of a stack, where kbench's code threw. */
function stackTop(stack: string): string {
  return /\n\s+at (.*)/.exec(stack)?.[1] ?? '';
}

/**
 * The evidence of a wrong output, only what is known. Verdicts read back from JSON have null where the number was
 * NaN or ±inf; NaN for both values means none was recorded (a mismatch is never NaN against NaN), as for a native
 * failure or a timed call that differs from the untimed one.
 */
function describeWrong(v: Extract<CheckVerdict, { status: 'wrong' }>): string {
  const known = (x: number | null) => typeof x === 'number' && !Number.isNaN(x);
  const value = (x: number | null) => (typeof x === 'number' ? String(x) : 'NaN or inf');
  const element = typeof v.index === 'number' && v.index >= 0 ? `${v.buffer}[${v.index}]` : v.buffer;
  const values = known(v.got) || known(v.expected) ? ` = ${value(v.got)} (expected ${value(v.expected)})` : '';
  const nmse = typeof v.nmse === 'number' && Number.isFinite(v.nmse) ? `, nmse ${v.nmse.toExponential(2)}` : '';
  return `${element}${values}${nmse}`;
}
