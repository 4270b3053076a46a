// Does the cheap WASM screen rank candidates like a native host? One pairing rule and one rank correlation, used by
// the report (one run) and calibrate (every run so far).
import { spearman } from './stats.js';

export interface AgreementPoint {
  kernel: string;
  candidate: string;
  shape: string;
  wasmSpeedup: number;
  nativeSpeedup: number;
}

/** A result reduced to what pairing needs: which source it timed, and its speedup estimate per shape. */
export interface TimedSource {
  kernel: string;
  candidate: string;
  sourceSha256: string;
  shapes: { shape: string; speedup: number; emulated?: boolean }[];
}

const sourceKey = (r: TimedSource) => `${r.kernel}\0${r.candidate}\0${r.sourceSha256}`;

/** Pairs each native (non-emulated) speedup with the WASM speedup of the same source and shape. */
export function pairWithWasm(wasm: readonly TimedSource[], native: readonly TimedSource[]): AgreementPoint[] {
  const byShape = new Map<string, number>();
  for (const w of wasm) for (const s of w.shapes) byShape.set(`${sourceKey(w)}\0${s.shape}`, s.speedup);
  const points: AgreementPoint[] = [];
  for (const r of native)
    for (const s of r.shapes) {
      const w = byShape.get(`${sourceKey(r)}\0${s.shape}`);
      if (w !== undefined && !s.emulated) points.push({ kernel: r.kernel, candidate: r.candidate, shape: s.shape, wasmSpeedup: w, nativeSpeedup: s.speedup });
    }
  return points;
}

/** Spearman ρ of WASM against native speedups; null with fewer than 3 points or when ρ is undefined (a constant side). */
export function agreementRho(points: readonly AgreementPoint[]): number | null {
  if (points.length < 3) return null;
  const rho = spearman(points.map((p) => p.wasmSpeedup), points.map((p) => p.nativeSpeedup));
  return Number.isNaN(rho) ? null : rho;
}
