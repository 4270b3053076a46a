// `kbench e2e` as one call: the candidate grafted into the upstream llama.cpp, the logits gate, and only when the
// logits agree the timing of the reference llama-bench against the grafted one, the op's share of each test (the
// reference against a build where the op does no work) and Amdahl's prediction from the op-level "vs upstream"
// speedup of an earlier `kbench run --upstream`. A candidate that breaks the model is a verdict, not an error.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { HostConfig } from '../config/config.js';
import { prototypeHeader } from '../build/glue.js';
import { AbortError, isAbort, UsageError } from '../errors.js';
import { listRunFolders, newRunId, readLedger, runsDir } from '../ledger/ledger.js';
import { RunRecorder } from '../ledger/recorder.js';
import { sha256, type E2eLogits, type E2ePrediction, type E2eResult, type OpShare, type TargetResult } from '../ledger/records.js';
import type { Interval } from '../measure/types.js';
import { LOCAL_HOST } from '../remote/hosts.js';
import type { Kernel } from '../spec/suite.js';
import { cacheDir, type UpstreamSource } from '../upstream/source.js';
import { checkPrediction, opShares, predictE2eRatioFromIntervals } from './amdahl.js';
import { buildGraft, type LlamaBuild } from './build.js';
import { checkModelFile } from './gguf.js';
import { upstreamOnHost } from './host-source.js';
import { checkE2eHost, e2eHost, existsOn, factsOf, hostPath, localE2e, shipOnce, type E2eHost } from './host.js';
import { graftRecipe, type GraftRecipe } from './graft.js';
import { checkLlamaBenchArgs, type LlamaBenchArgs } from './llama-bench.js';
import type { LogitsOptions } from './logits.js';
import { graftAndCheck } from './prepare.js';
import { cachedRandomLlamaGguf, DEFAULT_RANDOM_LLAMA, type RandomLlamaOptions } from './random-model.js';
import { E2E_DEFAULTS, timeE2e, type E2eTiming } from './timing.js';

export type { E2eResult } from '../ledger/records.js';

/** The candidate by file (path) or by text (source); `name` is what reports call it. */
export interface E2eCandidate {
  name: string;
  path?: string;
  source?: string;
}

export interface E2eOptions {
  /** where to build and run (default: this machine); an ssh host gets the builds, the model and the runs */
  host?: HostConfig;
  /** a GGUF the user gives (a path on the host); default: kbench's random-weight llama (randomModel overrides its options) */
  model?: string;
  randomModel?: Partial<RandomLlamaOptions>;
  /** a llama.cpp checkout on the host (resolveUpstreamSpec's answer here); true or absent: the pinned npm source */
  upstream?: string | true;
  /** tokens already in the KV cache (default 0 and 4096) */
  depths?: number[];
  /** llama-bench -p and -n (default 128 and 32) */
  prompt?: number;
  gen?: number;
  /** llama-bench -t (default 1) */
  threads?: number;
  /** invocations of each binary (default 10) */
  rounds?: number;
  seed?: number;
  noiseFloor?: number;
  /** no free build, no share and no prediction: half the timing */
  skipShare?: boolean;
  logits?: Partial<LogitsOptions>;
  /** cmake -j for the first reference build */
  jobs?: number;
  signal?: AbortSignal;
  /** progress lines (the CLI prints them) */
  log?: (line: string) => void;
  /** after each timed round */
  onRound?: (phase: 'graft' | 'free', done: number, of: number) => void;
}

export const E2E_RUN_DEFAULTS = { depths: [0, 4096], prompt: 128, gen: 32, threads: 1 };

/** The kernels of a suite that have a graft recipe (for the error naming them). */
export function graftedKernels(kernels: readonly Kernel[]): string[] {
  return kernels.filter((k) => k.spec.graft).map((k) => k.name);
}

/** The candidate's text and a file holding it (a source-only candidate is written into the cache by its hash). */
function candidateFile(c: E2eCandidate): { path: string; text: string } {
  if (c.path) {
    const path = resolve(c.path);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new UsageError(`${c.path}: no such candidate file`);
    }
    return { path, text };
  }
  if (c.source === undefined) throw new UsageError(`candidate ${c.name}: neither a path nor a source`);
  return { path: cachedSource(`${sha256(c.source).slice(0, 16)}.c`, c.source), text: c.source };
}

