// How well the WASM screen predicts native speed, from every run so far: per native host and screen model (the
// target the screen modelled, recorded in each WASM result's toolchain string), the rank correlation of
// speedups (pooled, and among the native winners, where ranking is what promotion needs), the native winners the
// promotion margin would have thrown away, and per WASM session its false rejects and whether its figures for
// sources screened before agree with the earlier sessions'. Each host's memory floor (measure/memory-floor.ts) is
// fitted here from its paired timings, ranked with, and handed to the screen (screenFloors).
import { listRunFolders, readLedger } from '../ledger/ledger.js';
import type { TargetResult } from '../ledger/records.js';
import { agreementRho, pairWithWasm, type AgreementPoint, type TimedSource } from '../measure/agreement.js';
import { screenedPlain, screenLabelOf } from '../build/screen-target.js';
import { fitMemoryFloor, predictNativeSpeedup, type FloorObservation, type MemoryFloorModel, type ScreenFloors } from '../measure/memory-floor.js';
import { median } from '../measure/stats.js';
import { outcomeOf } from './outcome.js';
import { DEFAULT_MARGIN, wasmRejection } from './outcome.js';

export interface CalibrationPoint extends AgreementPoint {
  /** the ratio of the WASM median times with the host's memory floor applied (memory-floor.ts); the WASM speedup without a model */
  predictedSpeedup: number;
}

export interface HostCalibration {
  host: string;
  arch: string;
  /** the WASM screen model compared with the host, e.g. "screen avx2 (8 lanes, FMA, AVX2 intrinsics, branchless max/min)" */
  screen: string;
  /** candidates with a passing, timed result on both WASM and this host */
  candidates: number;
  /** …of which the WASM screen built the plain variant: they use intrinsics the model's headers lack */
  plainBuilds: number;
  points: CalibrationPoint[];
  /** Spearman ρ of WASM vs native speedups over the points (NaN below 3 points) */
  spearmanRho: number;
  /** the same over the points that won natively by more than WINNER_SPEEDUP: does the screen rank winners? */
  winnersRho: number;
  /** …with the memory floor applied: the predictions against the native speedups, pooled and among the winners */
  predicted: { spearmanRho: number; winnersRho: number };
  /** the host's memory floor in the screen's units, fitted from these points; absent with too few */
  memoryFloor?: MemoryFloorModel;
  /** per kernel, pooled and among winners, raw and predicted */
  kernels: { kernel: string; points: number; spearmanRho: number; winnerPoints: number; winnersRho: number; predictedRho: number; predictedWinnersRho: number }[];
  /** candidates 'faster' natively */
  nativeWinners: number;
  /** …of which the WASM stage would have rejected at `marginFraction` */
  rejectedWinners: { kernel: string; candidate: string; wasmBestSpeedup: number }[];
  /** smallest margin that keeps every native winner seen here (rounded up to 0.05), at least the default */
  suggestedMargin: number;
}

/** One WASM screen session (a run with WASM results). */
export interface SessionCalibration {
  run: string;
  /** native winners (on any host) that this session's WASM result would have kept from promotion */
  falseRejects: { kernel: string; candidate: string; wasmBestSpeedup: number }[];
  /** sources an earlier session screened too, whose speedup here lies apart from the earlier one */
  disagreements: { kernel: string; candidate: string; shape: string; speedup: number; earlierRun: string; earlierSpeedup: number }[];
}

export interface Calibration {
  marginFraction: number;
  runs: number;
  hosts: HostCalibration[];
  sessions: SessionCalibration[];
}

/** A native speedup above this is a winner worth ranking (below it, promotion order matters little). */
export const WINNER_SPEEDUP = 1.5;
/** Two sessions' speedups for one source differ when their CIs do not overlap and the estimates differ by more. */
const SESSION_DISAGREEMENT = 0.1;

interface RunResult {
  run: string;
  result: TargetResult;
}

