// Turns what a host sent back for one candidate (driver events, output bytes, exit status) into a check verdict
// and speed results. Outputs are compared here, in TypeScript, against the reference outputs of the same run.
import { createHmac } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { bufferLayouts } from '../check/inputs.js';
import { compareOutput } from '../check/compare.js';
import { PROTOCOL } from '../check/rules.js';
import { scrubDiagnostics } from '../build/diagnostics.js';
import type { CheckVerdict } from '../check/verdict.js';
import { summarizeSamples } from '../measure/speed.js';
import { bootstrapMedianCI, median, pairedRatios, speedVerdict } from '../measure/stats.js';
import type { SpeedOfLight } from '../measure/speed-of-light.js';
import type { SpeedResult } from '../measure/types.js';
import type { Kernel } from '../spec/suite.js';
import type { PlanCase } from './bundle.js';

/** A line the driver printed (see remote/driver/kb_driver.c). */
interface DriverEvent {
  event: string;
  id?: number;
  nth?: number;
  call?: string;
  phase?: 'check' | 'timed';
  status?: string;
  buffer?: string;
  side?: 'before' | 'after';
  offset?: number;
  index?: number;
  reason?: string;
  message?: string;
  callsPerSample?: number;
  baselineNs?: number[];
  candidateNs?: number[];
  upstreamNs?: number[];
  upstreamCopies?: number;
  speedOfLight?: SpeedOfLight;
}

export interface Judgement {
  check: CheckVerdict;
  speed: SpeedResult[];
  /** set when the harness itself failed on the host (not the candidate's fault) */
  harnessError?: string;
  /** with --upstream: the upstream variant timed against the baseline in the same rounds (its own result) */
  upstreamSpeed?: SpeedResult[];
}

export interface JudgeOptions {
  noiseFloor: number;
  seed: number;
  emulated: boolean;
  candidateTimeoutS: number;
  /** the run's secret every result line must carry (bundle.ts newNonce) */
  nonce: string;
}

const SIGNALS: Record<number, string> = { 4: 'SIGILL', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM', 25: 'SIGXFSZ (it wrote past the 1 GiB file size limit)' };

/** The events of one driver process and, when its result channel was tampered with, why it cannot be trusted. */
interface Channel {
  events: DriverEvent[];
  problem?: string;
}

/** Events the driver prints once per process (case, ok and time once per case). */
const ONCE = new Set(['start', 'done', 'case', 'ok', 'time']);

function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The tag the driver closes each result line with: HMAC-SHA256 of the text before it, keyed with the nonce. */
export function resultLineTag(nonce: string, signed: string): string {
  return createHmac('sha256', nonce).update(signed).digest('hex');
}

/**
 * One driver process's result channel (fd 3). Every line must be JSON closed by the next sequence number and a
 * valid tag (proof of this run's nonce, which never appears in the file), and no event may repeat: a line the
 * candidate wrote itself (it shares the process, and can read the file) fails it rather than being believed.
 */
function readChannel(file: string, nonce: string): Channel {
  if (!existsSync(file)) return { events: [] };
  // the driver writes a few KiB; megabytes can only come from the candidate (and must not exhaust this process)
  if (statSync(file).size > MAX_CHANNEL_BYTES) return { events: [], problem: `the result channel holds ${statSync(file).size} bytes, far more than the driver writes` };
  const events: DriverEvent[] = [];
  const seen = new Set<string>();
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.trim()) continue;
    const where = `line ${i + 1} of the result channel`;
    const at = line.lastIndexOf(',"mac":"');
    if (at < 0 || line.slice(at) !== `,"mac":"${resultLineTag(nonce, line.slice(0, at))}"}`) {
      return { events, problem: `${where} does not carry this run's nonce tag (written by the candidate, not the driver): ${clip(line)}` };
    }
    let e: DriverEvent & { seq?: unknown };
    try {
      e = JSON.parse(line);
    } catch {
      return { events, problem: `${where} is not JSON: ${clip(line)}` };
    }
    if (e.seq !== events.length) return { events, problem: `${where} is out of sequence (seq ${String(e.seq)} where ${events.length} was due: a line dropped or repeated)` };
    if (ONCE.has(e.event)) {
      const key = `${e.event} ${e.id ?? ''}`;
      if (seen.has(key)) return { events, problem: `a second '${e.event}' event${e.id !== undefined ? ` for case ${e.id}` : ''} on the result channel: ${clip(line)}` };
      seen.add(key);
    }
    events.push(e);
  }
  return { events };
}

