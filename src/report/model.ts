// The one model every report format renders: built from a run's ledger, so Markdown, HTML, JSON and the
// Google Benchmark export can never disagree about the facts.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describeVerdict, type CheckStatus } from '../check/verdict.js';
import { LEDGER_FILE, readLedger } from '../ledger/ledger.js';
import { AGENT_EVENT_TYPES, type Arch, type E2eResult, type LedgerEvent, type TargetResult, type UpstreamInfo } from '../ledger/records.js';
import type { Interval, SpeedVerdict, VsUpstream } from '../measure/types.js';
import { lightShare } from '../measure/speed-of-light.js';
import { median } from '../measure/stats.js';
import { agreementRho, pairWithWasm, type AgreementPoint, type TimedSource } from '../measure/agreement.js';
import { UsageError } from '../errors.js';
import { baselineDriftReason, machineReasons, stabilityOf, wideCiReason, type LoadSnapshot, type Stability } from '../measure/stability.js';
import { formatNs } from '../format.js';
import { readAgentActivity, type AgentActivity } from './agent-events.js';
import { replay, type RunState } from '../agent/state.js';

export const REPORT_SCHEMA = 'kbench.report/1';

export interface RunInfo {
  id: string;
  kind: string;
  startedAt?: string;
  endedAt?: string;
  /** 'running' when the ledger has no run-end (still going, or killed) */
  status: 'done' | 'interrupted' | 'failed' | 'running';
  reason?: string;
  argv?: string[];
  machine?: Record<string, unknown>;
  durationMs?: number;
  /** how busy the machine was at the start and the end (absent in ledgers written before it was recorded) */
  load?: { start?: LoadSnapshot; end?: LoadSnapshot };
  /** unstable when the machine was busy or throttled, or any result is unstable */
  stability: Stability;
}

export interface TargetInfo {
  name: string;
  arch: Arch;
  toolchain: string;
}

export interface ShapeRow {
  shape: string;
  speedup: Interval;
  verdict: SpeedVerdict;
  noiseFloor: number;
  pairs: number;
  callsPerSample: number;
  baselineMedianNs: number;
  candidateMedianNs: number;
  gbps: number;
  gflops: number;
  /** share of the measured speed of light reached (see measure/speed-of-light.ts); absent when not measured */
  lightShare?: number;
  suspect?: string;
  emulated?: boolean;
  /** raw per-call times of each interleaved pair (for exports that want every repetition) */
  baselineNs: number[];
  candidateNs: number[];
  /** against the real ggml op timed in the same rounds (kbench run --upstream) */
  vsUpstream?: VsUpstream;
  upstreamMedianNs?: number;
  /** ops in the upstream graph on this shape: fewer than asked where a timing batch holds no more */
  upstreamCopies?: number;
}

export interface ResultRow extends Pick<TargetResult, 'kernel' | 'candidate' | 'target' | 'arch' | 'toolchain' | 'sourceSha256' | 'elapsedMs' | 'registerBound'> {
  /** the check status, or 'host-failure' when the target could not judge the candidate */
  status: CheckStatus | 'host-failure';
  /** one readable line for anything but a pass */
  reason?: string;
  shapes: ShapeRow[];
  /** unstable when its baseline drifted from the rest of the run's, or its CI is wide */
  stability: Stability;
  /** which upstream its vsUpstream figures are against */
  upstream?: UpstreamInfo;
}

export type CorrelationPoint = AgreementPoint;

/** WASM speedups against one native target's: does the cheap screen rank candidates like the real host? */
export interface Correlation {
  target: string;
  arch: Arch;
  points: CorrelationPoint[];
  /** null with fewer than 3 points (a rank correlation of 2 points says nothing) */
  spearmanRho: number | null;
}

export interface ReportModel {
  schema: typeof REPORT_SCHEMA;
  run: RunInfo;
  /** WASM first, then hosts in order of first result */
  targets: TargetInfo[];
  /** one row per kernel × candidate × target; a later result (a retry) replaces an earlier one */
  results: ResultRow[];
  correlations: Correlation[];
  agent?: AgentActivity;
  /** an agent run's own fold of its events (agent/state.ts): what its Markdown report adds; not part of the JSON */
  agentState?: RunState;
  /** end-to-end measures (kbench e2e, an agent's last gate), in ledger order */
  e2e: E2eResult[];
  /** event types this report does not render, with their counts */
  otherEvents: Record<string, number>;
}


