// Turns what a host sent back for one candidate (driver events, output bytes, exit status) into a check verdict
// and speed results. Outputs are compared here, in TypeScript, against the reference outputs of the same run.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bufferLayouts } from '../check/inputs.js';
import { compareOutput } from '../check/compare.js';
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
}

const SIGNALS: Record<number, string> = { 4: 'SIGILL', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };

function readEvents(file: string): DriverEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        return line.trim() ? [JSON.parse(line) as DriverEvent] : [];
      } catch {
        return []; // a line cut by a crash
      }
    });
}

function trimLog(text: string): string {
  return text.length > 4000 ? `${text.slice(0, 4000)}\n… (${text.length - 4000} more characters)` : text;
}

/** The verdict of one candidate whose results are in `dir` (out/<candidate>/ of the bundle). */
export function judgeCandidate(kernel: Kernel, cases: PlanCase[], dir: string, opts: JudgeOptions): Judgement {
  const status = existsSync(join(dir, 'status')) ? readFileSync(join(dir, 'status'), 'utf8').trim() : 'missing';
  if (status === 'compile-error') return { check: { status: 'compile-error', diagnostic: trimLog(readFileSync(join(dir, 'compile.log'), 'utf8')) }, speed: [] };
  if (status === 'missing') return { check: { status: 'trap', message: 'the host produced no result for this candidate' }, speed: [], harnessError: 'no result' };
  const exitCode = Number(status.replace('exit ', ''));
  const events = readEvents(join(dir, 'driver.jsonl'));
  const error = events.find((e) => e.event === 'error');
  if (error) return { check: { status: 'trap', message: `driver: ${error.message}` }, speed: [], harnessError: error.message };

  const lastCase = [...events].reverse().find((e) => e.event === 'case');
  const current = lastCase ? cases[lastCase.id!] : undefined;
  const where = current ? { shape: current.shape.name, distribution: current.distribution } : {};
  const fail = events.find((e) => e.event === 'fail');
  if (fail) return { check: failVerdict(fail, cases[fail.id!]), speed: [] };
  if (exitCode === 124 || exitCode === 137) {
    return { check: { status: 'timeout', ms: opts.candidateTimeoutS * 1000, during: current?.kind === 'time' ? 'bench' : 'check' }, speed: [] };
  }
  if (exitCode !== 0 || !events.some((e) => e.event === 'done')) {
    const signal = exitCode > 128 ? SIGNALS[exitCode - 128] ?? `signal ${exitCode - 128}` : undefined;
    const stderr = existsSync(join(dir, 'driver.err')) ? readFileSync(join(dir, 'driver.err'), 'utf8').trim() : '';
    const message = signal ? `killed by ${signal}` : `exited with status ${exitCode}`;
    return { check: { status: 'trap', message: stderr ? `${message}: ${trimLog(stderr)}` : message, ...where }, speed: [] };
  }

  const nthOf = new Map(events.filter((e) => e.event === 'case').map((e) => [e.id!, e.nth ?? 1]));
  let calls = 0;
  for (const c of cases.filter((x) => x.kind === 'check')) {
    const wrong = compareCase(kernel, c, dir, nthOf.get(c.id) ?? 1);
    if (wrong) return { check: wrong, speed: [] };
    calls += 2 + c.parts.reduce((sum, n) => sum + n, 0);
  }
  const speed: SpeedResult[] = [];
  const upstreamSpeed: SpeedResult[] = [];
  for (const c of cases.filter((x) => x.kind === 'time')) {
    // One `time` line per driver process: their pairs are pooled.
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
    const result = speedResult(kernel, c, pooled, opts);
    if (timings.every((t) => t.upstreamNs?.length === t.candidateNs!.length)) {
      // The upstream variant was timed in the same rounds: every ratio against it is paired the same way.
      const upstreamNs = timings.flatMap((t) => t.upstreamNs!);
      const groupSizes = timings.map((t) => t.candidateNs!.length);
      result.vsUpstream = vsUpstream(upstreamNs, pooled.candidateNs, opts.seed + c.id, groupSizes, opts);
      result.upstreamNs = upstreamNs;
      result.upstreamMedianNs = median(upstreamNs);
      const up = speedResult(kernel, c, { ...pooled, candidateNs: upstreamNs }, opts);
      upstreamSpeed.push({ ...up, vsUpstream: { estimate: 1, lo: 1, hi: 1, level: up.speedup.level, verdict: 'no-change' }, upstreamNs, upstreamMedianNs: up.candidateMedianNs });
    }
    speed.push(result);
  }
  return { check: { status: 'pass', calls }, speed, ...(upstreamSpeed.length ? { upstreamSpeed } : {}) };
}

