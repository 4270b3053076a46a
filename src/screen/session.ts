// The WASM screen of one candidate as a cascade of stages (compile → check → bench), run by one loop: the first
// stage that produces a verdict ends the cascade. One compiler and one sandbox host live for the whole session.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INCLUDE_DIR, type Kernel } from '../spec/suite.js';
import { resolveToolchain, type Toolchain } from '../build/toolchain.js';
import { WasmCompiler, type CompileResult } from '../build/compiler.js';
import { canModel, parseScreenTarget, screenModel, type ScreenModel } from '../build/screen-target.js';
import { registerBound, type RegisterBound } from '../build/register-pressure.js';
import { Sandbox } from '../sandbox/sandbox.js';
import type { CheckVerdict } from '../check/verdict.js';
import { sha256, type TargetResult } from '../ledger/records.js';
import type { SpeedResult } from '../measure/types.js';
import { summarizeSamples } from '../measure/speed.js';
import type { SpeedOfLight } from '../measure/speed-of-light.js';
import { footprintBytes, SPEED_OF_LIGHT_SPEC } from '../sandbox/speed-of-light-probe.js';
import { shapeCases } from '../check/inputs.js';
import type { KernelSpec } from '../spec/schema.js';
import { AbortError, SpecError, UsageError } from '../errors.js';
import { PROTOCOL } from '../check/rules.js';

export interface ScreenOptions {
  /** folder holding .kbench/ (cache and runs) */
  workDir: string;
  /** force a WASM toolchain: yowasp | clang | emcc */
  cc?: string;
  /** the native target the screen predicts (avx2 | neon | wasm; default: this host's, see screen-target.ts) */
  target?: string;
  /** false: no target intrinsics headers (avx2 screened as the plain 8-lane build); default true */
  intrinsics?: boolean;
  /** false: avx2's float max/min left as V8's branches (see build/branchless-minmax.ts); default true */
  branchlessMinMax?: boolean;
  /** relative speedup inside which a change is 'no-change' (default 0.02) */
  noiseFloor?: number;
  /** interleaved baseline/candidate pairs per bench shape (default 11, at least 9) */
  pairs?: number;
  /**
   * Groups the pairs are split over, each timing its own freshly compiled baseline and candidate with their own
   * buffer layout, resampled hierarchically (default DEFAULT_TIMING_GROUPS, fewer when the pairs are few; 1: one pair):
   * what moves between sessions moves between groups, so the CI covers a re-run rather than one instance's luck.
   */
  instances?: number;
  /** minimum duration of one timed batch (default PROTOCOL.minBatchNs); a sample is the fastest of PROTOCOL.batchesPerSample */
  sampleMs?: number;
  /** wall-clock limit of one sandbox job (default 20 s) */
  jobTimeoutMs?: number;
  compileTimeoutMs?: number;
  /** sandbox memory cap per module (default 256 MiB) */
  maxMemoryBytes?: number;
  seed?: number;
  onEvent?: (e: ScreenEvent) => void;
}

export type ScreenStage = 'compile' | 'check' | 'bench';

export type ScreenEvent =
  | { type: 'plan'; total: number }
  | { type: 'stage'; kernel: string; candidate: string; stage: ScreenStage }
  | { type: 'result'; result: TargetResult };

export interface CandidateSource {
  name: string;
  source: string;
  /** where it came from, for diagnostics */
  path?: string;
}

interface Context {
  kernel: Kernel;
  candidate: CandidateSource;
  wasm?: Uint8Array;
  /** the compiler's note when the model's intrinsics variant could not be built (the plain build was screened) */
  buildNote?: string;
  registerBound?: RegisterBound;
  speed: SpeedResult[];
  seed: number;
  signal?: AbortSignal;
}

const DEFAULT_SEED = 20261127;
const DEFAULT_PAIRS = 11;
export const DEFAULT_TIMING_GROUPS = 3;
/** a group's median needs a pair to compare with */
const MIN_PAIRS_PER_GROUP = 2;

interface Stage {
  name: ScreenStage;
  /** returns a verdict that ends the cascade, or null to go on */
  run(ctx: Context): Promise<CheckVerdict | null>;
}


export class ScreenSession {
  readonly toolchain: Toolchain;
  readonly model: ScreenModel;
  private readonly compiler: WasmCompiler;
  private readonly sandbox = new Sandbox();
  private readonly builds = new Map<string, Promise<Uint8Array>>();
  /** the speed of light measured in this session, by footprint in bytes */
  private readonly light = new Map<number, SpeedOfLight>();
  private readonly pendingCompiles = new Map<string, Promise<CompileResult>>();
  private readonly stages: Stage[];
  /** timing groups per bench job (see ScreenOptions.instances) */
  private readonly groups: number;

