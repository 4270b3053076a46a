// `kbench agent`: research → hypotheses → experiments (screen, revise, promote, keep/discard) → report, with
// hard limits, everything in the ledger as it happens, and --resume from that ledger after any crash.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { HostConfig } from '../config/config.js';
import { LEDGER_FILE, newRunId, readLedger, runsDir } from '../ledger/ledger.js';
import type { LedgerEvent } from '../ledger/records.js';
import { RunRecorder } from '../ledger/recorder.js';
import { findHosts, localHost } from '../remote/hosts.js';
import { UsageError } from '../errors.js';
import { findKernel, INCLUDE_DIR, type Kernel } from '../spec/suite.js';
import { graftRecipe } from '../e2e/graft.js';
import { checkE2eHost } from '../e2e/host.js';
import { Budget, TIME_LIMIT, type Limits } from './budget.js';
import { ApiFailure, ApiGate, type MessagesApi } from './client.js';
import { kernelContext } from './context.js';
import type { AgentConfigEvent, AgentE2eSettings, AgentProgress, CostEvent, RequestEvent } from '../ledger/agent-events.js';
import { chargeHost, runExperiment } from './experiment.js';
import { NamedLocks } from './locks.js';
import { loadPrices, priceFor } from './prices.js';
import { loadPrompt } from './prompts.js';
import { bestCandidateFile, bestFileName } from './best-candidate.js';
import { runResearch } from './research.js';
import { makeRoots } from './research-tools.js';
import { foldInto, now, record, type RunContext } from './run-context.js';
import type { ExperimentRunner } from './runner.js';
import { championOf, replay } from './state.js';

export type AgentSettings = Omit<AgentConfigEvent, 'type' | 'at'>;

/** --e2e without --e2e-depths / --e2e-rounds: generation and prompt processing at an empty cache, 5 rounds per build. */
export const AGENT_E2E_DEFAULTS: Omit<AgentE2eSettings, 'model'> = { depths: [0], rounds: 5 };

export interface AgentOptions {
  workDir: string;
  /** a new run; or `resume` with optional new limits */
  settings?: AgentSettings;
  resume?: { id: string; limits?: Partial<Limits> };
  api: MessagesApi;
  /** the screen and native stages for this kernel and these hosts */
  openRunner: (workDir: string) => Promise<ExperimentRunner> | ExperimentRunner;
  signal?: AbortSignal;
  onEvent?: (e: AgentProgress) => void;
  argv?: string[];
  nowMs?: () => number;
  maxTokens?: number;
}

export interface AgentOutcome {
  id: string;
  dir: string;
  bestPath?: string;
  stopReason: string | null;
  status: 'done' | 'interrupted' | 'failed';
  apiUsd: number;
  hostsUsd: number;
  kept: number;
}

/** Executors that would run model-written code natively on this machine. */
const LOCAL_EXECUTORS = new Set(['local', 'qemu-aarch64']);

export function checkHostSafety(hosts: HostConfig[], allowLocalNative: boolean): void {
  const local = hosts.filter((h) => LOCAL_EXECUTORS.has(h.executor));
  if (local.length && !allowLocalNative)
    throw new UsageError(
      `host '${local[0].name}' would run model-written code natively on this machine (executor ${local[0].executor}); pass --allow-local-native to allow it, or use a remote host`,
    );
}

/**
 * --e2e measures through a graft recipe and runs the candidate inside llama-bench on its host (this machine unless
 * --e2e-on names an ssh host): a kernel without a recipe, an unknown or emulated host, local native code without
 * --allow-local-native, a missing local model or a bad depth or round count is a usage error before anything starts.
 */
export function checkE2eSettings(workDir: string, kernel: Kernel, e2e: AgentE2eSettings, allowLocalNative: boolean): HostConfig {
  if (!graftRecipe(kernel))
    throw new UsageError(`--e2e: kernel '${kernel.name}' has no graft recipe (no "graft" in ${join(kernel.dir, 'kernel.json')}), so it cannot be measured end to end`);
  const host = e2eHostConfig(workDir, e2e);
  checkE2eHost(host);
  const local = host.executor === 'local';
  if (local && !allowLocalNative)
    throw new UsageError('--e2e runs model-written candidates natively on this machine (grafted into llama-bench); pass --allow-local-native to allow it, or --e2e-on <ssh host>');
  // a model on an ssh host is that host's path, checked there
  if (local && e2e.model !== undefined && !existsSync(e2e.model)) throw new UsageError(`--e2e-model ${e2e.model}: no such file`);
  if (!e2e.depths.length || e2e.depths.some((d) => !Number.isInteger(d) || d < 0)) throw new UsageError(`--e2e-depths: whole numbers ≥ 0 expected, got ${e2e.depths.join(',') || 'none'}`);
  if (!Number.isInteger(e2e.rounds) || e2e.rounds < 1) throw new UsageError(`--e2e-rounds: a whole number ≥ 1 expected, got ${e2e.rounds}`);
  return host;
}