function failVerdict(e: DriverEvent, c: PlanCase): CheckVerdict {
  const where = { shape: c.shape.name, distribution: c.distribution, phase: e.phase ?? 'check', ...(e.call?.startsWith('p') ? { nth: Number(e.call.slice(1)) } : {}) };
  if (e.status === 'out-of-bounds') return { status: 'out-of-bounds', buffer: e.buffer!, side: e.side!, offset: e.offset!, ...where };
  if (e.status === 'input-mutated') return { status: 'input-mutated', buffer: e.buffer!, index: e.index!, ...where };
  return { status: 'wrong', buffer: e.buffer!, index: e.index ?? -1, got: NaN, expected: NaN, nmse: NaN, reason: e.reason ?? e.status ?? 'failed', ...where };
}

function readOutput(dir: string, id: number, call: string, buffer: string): Uint8Array | undefined {
  const file = join(dir, String(id), call, `${buffer}.bin`);
  return existsSync(file) ? new Uint8Array(readFileSync(file)) : undefined;
}

/** Both candidate calls and every sequential partition against the reference. */
function compareCase(kernel: Kernel, c: PlanCase, dir: string, nth: number): CheckVerdict | null {
  const calls = ['c1', 'c2', ...c.parts.map((p) => `p${p}`)];
  for (const layout of bufferLayouts(kernel.spec, c.shape.env).filter((b) => b.role === 'out')) {
    const expected = readOutput(dir, c.id, 'r', layout.name);
    const first = readOutput(dir, c.id, 'c1', layout.name);
    for (const call of calls) {
      // The driver leaves out repeated outputs identical to the first call's.
      const got = readOutput(dir, c.id, call, layout.name) ?? first;
      if (!expected || !got) return { status: 'trap', message: `outputs of ${call} missing for ${layout.name}`, shape: c.shape.name, distribution: c.distribution };
      const m = compareOutput(kernel.spec, layout.param, c.shape.env, got, expected);
      if (!m) continue;
      const threads = call.startsWith('p') ? Number(call.slice(1)) : nth;
      const how = call.startsWith('p') ? `partition ith=0..${threads - 1} run one after another` : `${call === 'c1' ? 'first' : 'second'} call${nth > 1 ? ` with ${nth} threads` : ''}`;
      return { status: 'wrong', buffer: layout.name, ...m, reason: `${m.reason} (${how})`, shape: c.shape.name, distribution: c.distribution, ...(threads > 1 ? { nth: threads } : {}), phase: 'check' };
    }
  }
  return null;
}

/** The first timed output of each input set against the reference of that set (later ones were byte-compared on the host). */
function compareTimed(kernel: Kernel, c: PlanCase, dir: string): CheckVerdict | null {
  for (const layout of bufferLayouts(kernel.spec, c.shape.env).filter((b) => b.role === 'out')) {
    for (let set = 0; existsSync(join(dir, String(c.id), `r${set}`)); set++) {
      const expected = readOutput(dir, c.id, `r${set}`, layout.name);
      const got = readOutput(dir, c.id, `t${set}`, layout.name);
      if (!expected || !got) continue; // a set no candidate sample used
      const m = compareOutput(kernel.spec, layout.param, c.shape.env, got, expected);
      if (m) return { status: 'wrong', buffer: layout.name, ...m, reason: `${m.reason} (timed call)`, shape: c.shape.name, distribution: c.distribution, phase: 'timed' };
    }
  }
  return null;
}

function speedResult(kernel: Kernel, c: PlanCase, e: DriverEvent, opts: JudgeOptions): SpeedResult {
  // The same summary as the WASM screen (median paired ratio, bootstrap CI, verdict, speed-of-light flag);
  // emulated timings get no verdict.
  return summarizeSamples(
    kernel.spec,
    { shape: c.shape.name, env: c.shape.env, callsPerSample: e.callsPerSample!, baselineNs: e.baselineNs!, candidateNs: e.candidateNs!, speedOfLight: e.speedOfLight, nth: e.nth },
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