function cachedSource(name: string, text: string): string {
  const dir = join(cacheDir(), 'e2e', 'candidates');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A candidate with the spec's signature that returns at once: grafted, ggml's op costs nothing (the op's share). */
export function freeCandidateSource(kernel: Kernel): string {
  return `${prototypeHeader(kernel.spec).replace(/;\s*$/, '')}\n{\n  /* kbench: the op made free, to measure its share of a token's time */\n}\n`;
}

/** The llama-bench settings with their defaults, checked at the edge (a bad one is a UsageError naming it). */
function checkedSettings(flashAttn: LlamaBenchArgs['flashAttn'], opts: E2eOptions): { bench: LlamaBenchArgs; rounds: number; seed: number } {
  const rounds = opts.rounds ?? E2E_DEFAULTS.rounds;
  const seed = opts.seed ?? E2E_DEFAULTS.seed;
  if (!(Number.isInteger(rounds) && rounds >= 1)) throw new UsageError(`e2e rounds: must be a whole number ≥ 1, got ${rounds}`);
  const bench: LlamaBenchArgs = {
    model: opts.model ?? 'generated',
    threads: opts.threads ?? E2E_RUN_DEFAULTS.threads,
    prompt: opts.prompt ?? E2E_RUN_DEFAULTS.prompt,
    gen: opts.gen ?? E2E_RUN_DEFAULTS.gen,
    depths: opts.depths ?? E2E_RUN_DEFAULTS.depths,
    flashAttn,
  };
  checkLlamaBenchArgs(bench);
  return { bench, rounds, seed };
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AbortError();
}

/**
 * The model both builds run, described for the record: a user's file (a path on the host), or kbench's random
 * llama written here and shipped to the host's cache once.
 */
async function pickModel(h: E2eHost, opts: E2eOptions, depths: number[], prompt: number, gen: number, log: (line: string) => void): Promise<E2eResult['model']> {
  if (opts.model) {
    if (!h.local) {
      if (!(await existsOn(h, opts.model))) throw new UsageError(`--model ${opts.model}: no such file on host '${h.config.name}'`);
      return { path: opts.model, generated: false };
    }
    const facts = checkModelFile(resolve(opts.model));
    const { path, ...file } = facts;
    return { path, generated: false, file };
  }
  // the trained context must hold the deepest test, or llama-bench warns and the model runs past what it knows
  const need = Math.max(...depths) + prompt + gen;
  const ctx = Math.max(opts.randomModel?.ctx ?? DEFAULT_RANDOM_LLAMA.ctx, need);
  const model = cachedRandomLlamaGguf({ ...opts.randomModel, ctx });
  const described = { generated: true, params: { ...model.options }, parameters: model.params };
  if (h.local) return { path: model.path, ...described };
  const name = basename(model.path);
  const dest = hostPath(h.root, 'models', name.replace(/\.gguf$/, ''));
  log(`ship ${name} to ${h.config.name} (once)`);
  await shipOnce(h, dirname(model.path), [name], dest, name);
  return { path: hostPath(dest, name), ...described };
}

/**
 * The op-level speedup against the real ggml op per test kind: the latest result on this host for the same
 * candidate source with a "vs upstream" figure, tg read at the kernel's "decode…" bench shape and pp at "prefill…".
 */
export function findOpSpeedups(workDir: string, kernel: string, sourceSha256: string, host = LOCAL_HOST): { run: string; byKind: Partial<Record<'pp' | 'tg', { shape: string; speedup: Interval }>> } | null {
  const shapeOf = { tg: /^decode/i, pp: /^prefill/i } as const;
  for (const folder of listRunFolders(workDir).reverse()) {
    const events = readLedger(folder.ledgerFile);
    const start = events.find((e) => e.type === 'run-start');
    if (start?.type === 'run-start' && start.machine?.hostname && start.machine.hostname !== hostname()) continue;
    const results = events.flatMap((e) => (e.type === 'result' ? [e.result] : [])).filter((r: TargetResult) => r.kernel === kernel && r.sourceSha256 === sourceSha256 && r.target === host);
    for (const r of results.reverse()) {
      const byKind: Partial<Record<'pp' | 'tg', { shape: string; speedup: Interval }>> = {};
      for (const kind of ['tg', 'pp'] as const) {
        const s = r.speed.find((x) => shapeOf[kind].test(x.shape) && x.vsUpstream);
        if (s?.vsUpstream) byKind[kind] = { shape: s.shape, speedup: s.vsUpstream };
      }
      if (byKind.tg || byKind.pp) return { run: folder.id, byKind };
    }
  }
  return null;
}

/**
 * Grafts the candidate, checks the logits, and times it end to end when they agree. Throws UsageError for what the
 * user must fix (no graft recipe, a missing candidate, a bad model, a function that moved upstream, bad numbers) and
 * AbortError when `signal` fires; everything the candidate does wrong is in the result.
 */
export async function runE2e(workDir: string, kernel: Kernel, candidate: E2eCandidate, opts: E2eOptions = {}): Promise<E2eResult> {
  const recipe = graftRecipe(kernel);
  if (!recipe) throw new UsageError(`${kernel.name} has no graft recipe (kernel.json "graft"): kbench e2e cannot put it into ggml`);
  const h = opts.host && opts.host.executor !== 'local' ? e2eHost(opts.host) : localE2e();
  try {
    return await runE2eOn(h, workDir, kernel, recipe, candidate, opts);
  } finally {
    if (h !== localE2e()) await h.executor.close();
  }
}

async function runE2eOn(h: E2eHost, workDir: string, kernel: Kernel, recipe: GraftRecipe, candidate: E2eCandidate, opts: E2eOptions): Promise<E2eResult> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  const file = candidateFile(candidate);
  const { bench, rounds, seed } = checkedSettings(recipe.flashAttention, opts);
  const { depths, prompt, gen, threads } = bench;
  const facts = await factsOf(h);
  const model = await pickModel(h, opts, depths, prompt, gen, log);
  bench.model = model.path;
  const source: UpstreamSource = await upstreamOnHost(h, opts.upstream, log);
  throwIfAborted(opts.signal);

  const check = await graftAndCheck(kernel, { name: candidate.name, path: file.path }, { host: h, model: model.path, source, logits: opts.logits, jobs: opts.jobs, log });
  throwIfAborted(opts.signal);
  const logits: E2eLogits = check.verdict;
  const base: Omit<E2eResult, 'elapsedMs'> = {
    kernel: kernel.name,
    candidate: candidate.name,
    sourceSha256: sha256(file.text),
    host: h.config.name,
    hostname: facts.hostname,
    upstream: { origin: check.reference.origin, commit: check.reference.commit, flags: check.reference.flags },
    model,
    recipe: { file: recipe.file, function: recipe.function, env: recipe.env, flashAttention: recipe.flashAttention },
    bench: { threads, prompt, gen, depths, rounds, seed },
    logits,
  };
  if (logits.status !== 'agree' || !check.graft) {
    log(`logits ${logits.status}: not timed`);
    return { ...base, elapsedMs: Date.now() - started };
  }

  const time = (graft: LlamaBuild, phase: 'graft' | 'free', timingSeed: number): Promise<E2eTiming> =>
    timeE2e({
      executor: h.executor, reference: check.reference.llamaBench, graft: graft.llamaBench, bench, env: recipe.env, rounds, seed: timingSeed,
      noiseFloor: opts.noiseFloor, signal: opts.signal, onRound: (_r, i, n) => opts.onRound?.(phase, i + 1, n),
    });
  log(`timing reference against ${candidate.name}${h.local ? '' : ` on ${h.config.name}`}: ${rounds} rounds of llama-bench ${depths.map((d) => `d${d}`).join(',')}`);
  const timed = await time(check.graft, 'graft', seed);
  const timing = { status: timed.status, ...(timed.reason ? { reason: timed.reason } : {}), tests: timed.tests, stability: timed.stability, load: timed.load };
  const result: E2eResult = { ...base, timing, elapsedMs: 0 };
  if (timed.status !== 'timed') return { ...result, elapsedMs: Date.now() - started };
  if (opts.skipShare) return { ...result, shareNote: 'not measured (--no-share)', elapsedMs: Date.now() - started };

  const shares = await measureShares(h, kernel, source, check.reference, time, opts, seed, log);
  if (!Array.isArray(shares)) return { ...result, shareNote: shares, elapsedMs: Date.now() - started };
  return { ...result, shares, ...predict(workDir, kernel.name, result, shares), elapsedMs: Date.now() - started };
}

/** The op's share per test, or why there is none. The free build is timed, never logits-checked: it computes nothing. */
async function measureShares(
  h: E2eHost, kernel: Kernel, source: UpstreamSource, reference: Parameters<typeof buildGraft>[0],
  time: (graft: LlamaBuild, phase: 'graft' | 'free', seed: number) => Promise<E2eTiming>, opts: E2eOptions, seed: number, log: (line: string) => void,
): Promise<OpShare[] | string> {
  const text = freeCandidateSource(kernel);
  const path = cachedSource(`free-${kernel.name}-${sha256(text).slice(0, 16)}.c`, text);
  const free = await buildGraft(reference, source, kernel, { name: 'free', path }, h.toolchain, { log, host: h });
  if (free.status !== 'built') return `the free build did not compile: ${free.reason}`;
  throwIfAborted(opts.signal);
  log(`timing reference against the op made free (its share of each test)`);
  const timed = await time(free.build, 'free', seed + 1);
  if (timed.status !== 'timed') return `the free build's timing failed: ${timed.reason}`;
  return opShares(timed.tests, seed);
}

function predict(workDir: string, kernel: string, result: E2eResult, shares: OpShare[]): Pick<E2eResult, 'prediction' | 'predictionNote' | 'opSpeedupRun'> {
  const found = findOpSpeedups(workDir, kernel, result.sourceSha256, result.host);
  if (!found) return { predictionNote: `no op-level speedup vs upstream for this source on this host: run \`kbench run ${kernel} -c ${result.candidate} --upstream\` first` };
  const prediction: E2ePrediction[] = [];
  for (const test of result.timing?.tests ?? []) {
    const op = found.byKind[test.kind];
    const share = shares.find((s) => s.label === test.label);
    if (!op || !share) continue;
    const predicted = predictE2eRatioFromIntervals(share.share, op.speedup);
    prediction.push({ label: test.label, opShape: op.shape, opSpeedup: op.speedup, share: share.share, predicted, check: checkPrediction(test.ratio, predicted, test.noiseFloor) });
  }
  const missing = (['tg', 'pp'] as const).filter((k) => !found.byKind[k] && result.timing?.tests.some((t) => t.kind === k));
  return { prediction, opSpeedupRun: found.run, ...(missing.length ? { predictionNote: `run ${found.run} has no ${missing.map((k) => (k === 'tg' ? '"decode…"' : '"prefill…"')).join(' or ')} shape with a vs upstream figure` } : {}) };
}

export interface E2eRun {
  id: string;
  dir: string;
  /** absent when interrupted */
  result?: E2eResult;
  interrupted: boolean;
}

/**
 * runE2e recorded as a run of kind 'e2e' in .kbench/runs: run-start, the candidate's source, one e2e event, run-end.
 * A usage error leaves no run behind; a Ctrl-C leaves an interrupted one.
 */
export async function runE2eRecorded(workDir: string, kernel: Kernel, candidate: E2eCandidate, opts: E2eOptions & { argv?: string[] } = {}): Promise<E2eRun> {
  const file = candidateFile(candidate);
  const recipe = graftRecipe(kernel);
  if (!recipe) throw new UsageError(`${kernel.name} has no graft recipe (kernel.json "graft"): kbench e2e cannot put it into ggml`);
  // what the user must fix is found before the run folder exists
  checkedSettings(recipe.flashAttention, opts);
  if (opts.host) checkE2eHost(opts.host);
  if (opts.model && (opts.host?.executor ?? 'local') === 'local') checkModelFile(resolve(opts.model));
  const id = newRunId();
  const recorder = new RunRecorder(resolve(runsDir(workDir), id));
  recorder.start('e2e', id, { argv: opts.argv, machine: { host: opts.host?.name ?? LOCAL_HOST } });
  recorder.source(kernel.name, candidate.name, file.text);
  try {
    const result = await runE2e(workDir, kernel, { name: candidate.name, path: file.path }, opts);
    recorder.event({ type: 'e2e', at: new Date().toISOString(), result });
    recorder.end('done');
    return { id, dir: recorder.dir, result, interrupted: false };
  } catch (e) {
    if (e instanceof UsageError) {
      rmSync(recorder.dir, { recursive: true, force: true });
      throw e;
    }
    const interrupted = isAbort(e) || !!opts.signal?.aborted;
    recorder.end(interrupted ? 'interrupted' : 'failed', (e as Error).message);
    if (!interrupted) throw e;
    return { id, dir: recorder.dir, interrupted: true };
  }
}
