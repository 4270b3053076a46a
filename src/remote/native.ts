// One native run: a kernel's baseline and candidates on one host → one TargetResult per candidate.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostConfig } from '../config/config.js';
import { sha256, type TargetResult, type UpstreamInfo } from '../ledger/records.js';
import { UsageError } from '../errors.js';
import type { Kernel } from '../spec/suite.js';
import { newNonce, writeBundle, type BundleUpstream, type Candidate, type PlanSettings } from './bundle.js';
import { HostError, type Executor } from './executor.js';
import { toolchainFor } from './hosts.js';
import { judgeCandidate } from './judge.js';
import { LocalExecutor } from './local.js';
import { SshExecutor } from './ssh.js';

export interface NativeOptions extends Partial<PlanSettings> {
  signal?: AbortSignal;
  onEvent?: (event: NativeEvent) => void;
  /** the whole run on the host, shipping included (default 10 min) */
  timeoutMs?: number;
  /** one candidate's driver on the host (default 120 s): beyond it the candidate gets a `timeout` verdict */
  candidateTimeoutS?: number;
  /** speedups within ±noiseFloor are 'no-change' (default 0.02) */
  noiseFloor?: number;
  /** reuse a connection (promote keeps one executor per host) */
  executor?: Executor;
  /** keep the local bundle folder (debugging); it is removed otherwise */
  keepBundle?: boolean;
  /**
   * Time the real ggml op beside baseline and candidates (prepared by nativeUpstream, src/upstream/native.ts): every
   * speed entry gets vsUpstream and a result 'upstream' is added. Ignored when nothing is timed (skipTiming).
   */
  upstream?: NativeUpstream;
}

/** The upstream variant of a native run: what the bundle carries and what the results record about it. */
export interface NativeUpstream {
  bundle: BundleUpstream;
  info: UpstreamInfo;
}

export type NativeEvent =
  | { type: 'start'; host: string; kernel: string; candidates: string[] }
  | { type: 'stage'; host: string; kernel: string; candidate: string; stage: 'build' | 'run' }
  | { type: 'result'; host: string; result: TargetResult };

export const NATIVE_DEFAULTS = { pairs: 21, processes: 3, minSampleMs: 0.5, warmupMs: 20, inputSets: 3, seed: 1, noiseFloor: 0.02, timeoutMs: 600_000, candidateTimeoutS: 120 };

/** Status run.sh exits with when the CPU lacks a feature the flags need, or the harness does not build. */
const REFUSED = 86;
const HARNESS_BROKEN = 87;
const SPEC_FUNCTION_MISSING = 88;

export function createExecutor(host: HostConfig, env: NodeJS.ProcessEnv = process.env): Executor {
  return host.executor === 'ssh' ? new SshExecutor(host, env) : new LocalExecutor(host);
}


/** What a host failure looks like in the ledger: the candidate was not judged. */
export function hostFailureResult(kernel: Kernel, candidate: Candidate, host: HostConfig, reason: string, elapsedMs: number): TargetResult {
  return {
    kernel: kernel.name,
    candidate: candidate.name,
    target: host.name,
    arch: host.arch,
    toolchain: '',
    sourceSha256: sha256(readFileSync(candidate.path)),
    check: { status: 'trap', message: `not judged: ${reason}` },
    speed: [],
    elapsedMs,
    hostFailure: reason,
  };
}

/**
 * Builds, checks and times `candidates` against the kernel's baseline on `host`. A candidate that fails is a
 * verdict in its result; a host that fails (unreachable, lost, refused, timed out) gives every candidate a result
 * with `hostFailure`. Rejects only with AbortError (opts.signal) or on a usage error.
 */