/** Accepts a run folder or a ledger.jsonl path. */
export function loadReportModel(path: string): ReportModel {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, LEDGER_FILE) : path;
  if (!existsSync(file)) throw new UsageError(`${path}: no ${LEDGER_FILE} (not a run folder)`);
  const events = readLedger(file);
  if (events.length === 0) throw new UsageError(`${file}: empty ledger`);
  return buildReportModel(events, basename(file === path ? dirname(path) : path));
}

export function buildReportModel(events: LedgerEvent[], fallbackId = 'run'): ReportModel {
  const byKey = new Map<string, ResultRow>();
  const otherEvents: Record<string, number> = {};
  const e2e: E2eResult[] = [];
  let run: RunInfo = { id: fallbackId, kind: 'unknown', status: 'running', stability: stabilityOf([]) };
  for (const event of events) {
    if (event.type === 'run-start') {
      const start = event.machine?.load;
      run = { ...run, id: event.id ?? fallbackId, kind: event.kind, startedAt: event.at, argv: event.argv, machine: event.machine, ...(start ? { load: { start } } : {}) };
    } else if (event.type === 'run-end') {
      run = { ...run, endedAt: event.at, status: event.status, reason: event.reason, ...(event.machine?.load ? { load: { ...run.load, end: event.machine.load } } : {}) };
    } else if (event.type === 'result') {
      const row = toResultRow(event.result);
      const key = `${row.kernel}\0${row.candidate}\0${row.target}`;
      byKey.delete(key); // re-insert so a retry lands in the order it happened
      byKey.set(key, row);
    } else if (event.type === 'e2e') {
      e2e.push(event.result);
    } else if (event.type === 'unknown') {
      otherEvents[event.originalType] = (otherEvents[event.originalType] ?? 0) + 1;
    } else if (event.type !== 'promote-end' && !(run.kind === 'agent' && AGENT_EVENT_TYPES.has(event.type))) {
      otherEvents[event.type] = (otherEvents[event.type] ?? 0) + 1;
    }
  }
  if (run.startedAt && run.endedAt) run.durationMs = Date.parse(run.endedAt) - Date.parse(run.startedAt);
  const results = [...byKey.values()];
  judgeStability(run, results);
  // an end-to-end timing judged unstable makes the run so, as any unstable result does
  const e2eReasons = e2e.flatMap((r) => (r.timing?.stability.status === 'unstable' ? r.timing.stability.reasons.map((why) => `e2e ${r.kernel}/${r.candidate}: ${why}`) : []));
  if (e2eReasons.length) run.stability = stabilityOf([...run.stability.reasons, ...e2eReasons]);
  const targets = collectTargets(results);
  if (run.kind !== 'agent') return { schema: REPORT_SCHEMA, run, targets, results, correlations: correlate(results, targets), e2e, otherEvents };
  const agent = readAgentActivity(events, results);
  return { schema: REPORT_SCHEMA, run, targets, results, correlations: correlate(results, targets), agent, e2e, otherEvents, agentState: replay(events) };
}

