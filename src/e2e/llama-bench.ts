// One llama-bench invocation through an executor, so it runs here or on an ssh host alike: its arguments at the
// pinned commit (tools/llama-bench/llama-bench.cpp, de3ff815) and its `-o json` output, read into typed tests. A
// binary that crashes, hangs or prints garbage is an outcome with a reason, never an exception.
import { constants } from 'node:os';
import { HostError, isAbort, UsageError } from '../errors.js';
import type { Executor } from '../remote/executor.js';
import { shellQuote } from '../remote/ssh.js';

/**
 * -fa: with flash attention on, ggml fuses attention into one FLASH_ATTN_EXT op and never runs SOFT_MAX on the
 * attention scores; softmax candidates need 'off'.
 */
export type FlashAttn = 'on' | 'off' | 'auto';

export interface LlamaBenchArgs {
  /** GGUF path on the host that runs llama-bench */
  model: string;
  threads: number;
  /** -p: prompt tokens of the prompt-processing test (0: no pp test) */
  prompt: number;
  /** -n: tokens of the generation test (0: no tg test) */
  gen: number;
  /** -d: tokens already in the KV cache before each test; attention work grows with it */
  depths: number[];
  flashAttn: FlashAttn;
}

/** The arguments checked once, at the edge: a bad one is a UsageError naming it. */
export function checkLlamaBenchArgs(a: LlamaBenchArgs): LlamaBenchArgs {
  const bad = (field: string, problem: string): never => {
    throw new UsageError(`llama-bench ${field}: ${problem}`);
  };
  const whole = (x: number) => Number.isInteger(x) && x >= 0;
  if (!a.model) bad('model', 'no model path');
  if (!(whole(a.threads) && a.threads >= 1)) bad('threads', `must be a whole number ≥ 1, got ${a.threads}`);
  if (!whole(a.prompt)) bad('prompt', `must be a whole number ≥ 0, got ${a.prompt}`);
  if (!whole(a.gen)) bad('gen', `must be a whole number ≥ 0, got ${a.gen}`);
  if (a.prompt === 0 && a.gen === 0) bad('prompt/gen', 'both are 0: no test to run');
  if (!(a.depths.length > 0 && a.depths.every(whole))) bad('depths', `must be whole numbers ≥ 0, got ${a.depths.join(',') || 'none'}`);
  if (!['on', 'off', 'auto'].includes(a.flashAttn)) bad('flashAttn', `must be on, off or auto, got ${a.flashAttn}`);
  return a;
}

/** One repetition of each test (-r 1): kbench repeats by alternating invocations, not inside one process. */
export function llamaBenchArgv(a: LlamaBenchArgs): string[] {
  return ['-m', a.model, '-t', String(a.threads), '-p', String(a.prompt), '-n', String(a.gen), '-d', a.depths.join(','), '-r', '1', '-fa', a.flashAttn, '-o', 'json'];
}

export interface LlamaBenchTest {
  kind: 'pp' | 'tg';
  /** "pp128 @ d4096", as llama-bench's own table names it */
  label: string;
  tokens: number;
  depth: number;
  /** wall time of the test, ns (avg_ns over the one repetition) */
  ns: number;
  tokensPerS: number;
}

export type LlamaBenchOutcome = { ok: true; tests: LlamaBenchTest[] } | { ok: false; reason: string };

export function testLabel(kind: 'pp' | 'tg', tokens: number, depth: number): string {
  return `${kind}${tokens} @ d${depth}`;
}

/** The tests an invocation with these arguments reports, in llama-bench's order (per depth: pp, then tg). */
export function expectedTests(a: Pick<LlamaBenchArgs, 'prompt' | 'gen' | 'depths'>): string[] {
  return a.depths.flatMap((d) => [...(a.prompt > 0 ? [testLabel('pp', a.prompt, d)] : []), ...(a.gen > 0 ? [testLabel('tg', a.gen, d)] : [])]);
}

const positive = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x > 0;