/** The host an --e2e gate runs on: --e2e-on's name in the project's hosts, else this machine. */
export function e2eHostConfig(workDir: string, e2e: AgentE2eSettings): HostConfig {
  return e2e.host === undefined ? localHost() : findHosts(workDir, [e2e.host])[0]!;
}

export async function runAgent(opts: AgentOptions): Promise<AgentOutcome> {
  const { id, dir, events } = locateRun(opts);
  const state = replay(events);
  const settings = resolveSettings(opts, state.config);
  // Every usage problem surfaces here, before the ledger gets anything or a request is sent.
  const kernel = findKernel(settings.kernelsDir, settings.kernel);
  const prices = loadPrices(settings.pricesFile);
  const price = priceFor(prices, settings.model);
  const hosts = findHosts(opts.workDir, settings.hosts);
  checkHostSafety(hosts, settings.allowLocalNative);
  const e2eHost = settings.e2e ? checkE2eSettings(opts.workDir, kernel, settings.e2e, settings.allowLocalNative) : undefined;
  const roots = makeRoots(kernel.dir, INCLUDE_DIR, settings.researchDirs);
  const runner = await opts.openRunner(opts.workDir);
  if (settings.e2e && !runner.e2e) throw new UsageError('--e2e: this runner has no end-to-end stage');

  const stop = stopSignal(opts.signal, settings.limits.maxMinutes);
  const onEvent = opts.onEvent ?? (() => {});
  const recorder = new RunRecorder(dir, foldInto(state, onEvent));
  const budget = new Budget(settings.limits, state.apiUsd + state.hostsUsd, opts.nowMs ?? Date.now, stop.signal);
  const recordApi = (e: CostEvent | RequestEvent) => recorder.event(e);
  const ctx: RunContext = {
    id,
    workDir: opts.workDir,
    dir: recorder.dir,
    kernel,
    config: { type: 'agent-config', at: now(), ...settings },
    hosts,
    ...(e2eHost ? { e2eHost } : {}),
    roots,
    recorder,
    state,
    budget,
    gate: new ApiGate(opts.api, settings.model, price, prices.webSearchPer1000Usd, budget, recordApi, stop.signal),
    runner,
    locks: new NamedLocks(),
    signal: stop.signal,
    system: loadPrompt('system.md'),
    context: kernelContext(kernel),
    maxTokens: opts.maxTokens ?? 16_000,
    onEvent,
  };
  recorder.start('agent', id, { argv: opts.argv });
  record(ctx, ctx.config);
  // requests a crash left without an answer (nor a cost): charged their upper-bound estimate now
  for (const r of [...state.unanswered.values()]) ctx.gate.chargeUnanswered(r);
  onEvent({ type: 'status', at: now(), text: `run ${id} (${recorder.dir}); after a crash: kbench agent --resume ${id}` });

  let status: AgentOutcome['status'] = 'done';
  try {
    await runResearch(ctx);
    await runExperiments(ctx);
  } catch (e) {
    // Whatever went wrong, the run ends with its ledger closed and a report; --resume can continue it.
    status = 'failed';
    const message = e instanceof ApiFailure || e instanceof UsageError ? e.message : `internal error: ${(e as Error).stack ?? e}`;
    record(ctx, { type: 'error', at: now(), message });
    budget.stop(message.split('\n')[0]);
  } finally {
    stop.dispose();
    await runner.close().catch(() => {});
  }
  if (opts.signal?.aborted && status === 'done') status = 'interrupted';
  return finish(ctx, status);
}

/** One signal stops everything in flight (requests, promotions): the user's Ctrl-C or the time limit. */
function stopSignal(user: AbortSignal | undefined, maxMinutes: number): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onUser = () => controller.abort();
  if (user?.aborted) controller.abort();
  user?.addEventListener('abort', onUser);
  const timer = setTimeout(() => controller.abort(TIME_LIMIT), maxMinutes * 60_000);
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      user?.removeEventListener('abort', onUser);
    },
  };
}

/** The run folder and what its ledger already holds; a new run's folder is created only once the options are valid. */
function locateRun(opts: AgentOptions): { id: string; dir: string; events: LedgerEvent[] } {
  if (opts.resume) {
    const dir = join(runsDir(opts.workDir), opts.resume.id);
    const file = join(dir, LEDGER_FILE);
    if (!existsSync(file)) throw new UsageError(`no run '${opts.resume.id}' in ${runsDir(opts.workDir)} (see \`kbench runs\`)`);
    return { id: opts.resume.id, dir, events: readLedger(file) };
  }
  const id = newRunId();
  return { id, dir: join(runsDir(opts.workDir), id), events: [] };
}

