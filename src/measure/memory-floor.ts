// The memory floor the WASM screen does not see. Natively, the fast candidates of a memory-heavy shape (rms_norm at
// prefill: 2 MiB of buffers, past L2) all end near the same floor, a few times the time to stream the buffers once,
// while in WASM the same code still runs ~2× slower than natively and stays compute-bound: the screen keeps telling
// them apart by compute the native host no longer pays for, and ranks them above decode points that win more
// natively. The model: a call cannot take less than k × the native time to read its buffers once (k: how close the
// host's best streaming kernels come to that, a low quantile over everything timed there), and code that natively
// sits on that floor takes c × its native time in WASM (c: the median WASM/native ratio of the points within reach
// of the floor). So in WASM units the floor of a shape is c·k·read, and the predicted native speedup floors both the
// baseline's and the candidate's WASM time there. Both constants come from the host's past native runs (kbench
// calibrate); where the floor binds neither time, the prediction is the ratio of the screen's median times.
import { median, quantile, sortAscending } from './stats.js';

/** One (candidate, shape) timed both in WASM (under one screen model) and natively on one host. */
export interface FloorObservation {
  wasmCandidateNs: number;
  nativeCandidateNs: number;
  /** the native time to read the shape's buffers once (the driver's speed-of-light probe) */
  nativeReadNs: number;
}

export interface MemoryFloorModel {
  /** WASM time / native time of code that natively runs at the memory floor */
  floorRatio: number;
  /** the least native time per call, in units of the time to read the call's buffers once */
  streamFactor: number;
  /** observations the constants came from */
  observations: number;
}

/** What a host's memory floor means for one shape the screen timed. */
export interface ShapeFloor {
  kernel: string;
  shape: string;
  /** the most the host's native build can gain over the baseline there: its baseline time / (k × its read time) */
  capSpeedup: number;
  /** the floor in the screen's time (c·k·read): a WASM time below it is past what the host can do */
  floorWasmNs: number;
}

/** The memory floor of the host calibrated best against one screen model, per kernel and shape timed there. */
export interface ScreenFloors {
  host: string;
  memoryFloor: MemoryFloorModel;
  shapes: ShapeFloor[];
}

/** Fewer observations than this give no model: one kernel's few points say nothing about the host. */
const MIN_OBSERVATIONS = 8;
/** k is this quantile of native time / read time: a low one, so one odd kernel that beats the probe cannot set it. */
const STREAM_QUANTILE = 0.1;
/** Points within this factor of the floor are "at" it when c is estimated. */
const AT_FLOOR = 1.5;

export function fitMemoryFloor(observations: readonly FloorObservation[]): MemoryFloorModel | undefined {
  const usable = observations.filter((o) => o.nativeReadNs > 0 && o.nativeCandidateNs > 0 && o.wasmCandidateNs > 0);
  if (usable.length < MIN_OBSERVATIONS) return undefined;
  const streamFactor = quantile(sortAscending(usable.map((o) => o.nativeCandidateNs / o.nativeReadNs)), STREAM_QUANTILE);
  const atFloor = usable.filter((o) => o.nativeCandidateNs <= AT_FLOOR * streamFactor * o.nativeReadNs);
  if (atFloor.length < MIN_OBSERVATIONS / 2) return undefined;
  return { floorRatio: median(atFloor.map((o) => o.wasmCandidateNs / o.nativeCandidateNs)), streamFactor, observations: usable.length };
}

/**
 * The native speedup the screen predicts for one shape: the ratio of the baseline's and the candidate's median WASM
 * times, each raised to the host's memory floor (in WASM units) where it lies below it. A ratio of medians, not the
 * median of paired ratios the screen reports: given one baseline time for a screen session's shape (calibrate's
 * sessionBaselines), a faster candidate never predicts slower and candidates on the floor predict the same.
 */
export function predictNativeSpeedup(wasm: { candidateNs: number; baselineNs: number }, nativeReadNs: number, model: MemoryFloorModel): number {
  const floor = model.floorRatio * model.streamFactor * nativeReadNs;
  return Math.max(wasm.baselineNs, floor) / Math.max(wasm.candidateNs, floor);
}