function toResultRow(r: TargetResult): ResultRow {
  const status = r.hostFailure ? 'host-failure' : r.check.status;
  const reason = r.hostFailure ? `host failure: ${r.hostFailure}` : r.check.status === 'pass' ? undefined : describeVerdict(r.check);
  const shapes: ShapeRow[] = r.hostFailure
    ? []
    : r.speed.map((s) => ({
        shape: s.shape,
        speedup: s.speedup,
        verdict: s.verdict,
        noiseFloor: s.noiseFloor,
        pairs: s.ratios.length,
        callsPerSample: s.callsPerSample,
        baselineMedianNs: s.baselineMedianNs,
        candidateMedianNs: s.candidateMedianNs,
        gbps: s.gbps,
        gflops: s.gflops,
        ...(lightShare(s) !== undefined ? { lightShare: lightShare(s) } : {}),
        ...(s.suspect ? { suspect: s.suspect } : {}),
        ...(s.emulated ? { emulated: true } : {}),
        ...(s.vsUpstream ? { vsUpstream: s.vsUpstream, upstreamMedianNs: s.upstreamMedianNs } : {}),
        ...(s.upstreamCopies !== undefined ? { upstreamCopies: s.upstreamCopies } : {}),
        baselineNs: s.baselineNs,
        candidateNs: s.candidateNs,
      }));
  return {
    kernel: r.kernel,
    candidate: r.candidate,
    target: r.target,
    arch: r.arch,
    toolchain: r.toolchain,
    sourceSha256: r.sourceSha256,
    elapsedMs: r.elapsedMs,
    status,
    ...(reason ? { reason } : {}),
    shapes,
    stability: stabilityOf([]),
    ...(r.upstream ? { upstream: r.upstream } : {}),
    ...(r.registerBound ? { registerBound: r.registerBound } : {}),
  };
}

/**
 * Every result timed the baseline again: on one target and shape those timings should agree, so a result whose
 * baseline strays from the run's median baseline, or whose CI is wide, is unstable; so is a run on a busy machine.
 */
function judgeStability(run: RunInfo, results: ResultRow[]): void {
  const baselines = new Map<string, number[]>();
  const key = (r: ResultRow, shape: string) => `${r.kernel}\0${r.target}\0${shape}`;
  for (const r of results) for (const s of r.shapes) baselines.set(key(r, s.shape), [...(baselines.get(key(r, s.shape)) ?? []), s.baselineMedianNs]);
  for (const r of results) {
    const reasons: string[] = [];
    for (const s of r.shapes) {
      if (s.emulated) continue;
      const all = baselines.get(key(r, s.shape))!;
      const drift = all.length >= 2 ? baselineDriftReason(s.shape, s.baselineMedianNs, median(all), formatNs) : null;
      const wide = wideCiReason(s.shape, s.speedup.lo, s.speedup.hi);
      for (const reason of [drift, wide]) if (reason) reasons.push(reason);
    }
    r.stability = stabilityOf(reasons);
  }
  const reasons = machineReasons(run.load?.start, run.load?.end);
  const timed = results.filter((r) => r.shapes.length > 0);
  const unstable = timed.filter((r) => r.stability.status === 'unstable').length;
  if (unstable) reasons.push(`${unstable} of ${timed.length} timed results are unstable`);
  run.stability = stabilityOf(reasons);
}

function collectTargets(results: ResultRow[]): TargetInfo[] {
  const seen = new Map<string, TargetInfo>();
  for (const r of results) if (!seen.has(r.target)) seen.set(r.target, { name: r.target, arch: r.arch, toolchain: r.toolchain });
  return [...seen.values()].sort((a, b) => Number(b.name === 'wasm') - Number(a.name === 'wasm'));
}

const timedSource = (r: ResultRow): TimedSource => ({ ...r, shapes: r.shapes.map((s) => ({ shape: s.shape, speedup: s.speedup.estimate, emulated: s.emulated })) });

/** Per native target, its speedups paired with the WASM screen's (measure/agreement.ts, as calibrate does). */
function correlate(results: ResultRow[], targets: TargetInfo[]): Correlation[] {
  const wasm = results.filter((r) => r.target === 'wasm').map(timedSource);
  const correlations: Correlation[] = [];
  for (const t of targets.filter((t) => t.name !== 'wasm')) {
    const points = pairWithWasm(wasm, results.filter((r) => r.target === t.name).map(timedSource));
    if (points.length) correlations.push({ target: t.name, arch: t.arch, points, spearmanRho: agreementRho(points) });
  }
  return correlations;
}

/** Rows that passed the check and carry timings, i.e. what the speed charts and tables show. */
export function timedRows(model: ReportModel): ResultRow[] {
  return model.results.filter((r) => r.shapes.length > 0);
}

/** Rows that failed, with their reason. */
export function failedRows(model: ReportModel): ResultRow[] {
  return model.results.filter((r) => r.status !== 'pass');
}