  private constructor(private readonly opts: ScreenOptions) {
    const target = parseScreenTarget(opts.target);
    this.toolchain = resolveToolchain(opts.cc, (t) => canModel(target, t));
    this.model = screenModel(target, this.toolchain, { intrinsics: opts.intrinsics, branchlessMinMax: opts.branchlessMinMax });
    this.compiler = new WasmCompiler(this.toolchain, { cacheDir: join(opts.workDir, '.kbench', 'cache'), timeoutMs: opts.compileTimeoutMs, flags: this.model.flags, intrinsics: this.model.intrinsics, branchlessMinMax: this.model.branchlessMinMax });
    if (opts.pairs !== undefined && opts.pairs < 9) throw new UsageError(`--pairs: at least 9 interleaved pairs are needed, got ${opts.pairs}`);
    const pairs = opts.pairs ?? DEFAULT_PAIRS;
    this.groups = opts.instances ?? Math.min(DEFAULT_TIMING_GROUPS, Math.floor(pairs / MIN_PAIRS_PER_GROUP));
    if (!(Number.isInteger(this.groups) && this.groups >= 1 && this.groups * MIN_PAIRS_PER_GROUP <= pairs))
      throw new UsageError(`instances: a whole number from 1 to ${Math.floor(pairs / MIN_PAIRS_PER_GROUP)} (at least ${MIN_PAIRS_PER_GROUP} of the ${pairs} pairs per group), got ${this.groups}`);
    this.stages = [
      { name: 'compile', run: (ctx) => this.compileStage(ctx) },
      { name: 'check', run: (ctx) => this.checkStage(ctx) },
      { name: 'bench', run: (ctx) => this.benchStage(ctx) },
    ];
  }

  /** the compiler and the screen model, as every result records it */
  get description(): string {
    return `${this.toolchain.description}; ${this.model.label}`;
  }

  static open(opts: ScreenOptions): ScreenSession {
    const session = new ScreenSession(opts);
    void session.compiler.warm().catch(() => {});
    return session;
  }

  /**
   * `bench: false` stops after the check (used for the baseline itself); `seed` overrides the session's. An abort
   * stops the sandbox job at once and rejects with AbortError: an interrupted candidate gets no verdict, not even
   * one reached while stopping (Ctrl-C also kills a host compiler, which would read as a compile error).
   */
  async screenCandidate(
    kernel: Kernel,
    candidate: CandidateSource,
    { bench = true, seed = this.opts.seed ?? DEFAULT_SEED, signal }: { bench?: boolean; seed?: number; signal?: AbortSignal } = {},
  ): Promise<TargetResult> {
    const started = performance.now();
    const ctx: Context = { kernel, candidate, speed: [], seed, signal };
    let verdict: CheckVerdict | null = null;
    for (const stage of this.stages) {
      if (signal?.aborted) throw new AbortError();
      if (stage.name === 'bench' && !bench) break;
      this.opts.onEvent?.({ type: 'stage', kernel: kernel.name, candidate: candidate.name, stage: stage.name });
      try {
        verdict = await untilAborted(stage.run(ctx), signal);
      } catch (e) {
        if (signal?.aborted) throw new AbortError();
        throw e;
      }
      if (signal?.aborted) throw new AbortError();
      if (verdict) break;
    }
    const result: TargetResult = {
      kernel: kernel.name,
      candidate: candidate.name,
      target: 'wasm',
      arch: 'wasm32',
      toolchain: ctx.buildNote ? `${this.description}; ${ctx.buildNote}` : this.description,
      sourceSha256: sha256(candidate.source),
      check: verdict ?? { status: 'pass', calls: 0 },
      speed: ctx.speed,
      elapsedMs: Math.round(performance.now() - started),
      ...(ctx.registerBound && { registerBound: ctx.registerBound }),
    };
    this.opts.onEvent?.({ type: 'result', result });
    return result;
  }

  /**
   * Builds a kernel's reference and baseline before anything of it is screened: a suite that does not build is a
   * spec error (exit 2), never a verdict of the baseline or of a candidate.
   */
  async prepareKernel(kernel: Kernel, signal?: AbortSignal): Promise<void> {
    await untilAborted(Promise.all([this.build(kernel, 'reference'), this.build(kernel, 'baseline')]), signal);
  }

  /** Reference and baseline are built once per session; a failure there is the suite's fault, not a verdict. */
  private build(kernel: Kernel, role: 'reference' | 'baseline'): Promise<Uint8Array> {
    const path = role === 'reference' ? kernel.referencePath : kernel.baselinePath;
    const fn = kernel.spec.function;
    const undefinedSymbol = new RegExp(`undefined symbol:? _?${fn}\\b`);
    return this.buildOnce(`${kernel.dir}:${role}`, kernel.spec, path, (diagnostic) =>
      undefinedSymbol.test(diagnostic)
        ? new SpecError(path, '', `does not define ${fn}(), the "function" of ${join(kernel.dir, 'kernel.json')}`)
        : new UsageError(`${path}: does not build:\n${diagnostic}`),
    );
  }