export async function runNative(kernel: Kernel, candidates: Candidate[], host: HostConfig, opts: NativeOptions = {}): Promise<TargetResult[]> {
  const settings: PlanSettings = {
    threads: opts.threads ?? host.threads ?? 1,
    pairs: opts.pairs ?? NATIVE_DEFAULTS.pairs,
    processes: opts.processes ?? NATIVE_DEFAULTS.processes,
    minSampleMs: opts.minSampleMs ?? NATIVE_DEFAULTS.minSampleMs,
    warmupMs: opts.warmupMs ?? NATIVE_DEFAULTS.warmupMs,
    inputSets: opts.inputSets ?? NATIVE_DEFAULTS.inputSets,
    seed: opts.seed ?? NATIVE_DEFAULTS.seed,
    benchShapes: opts.benchShapes ?? [],
    skipTiming: opts.skipTiming ?? false,
    trials: opts.trials,
  };
  const candidateTimeoutS = opts.candidateTimeoutS ?? NATIVE_DEFAULTS.candidateTimeoutS;
  const toolchain = toolchainFor(host);
  const started = Date.now();
  const bundleDir = mkdtempSync(join(tmpdir(), `kbench-${kernel.name}-`));
  const emit = opts.onEvent ?? (() => undefined);
  // a copy: the host reports the commit of a checkout it builds, recorded in this run's results only
  const upstream = opts.upstream && !settings.skipTiming ? { bundle: opts.upstream.bundle, info: { ...opts.upstream.info } } : undefined;
  const executor = opts.executor ?? createExecutor(host);
  try {
    const nonce = newNonce();
    const cases = writeBundle(bundleDir, kernel, candidates, toolchain, settings, candidateTimeoutS, nonce, upstream?.bundle);
    emit({ type: 'start', host: host.name, kernel: kernel.name, candidates: candidates.map((c) => c.name) });
    let toolchainName = `${toolchain.cc} ${toolchain.cflags.join(' ')}`;
    let pending = '';
    const onOutput = (stream: 'stdout' | 'stderr', text: string) => {
      if (stream !== 'stdout') return;
      const lines = (pending + text).split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const e = parseLine(line);
        if (e?.event === 'upstream' && upstream && typeof e.commit === 'string') upstream.info.commit = e.commit;
        if (e?.event === 'toolchain') toolchainName = `${e.version || e.cc} ${toolchain.cflags.join(' ')}`;
        if (e?.event === 'candidate') emit({ type: 'stage', host: host.name, kernel: kernel.name, candidate: String(e.name), stage: e.stage === 'run' ? 'run' : 'build' });
      }
    };
    let run;
    try {
      run = await executor.runBundle(bundleDir, 'sh run.sh', 'out', { timeoutMs: opts.timeoutMs ?? NATIVE_DEFAULTS.timeoutMs, signal: opts.signal, onOutput });
      if (run.exitCode === REFUSED) throw new HostError(host.name, `refused: ${run.stderr.trim().split('\n').pop()!.replace(/^kbench: /, '')}`);
      if (run.exitCode === SPEC_FUNCTION_MISSING) {
        const file = /(reference|baseline)\.c/.exec(run.stderr)?.[0] ?? 'baseline.c';
        throw new UsageError(`${join(kernel.dir, file)}: does not define ${kernel.spec.function}(), the "function" of ${join(kernel.dir, 'kernel.json')}`);
      }
      if (run.exitCode === HARNESS_BROKEN) throw new HostError(host.name, `the native harness does not build there: ${run.stderr.trim().slice(0, 2000)}`);
      if (run.exitCode !== 0) throw new HostError(host.name, `the run failed (status ${run.exitCode ?? run.signal}): ${run.stderr.trim().split('\n').pop() ?? ''}`);
    } catch (e) {
      if (!(e instanceof HostError)) throw e;
      const results = candidates.map((c) => hostFailureResult(kernel, c, host, e.reason, Date.now() - started));
      for (const result of results) emit({ type: 'result', host: host.name, result });
      return results;
    }
    const elapsedMs = (Date.now() - started) / Math.max(1, candidates.length);
    let upstreamResult: TargetResult | undefined;
    const results = candidates.map((c) => {
      const judged = judgeCandidate(kernel, cases, join(bundleDir, 'out', c.name), {
        noiseFloor: opts.noiseFloor ?? NATIVE_DEFAULTS.noiseFloor,
        seed: settings.seed,
        emulated: toolchain.emulated,
        candidateTimeoutS,
        nonce,
      });
      const result: TargetResult = judged.harnessError
        ? hostFailureResult(kernel, c, host, `the driver failed: ${judged.harnessError}`, elapsedMs)
        : { kernel: kernel.name, candidate: c.name, target: host.name, arch: host.arch, toolchain: toolchainName, sourceSha256: sha256(readFileSync(c.path)), check: judged.check, speed: judged.speed, elapsedMs, ...(upstream ? { upstream: upstream.info } : {}) };
      emit({ type: 'result', host: host.name, result });
      // The upstream variant's own result: its rounds against the baseline from the first candidate that has them
      // (its correctness is `kbench conform`'s business, not the driver's check).
      if (upstream && !upstreamResult && judged.upstreamSpeed) {
        upstreamResult = { kernel: kernel.name, candidate: 'upstream', target: host.name, arch: host.arch, toolchain: `ggml ${upstream.info.commit.slice(0, 12)} ${upstream.info.flags}`, sourceSha256: sha256(upstream.bundle.adapterPath), check: { status: 'pass', calls: 0 }, speed: judged.upstreamSpeed, elapsedMs: 0, upstream: upstream.info };
      }
      return result;
    });
    if (upstreamResult) {
      emit({ type: 'result', host: host.name, result: upstreamResult });
      results.push(upstreamResult);
    }
    return results;
  } finally {
    if (!opts.executor) await executor.close();
    if (!opts.keepBundle) rmSync(bundleDir, { recursive: true, force: true });
  }
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    return line.startsWith('{') ? (JSON.parse(line) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

