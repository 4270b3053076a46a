// How well the WASM screen predicts native speed, from every run so far: per native host, the rank correlation of
// speedups and the native winners the promotion margin would have thrown away.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LEDGER_FILE, readLedger, runsDir } from '../ledger/ledger.js';
import type { TargetResult } from '../ledger/records.js';
import { spearman } from '../measure/stats.js';
import { outcomeOf } from './outcome.js';
import { DEFAULT_MARGIN, wasmRejection } from './promote.js';

export interface CalibrationPoint {
  kernel: string;
  candidate: string;
  shape: string;
  wasmSpeedup: number;
  nativeSpeedup: number;
}

export interface HostCalibration {
  host: string;
  arch: string;
  /** candidates with a passing, timed result on both WASM and this host */
  candidates: number;
  points: CalibrationPoint[];
  /** Spearman ρ of WASM vs native speedups over the points (NaN below 3 points) */
  spearmanRho: number;
  /** candidates 'faster' natively */
  nativeWinners: number;
  /** …of which the WASM stage would have rejected at `marginFraction` */
  rejectedWinners: { kernel: string; candidate: string; wasmBestSpeedup: number }[];
  /** smallest margin that keeps every native winner seen here (rounded up to 0.05), at least the default */
  suggestedMargin: number;
}

export interface Calibration {
  marginFraction: number;
  runs: number;
  hosts: HostCalibration[];
}

/** Every result of every run under .kbench/runs, the latest per target and candidate source. */
function allResults(workDir: string): { results: TargetResult[]; runs: number } {
  const dir = runsDir(workDir);
  if (!existsSync(dir)) return { results: [], runs: 0 };
  const latest = new Map<string, TargetResult>();
  const runs = readdirSync(dir).sort().filter((id) => existsSync(join(dir, id, LEDGER_FILE)));
  for (const id of runs) {
    for (const e of readLedger(join(dir, id, LEDGER_FILE))) {
      if (e.type !== 'result') continue;
      const r = (e as { result: TargetResult }).result;
      latest.set(`${r.target}\0${r.kernel}\0${r.candidate}\0${r.sourceSha256}`, r);
    }
  }
  return { results: [...latest.values()], runs: runs.length };
}

export function calibrate(workDir: string, marginFraction = DEFAULT_MARGIN): Calibration {
  const { results, runs } = allResults(workDir);
  const key = (r: TargetResult) => `${r.kernel}\0${r.candidate}\0${r.sourceSha256}`;
  const wasm = new Map(results.filter((r) => r.target === 'wasm').map((r) => [key(r), r]));
  const native = results.filter((r) => r.target !== 'wasm' && !r.hostFailure && r.check.status === 'pass' && r.speed.length && !r.speed.some((s) => s.emulated));
  const hosts = [...new Set(native.map((r) => r.target))].sort();
  return {
    marginFraction,
    runs,
    hosts: hosts.map((host) => {
      const points: CalibrationPoint[] = [];
      const rejectedWinners: HostCalibration['rejectedWinners'] = [];
      let winners = 0;
      let candidates = 0;
      let neededMargin = 0;
      const mine = native.filter((r) => r.target === host);
      for (const r of mine) {
        const w = wasm.get(key(r));
        if (!w || w.check.status !== 'pass' || !w.speed.length) continue;
        candidates++;
        for (const s of r.speed) {
          const ws = w.speed.find((x) => x.shape === s.shape);
          if (ws) points.push({ kernel: r.kernel, candidate: r.candidate, shape: s.shape, wasmSpeedup: ws.speedup.estimate, nativeSpeedup: s.speedup.estimate });
        }
        if (outcomeOf(r) !== 'faster' && outcomeOf(r) !== 'mixed') continue;
        winners++;
        const wasmBest = Math.max(...w.speed.map((x) => x.speedup.estimate));
        neededMargin = Math.max(neededMargin, 1 - wasmBest);
        if (wasmRejection(w, marginFraction)) rejectedWinners.push({ kernel: r.kernel, candidate: r.candidate, wasmBestSpeedup: wasmBest });
      }
      return {
        host,
        arch: mine[0].arch,
        candidates,
        points,
        spearmanRho: points.length >= 3 ? spearman(points.map((p) => p.wasmSpeedup), points.map((p) => p.nativeSpeedup)) : NaN,
        nativeWinners: winners,
        rejectedWinners,
        suggestedMargin: Math.max(DEFAULT_MARGIN, Math.ceil(neededMargin / 0.05 - 1e-9) * 0.05),
      };
    }),
  };
}