/** Every result of every run under .kbench/runs, in run order, and the latest per target (WASM: per screen model) and candidate source. */
function allResults(workDir: string): { every: RunResult[]; results: TargetResult[]; runs: number } {
  const every: RunResult[] = [];
  const latest = new Map<string, TargetResult>();
  const runs = listRunFolders(workDir);
  for (const run of runs) {
    for (const e of readLedger(run.ledgerFile)) {
      if (e.type !== 'result') continue;
      const r = e.result;
      every.push({ run: run.id, result: r });
      const target = r.target === 'wasm' ? screenLabelOf(r.toolchain) : r.target;
      latest.set(`${target}\0${r.kernel}\0${r.candidate}\0${r.sourceSha256}`, r);
    }
  }
  return { every, results: [...latest.values()], runs: runs.length };
}

function rho(points: AgreementPoint[]): number {
  return agreementRho(points) ?? NaN;
}

const predictedRho = (points: CalibrationPoint[]) => rho(points.map((p) => ({ ...p, wasmSpeedup: p.predictedSpeedup })));

const timedSource = (r: TargetResult): TimedSource => ({ ...r, shapes: r.speed.map((s) => ({ shape: s.shape, speedup: s.speedup.estimate, emulated: s.emulated })) });

const winning = (p: CalibrationPoint) => p.nativeSpeedup > WINNER_SPEEDUP;

function kernelRhos(points: CalibrationPoint[]): HostCalibration['kernels'] {
  return [...new Set(points.map((p) => p.kernel))].sort().map((kernel) => {
    const mine = points.filter((p) => p.kernel === kernel);
    const winners = mine.filter(winning);
    return { kernel, points: mine.length, spearmanRho: rho(mine), winnerPoints: winners.length, winnersRho: rho(winners), predictedRho: predictedRho(mine), predictedWinnersRho: predictedRho(winners) };
  });
}

type ShapeSpeed = TargetResult['speed'][number];

/** A paired point with the WASM and native timings it came from. */
interface TimedPoint {
  point: AgreementPoint;
  wasm: ShapeSpeed;
  native: ShapeSpeed;
  /** the median WASM baseline time of the shape over the candidates of the screen session this one came from */
  sessionBaselineNs: number;
}

const shapeOf = (r: TargetResult, shape: string) => r.speed.find((s) => s.shape === shape)!;
const shapeKey = (kernel: string, shape: string) => `${kernel}\0${shape}`;

/** Per kernel and shape, the median of `value` over the results' timed shapes (shapes without one left out). */
function medianPerShape(results: TargetResult[], value: (s: ShapeSpeed) => number | undefined): Map<string, number> {
  const values = new Map<string, number[]>();
  for (const r of results)
    for (const s of r.speed) {
      const x = value(s);
      if (x !== undefined) values.set(shapeKey(r.kernel, s.shape), [...(values.get(shapeKey(r.kernel, s.shape)) ?? []), x]);
    }
  return new Map([...values].map(([k, xs]) => [k, median(xs)]));
}

/** Per kernel and shape, the median native time to read the shape's buffers once, over the host's results. */
const nativeReadNs = (results: TargetResult[]) => medianPerShape(results, (s) => s.speedOfLight?.readNs);

/** The host's memory floor fitted from the timed points, and each point's speedup predicted with it. */
function withMemoryFloor(timed: TimedPoint[], readNs: Map<string, number>): { points: CalibrationPoint[]; memoryFloor?: MemoryFloorModel } {
  const read = (t: TimedPoint) => readNs.get(shapeKey(t.point.kernel, t.point.shape));
  const observations: FloorObservation[] = timed.flatMap((t) => {
    const nativeRead = read(t);
    return nativeRead ? [{ wasmCandidateNs: t.wasm.candidateMedianNs, nativeCandidateNs: t.native.candidateMedianNs, nativeReadNs: nativeRead }] : [];
  });
  const memoryFloor = fitMemoryFloor(observations);
  const points = timed.map((t) => {
    const nativeRead = read(t);
    const predictedSpeedup =
      memoryFloor && nativeRead
        ? predictNativeSpeedup({ candidateNs: t.wasm.candidateMedianNs, baselineNs: t.sessionBaselineNs }, nativeRead, memoryFloor)
        : t.point.wasmSpeedup;
    return { ...t.point, predictedSpeedup };
  });
  return { points, memoryFloor };
}