  /** The speed-of-light probe, built by this session's compiler like a kernel. */
  private probe(): Promise<Uint8Array> {
    const path = join(INCLUDE_DIR, 'kb_speed_of_light.c');
    return this.buildOnce('speed-of-light', SPEED_OF_LIGHT_SPEC, path, (diagnostic) => new Error(`${path}: does not build:\n${diagnostic}`));
  }

  private buildOnce(key: string, spec: KernelSpec, path: string, failure: (diagnostic: string) => Error): Promise<Uint8Array> {
    if (!this.builds.has(key)) {
      const build = this.compiler.compile(spec, readFileSync(path, 'utf8'), path).then((r) => {
        if (!r.ok && r.harness) throw new Error(`${path}: ${r.diagnostic}`);
        if (!r.ok) throw failure(r.diagnostic);
        return r.wasm;
      });
      build.catch(() => {}); // a build nobody awaits any more (the screen was stopped) must not crash the process
      this.builds.set(key, build);
    }
    return this.builds.get(key)!;
  }

  /**
   * Starts compiling a candidate that will be screened next, so its build overlaps the current candidate's check
   * (the compiler and the sandbox run on different cores). Timing waits for builds in flight: a compiler burst on
   * the other core skews short samples even when they are paired.
   */
  prepare(kernel: Kernel, candidate: CandidateSource): void {
    const key = `${kernel.dir}\0${sha256(candidate.source)}`;
    if (!this.pendingCompiles.has(key))
      this.pendingCompiles.set(key, this.compiler.compile(kernel.spec, candidate.source, candidate.path ?? `${candidate.name}.c`));
  }

  private async compileStage(ctx: Context): Promise<CheckVerdict | null> {
    this.prepare(ctx.kernel, ctx.candidate);
    const key = `${ctx.kernel.dir}\0${sha256(ctx.candidate.source)}`;
    const r = await this.pendingCompiles.get(key)!;
    this.pendingCompiles.delete(key);
    if (!r.ok) return r.harness ? { status: 'harness-error', message: r.diagnostic } : { status: 'compile-error', diagnostic: r.diagnostic };
    ctx.wasm = r.wasm;
    ctx.buildNote = r.note?.slice(0, 200);
    return null;
  }

  private async checkStage(ctx: Context): Promise<CheckVerdict | null> {
    const reply = await this.sandbox.run(
      { kind: 'check', spec: ctx.kernel.spec, reference: await this.build(ctx.kernel, 'reference'), candidate: ctx.wasm!, seed: ctx.seed, maxMemoryBytes: this.maxMemory },
      this.opts.jobTimeoutMs ?? 20_000,
      ctx.signal,
    );
    if (reply.kind !== 'check') throw new Error('sandbox answered a check with bench samples');
    return reply.verdict.status === 'pass' ? null : reply.verdict;
  }

  private async benchStage(ctx: Context): Promise<CheckVerdict | null> {
    await Promise.all(this.pendingCompiles.values());
    // The speed of light at a footprint is measured once per session, in the job of the first candidate that needs it.
    const footprints = shapeCases(ctx.kernel.spec, 'bench').map((s) => footprintBytes(ctx.kernel.spec, s.env));
    const lightFootprints = [...new Set(footprints.filter((f) => !this.light.has(f)))];
    const reply = await this.sandbox.run(
      {
        kind: 'bench',
        spec: ctx.kernel.spec,
        reference: await this.build(ctx.kernel, 'reference'),
        baseline: await this.build(ctx.kernel, 'baseline'),
        probe: await this.probe(),
        lightFootprints,
        candidate: ctx.wasm!,
        seed: ctx.seed,
        maxMemoryBytes: this.maxMemory,
        pairs: this.opts.pairs ?? DEFAULT_PAIRS,
        groups: this.groups,
        sampleMs: this.opts.sampleMs ?? PROTOCOL.minBatchNs / 1e6,
      },
      this.opts.jobTimeoutMs ?? 20_000,
      ctx.signal,
    );
    if (reply.kind === 'check') return reply.verdict;
    ctx.registerBound = registerBound(ctx.wasm!, await this.build(ctx.kernel, 'baseline'), this.model.target);
    reply.light.forEach((l, i) => this.light.set(lightFootprints[i], l));
    const noiseFloor = this.opts.noiseFloor ?? 0.02;
    ctx.speed = reply.shapes.map((s, i) =>
      summarizeSamples(ctx.kernel.spec, { ...s, speedOfLight: this.light.get(footprints[i]) }, { noiseFloor, seed: ctx.seed + i }),
    );
    return null;
  }

  private get maxMemory(): number {
    return this.opts.maxMemoryBytes ?? 256 << 20;
  }

  async close(): Promise<void> {
    await Promise.all([this.sandbox.close(), this.compiler.close()]);
  }
}

/** Settles with the work, or rejects with AbortError as soon as the signal fires (the work is left to be closed). */
function untilAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortError());
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    void work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