function resolveSettings(opts: AgentOptions, prior: AgentConfigEvent | undefined): AgentSettings {
  if (!opts.resume) {
    if (!opts.settings) throw new UsageError('a kernel is needed (or --resume <id>)');
    const { e2e } = opts.settings;
    return {
      ...opts.settings,
      kernelsDir: resolve(opts.settings.kernelsDir),
      researchDirs: opts.settings.researchDirs.map((d) => resolve(d)),
      // a model on an ssh host is the host's path, left as given
      ...(e2e ? { e2e: { ...e2e, ...(e2e.model && e2e.host === undefined ? { model: resolve(e2e.model) } : {}) } } : {}),
    };
  }
  if (!prior) throw new UsageError(`run '${opts.resume.id}' is not an agent run (no agent-config in its ledger)`);
  const { type: _t, at: _a, ...settings } = prior;
  return { ...settings, limits: { ...settings.limits, ...opts.resume.limits } };
}

/**
 * The baseline against itself in the WASM screen and on every host, once per run before the first experiment:
 * the model then knows its time per shape, its share of the speed of light and the bound that matters before
 * writing code. A target interrupted before it answered is measured again on resume.
 */
async function measureBaseline(ctx: RunContext): Promise<void> {
  const k = ctx.kernel;
  const baseline = { name: 'baseline', source: readFileSync(k.baselinePath, 'utf8'), path: k.baselinePath };
  const hosts = ctx.hosts.filter((h) => !ctx.state.baselines.has(h.name));
  const wasm = async () => {
    if (ctx.state.baselines.has('wasm') || ctx.budget.stopReason()) return;
    const result = await ctx.locks.with(['wasm'], () => ctx.runner.screen(k, baseline));
    record(ctx, { type: 'baseline', at: now(), result });
  };
  const native = () =>
    ctx.locks.with(
      hosts.map((h) => h.name),
      () =>
        Promise.all(
          hosts.map(async (host) => {
            if (ctx.budget.stopReason()) return;
            const [result] = await ctx.runner.confirm(k, baseline, [host], ctx.signal).catch((e) => {
              if (ctx.signal.aborted) return [];
              throw e;
            });
            if (!result || ctx.signal.aborted) return;
            record(ctx, { type: 'baseline', at: now(), result });
            chargeHost(ctx, result.target, result.elapsedMs, 'baseline');
          }),
        ),
    );
  await Promise.all([wasm(), native()]);
}

/** As many experiments in flight as hosts (one without hosts); each host runs one promotion at a time. */
async function runExperiments(ctx: RunContext): Promise<void> {
  const s = ctx.state;
  const queue = s.hypotheses.filter((h) => !s.verdicts.has(h.id));
  if (queue.length) await measureBaseline(ctx);
  if (ctx.signal.aborted) return;
  let started = s.verdicts.size;
  const worker = async () => {
    for (;;) {
      if (ctx.budget.stopReason() || queue.length === 0) return;
      if (started >= ctx.config.limits.maxExperiments) {
        ctx.budget.stop(`experiment limit reached: ${ctx.config.limits.maxExperiments}`);
        return;
      }
      const h = queue.shift()!;
      started++;
      ctx.onEvent({ type: 'status', at: now(), text: `experiment ${h.id}: ${h.title}` });
      try {
        await runExperiment(ctx, h);
      } catch (e) {
        // stop the other workers from starting more work, then let runAgent record it
        ctx.budget.stop((e as Error).message.split('\n')[0]);
        throw e;
      }
    }
  };
  const inFlight = Math.max(1, ctx.hosts.length);
  const results = await Promise.allSettled(Array.from({ length: inFlight }, worker));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}

function finish(ctx: RunContext, status: AgentOutcome['status']): AgentOutcome {
  const s = ctx.state;
  const stopReason = ctx.budget.stopReason();
  if (stopReason) record(ctx, { type: 'stop', at: now(), reason: stopReason });
  // the final champion is the best candidate: every later one had to beat it
  const champion = championOf(s);
  let bestPath: string | undefined;
  if (champion) {
    const source = readFileSync(join(ctx.dir, s.candidates.get(champion.candidate)!.event.file), 'utf8');
    bestPath = ctx.recorder.writeFile(bestFileName(ctx.kernel.name), bestCandidateFile(s, ctx.kernel.name, source, champion));
  }
  ctx.recorder.end(status, stopReason ?? undefined);
  return { id: ctx.id, dir: ctx.dir, bestPath, stopReason, status, apiUsd: s.apiUsd, hostsUsd: s.hostsUsd, kept: s.champions.length };
}