const isTimedPass = (r: TargetResult) => !r.hostFailure && r.check.status === 'pass' && r.speed.length > 0;

/**
 * Per kernel and shape, the median baseline time over the timed results of one screen session. The floored prediction
 * divides by it rather than by a candidate's own pairings, so candidates that sit on the same floor predict the same
 * speedup instead of being ordered by their baselines' noise, and a faster candidate of the session never predicts
 * slower.
 */
export function sessionBaselines(session: TargetResult[]): (kernel: string, shape: string) => number | undefined {
  const medians = medianPerShape(session.filter(isTimedPass), (s) => s.baselineMedianNs);
  return (kernel, shape) => medians.get(shapeKey(kernel, shape));
}

/** For each WASM result of the ledgers, per shape, its session's median baseline time (sessionBaselines). */
function wasmSessionBaselines(every: RunResult[]): (r: TargetResult, shape: string) => number {
  const bySession = new Map<string, TargetResult[]>();
  const sessionOf = new Map<TargetResult, string>();
  for (const { run, result } of every)
    if (result.target === 'wasm') {
      bySession.set(run, [...(bySession.get(run) ?? []), result]);
      sessionOf.set(result, run);
    }
  const perSession = new Map([...bySession].map(([run, results]) => [run, sessionBaselines(results)]));
  return (r, shape) => perSession.get(sessionOf.get(r)!)?.(r.kernel, shape) ?? shapeOf(r, shape).baselineMedianNs;
}

/** Per WASM session: native winners it would have rejected, and figures apart from earlier sessions of the same source. */
function calibrateSessions(every: RunResult[], nativeWinners: Set<string>, marginFraction: number): SessionCalibration[] {
  const source = (r: TargetResult) => `${r.kernel}\0${r.candidate}\0${r.sourceSha256}`;
  const sessions = new Map<string, SessionCalibration>();
  const earlier = new Map<string, { run: string; speedup: TargetResult['speed'][number]['speedup'] }>();
  for (const { run, result: r } of every) {
    if (r.target !== 'wasm') continue;
    const session = sessions.get(run) ?? { run, falseRejects: [], disagreements: [] };
    sessions.set(run, session);
    if (nativeWinners.has(source(r)) && wasmRejection(r, marginFraction))
      session.falseRejects.push({ kernel: r.kernel, candidate: r.candidate, wasmBestSpeedup: r.speed.length ? Math.max(...r.speed.map((s) => s.speedup.estimate)) : NaN });
    if (!isTimedPass(r) || r.candidate === 'baseline') continue;
    for (const s of r.speed) {
      const key = `${screenLabelOf(r.toolchain)}\0${source(r)}\0${s.shape}`;
      const before = earlier.get(key);
      if (before && before.run !== run) {
        const apart = s.speedup.lo > before.speedup.hi || s.speedup.hi < before.speedup.lo;
        const ratio = s.speedup.estimate / before.speedup.estimate;
        if (apart && Math.abs(Math.log(ratio)) > Math.log(1 + SESSION_DISAGREEMENT))
          session.disagreements.push({ kernel: r.kernel, candidate: r.candidate, shape: s.shape, speedup: s.speedup.estimate, earlierRun: before.run, earlierSpeedup: before.speedup.estimate });
      }
      if (!before) earlier.set(key, { run, speedup: s.speedup });
    }
  }
  return [...sessions.values()];
}

/** Results with native timings that count (no host failure, a passing check, nothing emulated). */
const nativeTimed = (results: TargetResult[]) => results.filter((r) => r.target !== 'wasm' && isTimedPass(r) && !r.speed.some((s) => s.emulated));

export function calibrate(workDir: string, marginFraction = DEFAULT_MARGIN): Calibration {
  return calibrateRuns(allResults(workDir), marginFraction);
}