/** llama-bench's JSON array of tests, checked field by field; any surprise is a reason, not a throw. */
export function parseLlamaBenchJson(stdout: string): LlamaBenchOutcome {
  const start = stdout.indexOf('[');
  const end = stdout.lastIndexOf(']');
  if (start < 0 || end < start) return { ok: false, reason: `printed no JSON array${excerpt(stdout)}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout.slice(start, end + 1));
  } catch (e) {
    return { ok: false, reason: `printed JSON that does not parse (${(e as Error).message})${excerpt(stdout)}` };
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return { ok: false, reason: 'printed an empty test list' };
  const tests: LlamaBenchTest[] = [];
  for (const [i, t] of parsed.entries()) {
    const r = (t ?? {}) as Record<string, unknown>;
    const nPrompt = Number(r.n_prompt);
    const nGen = Number(r.n_gen);
    const depth = Number(r.n_depth ?? 0);
    if (!(Number.isInteger(nPrompt) && Number.isInteger(nGen) && Number.isInteger(depth) && depth >= 0) || (nPrompt > 0) === (nGen > 0))
      return { ok: false, reason: `test ${i} is neither a prompt nor a generation test (n_prompt ${String(r.n_prompt)}, n_gen ${String(r.n_gen)})` };
    if (!positive(r.avg_ns) || !positive(r.avg_ts)) return { ok: false, reason: `test ${i} has no positive finite avg_ns/avg_ts` };
    const kind = nPrompt > 0 ? 'pp' : 'tg';
    const tokens = nPrompt > 0 ? nPrompt : nGen;
    tests.push({ kind, label: testLabel(kind, tokens, depth), tokens, depth, ns: r.avg_ns, tokensPerS: r.avg_ts });
  }
  return { ok: true, tests };
}

function excerpt(text: string): string {
  const t = text.trim();
  return t ? `: ${JSON.stringify(t.length > 120 ? `${t.slice(0, 120)}…` : t)}` : ' (no output)';
}

const SIGNAL_NAMES: Record<number, string> = {};
// aliases share a number (SIGIOT is SIGABRT): the first, canonical name wins
for (const [name, n] of Object.entries(constants.signals)) SIGNAL_NAMES[n] ??= name;

/** Why a process ended badly, with the last lines it wrote to stderr (where llama.cpp logs). */
export function describeExit(exitCode: number | null, signal: string | null, stderr: string): string {
  // through `sh -c`, a child killed by signal N shows as status 128 + N
  const bySignal = signal ?? (exitCode !== null && exitCode > 128 && SIGNAL_NAMES[exitCode - 128] ? SIGNAL_NAMES[exitCode - 128] : null);
  const how = bySignal ? `was killed by ${bySignal}` : `exited with status ${exitCode}`;
  const tail = stderr.trim().split('\n').slice(-3).join(' | ').slice(-300);
  return tail ? `${how}: ${tail}` : how;
}

export interface RunLlamaBenchOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** set for the invocation (through `env`, so it works the same over ssh): a graft's recipe env */
  env?: Record<string, string>;
}

/**
 * Runs `binary` with the arguments on the executor's host. The outcome's reason does not name the binary; the
 * caller, which knows which side it is, does. Only a cancellation throws.
 */
export async function runLlamaBench(executor: Executor, binary: string, args: LlamaBenchArgs, opts: RunLlamaBenchOptions): Promise<LlamaBenchOutcome> {
  const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const command = [...(env.length ? ['env', ...env] : []), binary, ...llamaBenchArgv(args)].map(shellQuote).join(' ');
  let result;
  try {
    result = await executor.exec(command, { timeoutMs: opts.timeoutMs, signal: opts.signal });
  } catch (e) {
    if (isAbort(e)) throw e;
    return { ok: false, reason: e instanceof HostError ? e.reason : `could not be started: ${(e as Error).message}` };
  }
  if (result.exitCode !== 0 || result.signal) return { ok: false, reason: describeExit(result.exitCode, result.signal, result.stderr) };
  const parsed = parseLlamaBenchJson(result.stdout);
  if (!parsed.ok) return parsed;
  const got = new Set(parsed.tests.map((t) => t.label));
  const missing = expectedTests(args).filter((label) => !got.has(label));
  if (missing.length) return { ok: false, reason: `reported no ${missing.join(', ')} test (it reported ${[...got].join(', ')})` };
  return parsed;
}