const MAX_CHANNEL_BYTES = 16 << 20;

/** The first `bytes` of a file (a candidate may print gigabytes). */
function head(file: string, bytes: number): string {
  if (!existsSync(file)) return '';
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    return buffer.subarray(0, readSync(fd, buffer, 0, bytes, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** What the candidate printed (stdout and stderr are its own, apart from the result channel), trimmed. */
function candidateOutput(dir: string): string {
  const part = (name: string, label: string) => {
    const text = head(join(dir, name), 1001).trim();
    return text ? `; ${label}: ${clip(text, 1000)}` : '';
  };
  return part('stdout.txt', 'the candidate printed') + part('stderr.txt', 'on stderr');
}

function trimLog(text: string): string {
  return text.length > 4000 ? `${text.slice(0, 4000)}\n… (${text.length - 4000} more characters)` : text;
}

/** The verdict of one candidate whose results are in `dir` (out/<candidate>/ of the bundle). */
export function judgeCandidate(kernel: Kernel, cases: PlanCase[], dir: string, opts: JudgeOptions): Judgement {
  const status = existsSync(join(dir, 'status')) ? readFileSync(join(dir, 'status'), 'utf8').trim() : 'missing';
  if (status === 'compile-error') {
    const log = scrubDiagnostics(readFileSync(join(dir, 'compile.log'), 'utf8'), [`candidates/${basename(dir)}.c`]);
    return { check: { status: 'compile-error', diagnostic: trimLog(log) }, speed: [] };
  }
  if (status === 'missing') return { check: { status: 'trap', message: 'the host produced no result for this candidate' }, speed: [], harnessError: 'no result' };
  const exitCode = Number(status.replace('exit ', ''));
  // The check process's channel, then one per timing process (p1, p2, …).
  const channels = [readChannel(join(dir, 'results.jsonl'), opts.nonce)];
  for (let process = 1; existsSync(join(dir, `p${process}`)); process++) channels.push(readChannel(join(dir, `p${process}`, 'results.jsonl'), opts.nonce));
  const tampered = channels.find((c) => c.problem);
  if (tampered) return { check: { status: 'trap', message: `result channel: ${tampered.problem}${candidateOutput(dir)}` }, speed: [] };
  const events = channels.flatMap((c) => c.events);
  const error = events.find((e) => e.event === 'error');
  if (error) return { check: { status: 'trap', message: `driver: ${error.message}` }, speed: [], harnessError: error.message };

  const lastCase = [...events].reverse().find((e) => e.event === 'case');
  const current = lastCase ? cases[lastCase.id!] : undefined;
  const where = current ? { shape: current.shape.name, distribution: current.distribution } : {};
  // The check process first: its own failures, then its outputs against the reference (they are complete when it
  // printed `done`), and only then what the timing processes found, so a verdict names the earliest evidence.
  const checkFail = channels[0].events.find((e) => e.event === 'fail');
  if (checkFail) return { check: failVerdict(checkFail, cases[checkFail.id!]), speed: [] };
  const nthOf = new Map(events.filter((e) => e.event === 'case').map((e) => [e.id!, e.nth ?? 1]));
  let calls = 0;
  if (channels[0].events.some((e) => e.event === 'done')) {
    for (const c of cases.filter((x) => x.kind === 'check')) {
      const wrong = compareCase(kernel, c, dir, nthOf.get(c.id) ?? 1);
      if (wrong) return { check: wrong, speed: [] };
      // c1, c2, the copy at other addresses, c3 after perturbing; each partition in every order
      calls += 4 + c.parts.reduce((sum, n) => sum + n, 0) * PROTOCOL.partitionOrders.length;
    }
  }
  const fail = events.find((e) => e.event === 'fail');
  if (fail) return { check: failVerdict(fail, cases[fail.id!]), speed: [] };
  if (exitCode === 124 || exitCode === 137) {
    return { check: { status: 'timeout', ms: opts.candidateTimeoutS * 1000, during: current?.kind === 'time' ? 'bench' : 'check' }, speed: [] };
  }
  if (exitCode !== 0 || !channels.every((c) => c.events.some((e) => e.event === 'done'))) {
    const signal = exitCode > 128 ? SIGNALS[exitCode - 128] ?? `signal ${exitCode - 128}` : undefined;
    const message = signal ? `killed by ${signal}` : exitCode === 0 ? 'the driver stopped before its last event' : `exited with status ${exitCode}`;
    return { check: { status: 'trap', message: `${message}${candidateOutput(dir)}`, ...where }, speed: [] };
  }

  const speed: SpeedResult[] = [];
  const upstreamSpeed: SpeedResult[] = [];
  for (const c of cases.filter((x) => x.kind === 'time')) {
    // One `time` line per driver process: their pairs are pooled, and resampled by process (hierarchical bootstrap).
    const timings = events.filter((e) => e.event === 'time' && e.id === c.id);
    if (!timings.length) continue;
    for (let process = 1; existsSync(join(dir, `p${process}`)); process++) {
      const wrong = compareTimed(kernel, c, join(dir, `p${process}`));
      if (wrong) return { check: wrong, speed: [] };
    }
    const pooled = {
      ...timings[0],
      baselineNs: timings.flatMap((t) => t.baselineNs!),
      candidateNs: timings.flatMap((t) => t.candidateNs!),
      speedOfLight: fastestSpeedOfLight(timings.flatMap((t) => (t.speedOfLight ? [t.speedOfLight] : []))),
    };
    const groups = timings.map((t) => t.baselineNs!.length);
    const result = speedResult(kernel, c, pooled, opts, groups);
    if (timings.every((t) => t.upstreamNs?.length === t.candidateNs!.length)) {
      // The upstream variant was timed in the same rounds: every ratio against it is paired the same way.
      const upstreamNs = timings.flatMap((t) => t.upstreamNs!);
      const groupSizes = timings.map((t) => t.candidateNs!.length);
      result.vsUpstream = vsUpstream(upstreamNs, pooled.candidateNs, opts.seed + c.id, groupSizes, opts);
      result.upstreamNs = upstreamNs;
      result.upstreamMedianNs = median(upstreamNs);
      result.upstreamCopies = Math.min(...timings.map((t) => t.upstreamCopies ?? 1));
      const up = speedResult(kernel, c, { ...pooled, candidateNs: upstreamNs }, opts, groups);
      upstreamSpeed.push({ ...up, vsUpstream: { estimate: 1, lo: 1, hi: 1, level: up.speedup.level, verdict: 'no-change' }, upstreamNs, upstreamMedianNs: up.candidateMedianNs, upstreamCopies: result.upstreamCopies });
    }
    speed.push(result);
  }
  return { check: { status: 'pass', calls }, speed, ...(upstreamSpeed.length ? { upstreamSpeed } : {}) };
}

function failVerdict(e: DriverEvent, c: PlanCase): CheckVerdict {
  const nth = e.call?.startsWith('p') ? Number(e.call.slice(1)) : (e.nth ?? 1) > 1 ? e.nth : undefined;
  const where = { shape: c.shape.name, distribution: c.distribution, phase: e.phase ?? 'check', ...(nth !== undefined ? { nth } : {}) };
  if (e.status === 'out-of-bounds') return { status: 'out-of-bounds', buffer: e.buffer!, side: e.side!, offset: e.offset!, ...where };
  if (e.status === 'input-mutated') return { status: 'input-mutated', buffer: e.buffer!, index: e.index!, ...where };
  return { status: 'wrong', buffer: e.buffer!, index: e.index ?? -1, got: NaN, expected: NaN, nmse: NaN, reason: e.reason ?? e.status ?? 'failed', ...where };
}

function readOutput(dir: string, id: number, call: string, buffer: string): Uint8Array | undefined {
  const file = join(dir, String(id), call, `${buffer}.bin`);
  return existsSync(file) ? new Uint8Array(readFileSync(file)) : undefined;
}

/**
 * The first candidate call and every sequential partition against the reference (the second call and the other
 * partition orders were byte-compared with these on the host), then the call after the inputs were perturbed
 * against the reference on the perturbed inputs.
 */
function compareCase(kernel: Kernel, c: PlanCase, dir: string, nth: number): CheckVerdict | null {
  const calls = ['c1', ...c.parts.map((p) => `p${p}`)];
  const where = { shape: c.shape.name, distribution: c.distribution };
  for (const layout of bufferLayouts(kernel.spec, c.shape.env).filter((b) => b.role === 'out')) {
    const expected = readOutput(dir, c.id, 'r', layout.name);
    const first = readOutput(dir, c.id, 'c1', layout.name);
    for (const call of calls) {
      // The driver leaves out repeated outputs identical to the first call's.
      const got = readOutput(dir, c.id, call, layout.name) ?? first;
      if (!expected || !got) return { status: 'trap', message: `outputs of ${call} missing for ${layout.name}`, ...where };
      const m = compareOutput(kernel.spec, layout.param, c.shape.env, got, expected);
      if (!m) continue;
      const threads = call.startsWith('p') ? Number(call.slice(1)) : nth;
      const how = call.startsWith('p') ? `partition ith=0..${threads - 1} run one after another` : `first call${nth > 1 ? ` with ${nth} threads` : ''}`;
      return { status: 'wrong', buffer: layout.name, ...m, reason: `${m.reason} (${how})`, ...where, ...(threads > 1 ? { nth: threads } : {}), phase: 'check' };
    }
    const expectedAfter = readOutput(dir, c.id, 'r3', layout.name);
    const after = readOutput(dir, c.id, 'c3', layout.name) ?? first;
    if (!expectedAfter || !after || !expected) return { status: 'trap', message: `outputs after perturbing the inputs missing for ${layout.name}`, ...where };
    const perturbed = `after ${PROTOCOL.perturbedElementsPerSample} elements of each input were redrawn from its distribution, same addresses`;
    const m = compareOutput(kernel.spec, layout.param, c.shape.env, after, expectedAfter);
    if (m) return { status: 'wrong', buffer: layout.name, ...m, reason: `${m.reason} (${perturbed})`, ...where, ...(nth > 1 ? { nth } : {}), phase: 'check' };
    // No byte-level "must change where the reference did" rule: a lower-precision kernel (a fast exp) may keep
    // bit-identical outputs where the reference moves within the tolerance; a stale output the tolerance misses is
    // one the perturbation did not move enough to matter.
  }
  return null;
}

/**
 * The candidate's outputs of its last timed sample (one per slot, on inputs perturbed between samples) against the
 * reference on the same inputs; the other timed outputs were byte-compared with untimed calls on the host.
 */
function compareTimed(kernel: Kernel, c: PlanCase, dir: string): CheckVerdict | null {
  for (const layout of bufferLayouts(kernel.spec, c.shape.env).filter((b) => b.role === 'out')) {
    for (let slot = 0; existsSync(join(dir, String(c.id), `r${slot}`)); slot++) {
      const expected = readOutput(dir, c.id, `r${slot}`, layout.name);
      const got = readOutput(dir, c.id, `t${slot}`, layout.name);
      if (!expected || !got) return { status: 'trap', message: `timed outputs missing for ${layout.name}`, shape: c.shape.name, distribution: c.distribution, phase: 'timed' };
      const m = compareOutput(kernel.spec, layout.param, c.shape.env, got, expected);
      if (m) return { status: 'wrong', buffer: layout.name, ...m, reason: `${m.reason} (timed call, inputs perturbed between samples)`, shape: c.shape.name, distribution: c.distribution, phase: 'timed' };
    }
  }
  return null;
}

function speedResult(kernel: Kernel, c: PlanCase, e: DriverEvent, opts: JudgeOptions, groupSizes?: number[]): SpeedResult {
  // The same summary as the WASM screen (median paired ratio, bootstrap CI, verdict, speed-of-light flag);
  // emulated timings get no verdict.
  return summarizeSamples(
    kernel.spec,
    { shape: c.shape.name, env: c.shape.env, callsPerSample: e.callsPerSample!, baselineNs: e.baselineNs!, candidateNs: e.candidateNs!, speedOfLight: e.speedOfLight, nth: e.nth, groupSizes },
    { noiseFloor: opts.noiseFloor, seed: opts.seed + c.id, emulated: opts.emulated },
  );
}

/** Each driver process measures the speed of light; the fastest figures are the machine's. */
function fastestSpeedOfLight(all: SpeedOfLight[]): SpeedOfLight | undefined {
  if (!all.length) return undefined;
  return { footprintBytes: all[0].footprintBytes, readNs: Math.min(...all.map((s) => s.readNs)), peakGflops: Math.max(...all.map((s) => s.peakGflops)) };
}

/** upstream time / variant time per round, median with a (process-grouped) bootstrap CI and a verdict. */
function vsUpstream(upstreamNs: number[], variantNs: number[], seed: number, groupSizes: number[], opts: JudgeOptions): NonNullable<SpeedResult['vsUpstream']> {
  const ci = bootstrapMedianCI(pairedRatios(upstreamNs, variantNs), { seed, groupSizes });
  return { ...ci, verdict: opts.emulated ? 'no-change' : speedVerdict(ci, opts.noiseFloor) };
}