function calibrateRuns({ every, results, runs }: ReturnType<typeof allResults>, marginFraction: number): Calibration {
  const key = (r: TargetResult) => `${r.kernel}\0${r.candidate}\0${r.sourceSha256}`;
  const wasmResults = results.filter((r) => r.target === 'wasm');
  const screens = [...new Set(wasmResults.map((r) => screenLabelOf(r.toolchain)))].sort();
  const native = nativeTimed(results);
  const hosts = [...new Set(native.map((r) => r.target))].sort();
  const nativeWinners = new Set(native.filter((r) => outcomeOf(r) === 'faster' || outcomeOf(r) === 'mixed').map(key));
  const sessionBaseline = wasmSessionBaselines(every);
  return {
    marginFraction,
    runs,
    sessions: calibrateSessions(every, nativeWinners, marginFraction),
    hosts: hosts.flatMap((host) => screens.map((screen) => {
      const wasm = new Map(wasmResults.filter((r) => screenLabelOf(r.toolchain) === screen).map((r) => [key(r), r]));
      const timed: TimedPoint[] = [];
      const rejectedWinners: HostCalibration['rejectedWinners'] = [];
      let winners = 0;
      let candidates = 0;
      let plainBuilds = 0;
      let neededMargin = 0;
      const mine = native.filter((r) => r.target === host);
      for (const r of mine) {
        const w = wasm.get(key(r));
        if (!w || w.check.status !== 'pass' || !w.speed.length) continue;
        candidates++;
        if (screenedPlain(w.toolchain)) plainBuilds++;
        for (const point of pairWithWasm([timedSource(w)], [timedSource(r)]))
          timed.push({ point, wasm: shapeOf(w, point.shape), native: shapeOf(r, point.shape), sessionBaselineNs: sessionBaseline(w, point.shape) });
        if (outcomeOf(r) !== 'faster' && outcomeOf(r) !== 'mixed') continue;
        winners++;
        const wasmBest = Math.max(...w.speed.map((x) => x.speedup.estimate));
        neededMargin = Math.max(neededMargin, 1 - wasmBest);
        if (wasmRejection(w, marginFraction)) rejectedWinners.push({ kernel: r.kernel, candidate: r.candidate, wasmBestSpeedup: wasmBest });
      }
      const { points, memoryFloor } = withMemoryFloor(timed, nativeReadNs(mine));
      return {
        host,
        arch: mine[0].arch,
        screen,
        candidates,
        plainBuilds,
        points,
        spearmanRho: rho(points),
        winnersRho: rho(points.filter(winning)),
        predicted: { spearmanRho: predictedRho(points), winnersRho: predictedRho(points.filter(winning)) },
        ...(memoryFloor && { memoryFloor }),
        kernels: kernelRhos(points),
        nativeWinners: winners,
        rejectedWinners,
        suggestedMargin: Math.max(DEFAULT_MARGIN, Math.ceil(neededMargin / 0.05 - 1e-9) * 0.05),
      };
    })).filter((h) => h.candidates > 0),
  };
}

/**
 * For a screen under model `screen` (a label as in screenLabelOf): the memory floor of the native host with the most
 * points against that model, with per shape the speedup cap it puts on the host (from the host's baseline and read
 * times). Undefined until some host has enough timed points to fit one (calibrate's `memoryFloor`).
 */
export function screenFloors(workDir: string, screen: string): ScreenFloors | undefined {
  const runs = allResults(workDir);
  const best = calibrateRuns(runs, DEFAULT_MARGIN)
    .hosts.filter((h) => h.screen === screen && h.memoryFloor)
    .sort((a, b) => b.points.length - a.points.length)[0];
  if (!best?.memoryFloor) return undefined;
  const native = nativeTimed(runs.results).filter((r) => r.target === best.host);
  const baselines = medianPerShape(native, (s) => s.baselineMedianNs);
  const { streamFactor, floorRatio } = best.memoryFloor;
  const shapes = [...nativeReadNs(native)].map(([key, readNs]) => {
    const [kernel, shape] = key.split('\0');
    return { kernel, shape, capSpeedup: baselines.get(key)! / (streamFactor * readNs), floorWasmNs: floorRatio * streamFactor * readNs };
  });
  return { host: best.host, memoryFloor: best.memoryFloor, shapes };
}
