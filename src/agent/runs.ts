// `kbench runs`: one line per run folder, computed from its ledger (agent runs and screen/promote runs alike).
import { listRunFolders, readLedger } from '../ledger/ledger.js';
import { pooledMeanSpeedup } from './decision.js';
import { meanCumulative } from './lineage.js';
import { replay } from './state.js';

export interface RunSummary {
  id: string;
  kind: string;
  kernel: string;
  startedAt: string | null;
  /** 'done' | 'interrupted' | 'failed' from run-end; 'unfinished' when the run died without one */
  status: string;
  /** agent: finished experiments; others: candidates judged */
  experiments: number;
  /** agent: kept candidates; null for runs that do not keep anything */
  landed: number | null;
  /** the final champion's geometric-mean speedup over the baseline (agent) or best point speedup of any result (other runs) */
  bestSpeedup: number | null;
  costUsd: number;
}

export function listRuns(workDir: string): RunSummary[] {
  return listRunFolders(workDir).map((run) => summarizeRun(run.id, run.ledgerFile));
}

function summarizeRun(id: string, file: string): RunSummary {
  let events;
  try {
    events = readLedger(file);
  } catch (e) {
    return { id, kind: '?', kernel: '?', startedAt: null, status: `unreadable: ${(e as Error).message}`, experiments: 0, landed: null, bestSpeedup: null, costUsd: 0 };
  }
  const start = events.find((e) => e.type === 'run-start');
  const end = [...events].reverse().find((e) => e.type === 'run-end');
  const results = events.flatMap((e) => (e.type === 'result' ? [e.result] : []));
  const s = replay(events);
  const kind = start?.kind ?? '?';
  const base = { id, kind, startedAt: start?.at ?? null, status: end?.status ?? 'unfinished', costUsd: s.apiUsd + s.hostsUsd };
  const kernels = [...new Set(results.map((r) => r.kernel))];
  if (kind === 'agent') {
    const kept = [...s.verdicts.values()].filter((v) => v.decision === 'kept');
    // wins stack: the final champion's speedup over the baseline is the run's best (ledgers written before
    // champions existed only have each kept verdict's own speedup)
    const champion = s.champions.at(-1);
    const best = champion ? (meanCumulative(champion) ?? 0) : Math.max(0, ...kept.map((v) => v.speedup ?? 0));
    return { ...base, kernel: s.config?.kernel ?? (kernels.join(',') || '?'), experiments: s.verdicts.size, landed: kept.length, bestSpeedup: best > 0 ? best : null };
  }
  const judged = results.filter((r) => r.candidate !== 'baseline');
  const speeds = judged.map((r) => pooledMeanSpeedup([r]) ?? 0);
  const best = Math.max(0, ...speeds);
  return { ...base, kernel: kernels.join(',') || '?', experiments: new Set(judged.map((r) => `${r.kernel}/${r.candidate}`)).size, landed: null, bestSpeedup: best > 0 ? best : null };
}
