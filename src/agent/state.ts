// Everything a run knows, rebuilt from its ledger events. The same fold runs live (each event as it is
// appended) and on --resume (all events read back), so a resumed run cannot disagree with the one that died.
import type { E2eResult, LedgerEvent, TargetResult } from '../ledger/records.js';
import type { CostBreakdown } from './prices.js';
import type { AgentConfigEvent, ChampionEvent, CostEvent, CandidateEvent, Hypothesis, ResearchEvent, AgentScreenEvent, PromotionEvent, RequestEvent, VerdictEvent } from '../ledger/agent-events.js';

export interface CandidateState {
  event: CandidateEvent;
  screen?: AgentScreenEvent;
  wasm?: TargetResult;
  /** native results by host */
  native: TargetResult[];
  /** sent to the hosts at least once */
  promoted: boolean;
  /** the champion its native results are timed against (null: the baseline) */
  nativeReference?: string | null;
  /** --e2e: the end-to-end measure against the unmodified upstream (independent of the champion) */
  e2e?: E2eResult;
}

export interface RunState {
  id?: string;
  argv?: string[];
  config?: AgentConfigEvent;
  research?: ResearchEvent;
  hypotheses: Hypothesis[];
  candidates: Map<string, CandidateState>;
  promotions: Map<string, PromotionEvent>;
  verdicts: Map<string, VerdictEvent>;
  /** the lineage: every champion change in order; the last one is the thing to beat (none: the baseline) */
  champions: ChampionEvent[];
  /** the baseline timed against itself by target (wasm and each host), measured before the first experiment */
  baselines: Map<string, TargetResult>;
  /** API cost by conversation and host cost by candidate: what each experiment cost */
  conversationUsd: Map<string, number>;
  candidateHostUsd: Map<string, number>;
  apiUsd: number;
  hostsUsd: number;
  api: ApiTotals;
  /** requests sent and not (yet) paid for: after a crash, the ones to charge an estimate for */
  unanswered: Map<string, RequestEvent>;
  /** wall time and cost per host */
  hostTime: Map<string, { durationMs: number; costUsd: number }>;
  stops: string[];
  /** why this session stopped taking new work, if it said so (cleared by each run-start: a resume starts afresh) */
  sessionStop?: string;
  errors: string[];
  /** every run-start of this run: 1 + the number of resumes */
  sessions: number;
}

export interface ApiTotals {
  requests: number;
  breakdown: CostBreakdown;
  tokens: { input: number; output: number; cacheWrite: number; cacheRead: number };
  webSearches: number;
  /** requests charged an upper-bound estimate because no answer came */
  estimated: number;
}

export function emptyState(): RunState {
  return {
    hypotheses: [],
    candidates: new Map(),
    promotions: new Map(),
    verdicts: new Map(),
    champions: [],
    baselines: new Map(),
    conversationUsd: new Map(),
    candidateHostUsd: new Map(),
    apiUsd: 0,
    hostsUsd: 0,
    api: {
      requests: 0,
      breakdown: { inputUsd: 0, outputUsd: 0, cacheWriteUsd: 0, cacheReadUsd: 0, webSearchUsd: 0, totalUsd: 0 },
      tokens: { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 },
      webSearches: 0,
      estimated: 0,
    },
    unanswered: new Map(),
    hostTime: new Map(),
    stops: [],
    errors: [],
    sessions: 0,
  };
}

function addCost(s: RunState, e: CostEvent): void {
  if (e.category === 'hosts') {
    s.hostsUsd += e.costUsd;
    s.candidateHostUsd.set(e.candidate, (s.candidateHostUsd.get(e.candidate) ?? 0) + e.costUsd);
    const t = s.hostTime.get(e.host) ?? { durationMs: 0, costUsd: 0 };
    s.hostTime.set(e.host, { durationMs: t.durationMs + e.durationMs, costUsd: t.costUsd + e.costUsd });
    return;
  }
  s.apiUsd += e.costUsd;
  s.conversationUsd.set(e.conversation, (s.conversationUsd.get(e.conversation) ?? 0) + e.costUsd);
  if (e.request) s.unanswered.delete(e.request);
  const a = s.api;
  a.requests++;
  if (e.estimated) a.estimated++;
  for (const k of Object.keys(a.breakdown) as (keyof CostBreakdown)[]) a.breakdown[k] += e.breakdown?.[k] ?? 0;
  a.tokens.input += e.usage?.input_tokens ?? 0;
  a.tokens.output += e.usage?.output_tokens ?? 0;
  a.tokens.cacheWrite += e.usage?.cache_creation_input_tokens ?? 0;
  a.tokens.cacheRead += e.usage?.cache_read_input_tokens ?? 0;
  a.webSearches += e.usage?.server_tool_use?.web_search_requests ?? 0;
}

export function applyEvent(s: RunState, e: LedgerEvent): void {
  switch (e.type) {
    case 'run-start':
      s.id ??= e.id;
      s.argv ??= e.argv;
      s.sessions++;
      s.sessionStop = undefined;
      break;
    case 'agent-config':
      s.config = e;
      break;
    case 'research':
      s.research = e;
      break;
    case 'hypothesis': {
      const { type: _t, at: _a, ...h } = e;
      s.hypotheses = s.hypotheses.filter((x) => x.id !== h.id).concat(h).sort((a, b) => a.rank - b.rank);
      break;
    }
    case 'candidate':
      s.candidates.set(e.candidate, { event: e, native: [], promoted: false });
      break;
    case 'result': {
      const r = e.result;
      const c = s.candidates.get(r.candidate);
      if (!c) break;
      if (r.target === 'wasm') c.wasm = r;
      else c.native = c.native.filter((x) => x.target !== r.target).concat(r);
      break;
    }
    case 'screen': {
      const c = s.candidates.get(e.candidate);
      if (c) c.screen = e;
      break;
    }
    case 'promotion': {
      s.promotions.set(e.hypothesis, e);
      // a promotion started again (after a resume) replaces the partial results of the lost one
      const c = s.candidates.get(e.candidate);
      if (c) Object.assign(c, { native: [], promoted: true, nativeReference: e.reference ?? null });
      break;
    }
    case 'e2e': {
      const c = s.candidates.get(e.result.candidate);
      if (c) c.e2e = e.result;
      break;
    }
    case 'verdict':
      s.verdicts.set(e.hypothesis, e);
      break;
    case 'request':
      if (e.error) s.unanswered.delete(e.request);
      else s.unanswered.set(e.request, e);
      break;
    case 'baseline':
      s.baselines.set(e.result.target, e.result);
      break;
    case 'champion':
      s.champions.push(e);
      break;
    case 'cost':
      addCost(s, e);
      break;
    case 'stop':
      s.stops.push(e.reason);
      s.sessionStop = e.reason;
      break;
    case 'error':
      s.errors.push(e.message);
      break;
  }
}

export function replay(events: LedgerEvent[]): RunState {
  const s = emptyState();
  for (const e of events) applyEvent(s, e);
  return s;
}

export function candidatesOf(s: RunState, hypothesis: string): CandidateState[] {
  return [...s.candidates.values()].filter((c) => c.event.hypothesis === hypothesis).sort((a, b) => a.event.revision - b.event.revision);
}

/** The current champion, or undefined while it is the original baseline. */
export function championOf(s: RunState): ChampionEvent | undefined {
  return s.champions.at(-1);
}
