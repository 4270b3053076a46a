// kbench conform: identical inputs (every check shape × distribution) to ggml's own op (the upstream adapter), the
// reference, the baseline and candidates; per variant the NMSE and bit differences against the reference and
// against upstream, and whether the kernel's tolerances pass. Where ggml and the reference disagree is either a
// difference to resolve or a documented decision (NOTES.md of the kernel).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distributionNames, generateInputs, shapeCases, type ShapeCase } from '../check/inputs.js';
import { planArgs } from '../remote/bundle.js';
import { compareOutput } from '../check/compare.js';
import { halfToFloat } from '../check/f16.js';
import type { BufferParam, Dtype } from '../spec/schema.js';
import type { Kernel } from '../spec/suite.js';
import { UsageError } from '../errors.js';
import { buildGgml, buildGgmlWasm, type GgmlBuild } from './build.js';
import { buildHarness, runHarness, upstreamAdapterPath, type HarnessTarget, type HarnessEvent } from './harness.js';
import { resolveUpstream, type UpstreamSource } from './source.js';

export interface Diff {
  /** NMSE over every finite element pair (sum (a-b)^2 / sum b^2) */
  nmse: number;
  /** elements whose bits differ */
  bitDiffs: number;
  elements: number;
  /** elements where exactly one side is NaN, or infinities differ */
  nanMismatches: number;
}

export interface ConformCase {
  id: number;
  shape: string;
  distribution: string;
  variant: string;
  /** against the reference: null when within the kernel's tolerances, else the reason */
  failure: string | null;
  vsReference: Diff;
  vsUpstream: Diff | null;
  inputsChanged: string[];
  scratchWritten: string[];
}

export interface ConformVariantSummary {
  variant: string;
  cases: number;
  /** cases outside the kernel's tolerances against the reference */
  failures: number;
  maxNmseVsReference: number;
  nanMismatchCasesVsReference: number;
  /** cases bit-identical to upstream (null for upstream itself or without one) */
  bitIdenticalToUpstream: number | null;
  maxNmseVsUpstream: number | null;
  /** share of elements whose bits differ from upstream, over all cases */
  bitDiffShareVsUpstream: number | null;
  /** cases in which a scratch buffer was written (the fused upstream rms_norm_mul must leave it poisoned) */
  scratchWrittenCases: number;
  inputsChangedCases: number;
  /** up to 5 failing cases: shape, distribution, reason */
  examples: { shape: string; distribution: string; reason: string }[];
}

export interface ConformReport {
  kernel: string;
  upstream: { origin: string; tag: string; commit: string; flags: string; how: string; call: string } | null;
  variants: ConformVariantSummary[];
  cases: ConformCase[];
}

export interface ConformOptions {
  /** true/undefined: the pinned package; a path: a checkout */
  upstream?: string | boolean;
  /** an adapter file instead of the kernel's (a deliberately wrong one in tests) */
  adapterPath?: string;
  candidates?: boolean;
  seed?: number;
  log?: (line: string) => void;
  /** a prepared source/build (tests share one) */
  build?: GgmlBuild;
  source?: UpstreamSource;
  /** native (default) or wasm: ggml, reference, baseline and candidates as wasm32 SIMD128 under Node */
  target?: HarnessTarget;
}

function size(dtype: Dtype): number {
  return dtype === 'f32' || dtype === 'i32' ? 4 : dtype === 'f16' ? 2 : 1;
}

function read(dtype: Dtype, view: DataView, o: number): number {
  switch (dtype) {
    case 'f32':
      return view.getFloat32(o, true);
    case 'f16':
      return halfToFloat(view.getUint16(o, true));
    case 'i32':
      return view.getInt32(o, true);
    case 'i8':
      return view.getInt8(o);
    case 'u8':
      return view.getUint8(o);
  }
}

/** Element (offset, dtype) pairs of a buffer: plain, or every field of every block. */
function elements(buffer: BufferParam, bytes: number): [number, Dtype][] {
  if (!buffer.blocks) {
    const s = size(buffer.dtype);
    return Array.from({ length: bytes / s }, (_, k): [number, Dtype] => [k * s, buffer.dtype]);
  }
  const out: [number, Dtype][] = [];
  for (let b = 0; b + buffer.blocks.bytes <= bytes; b += buffer.blocks.bytes) {
    let o = b;
    for (const f of buffer.blocks.fields) {
      for (let k = 0; k < f.count; k++, o += size(f.dtype)) out.push([o, f.dtype]);
    }
  }
  return out;
}

export function diffBuffers(buffer: BufferParam, a: Uint8Array, b: Uint8Array): Diff {
  const va = new DataView(a.buffer, a.byteOffset, a.byteLength);
  const vb = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let errSq = 0;
  let refSq = 0;
  let bitDiffs = 0;
  let nanMismatches = 0;
  const els = elements(buffer, Math.min(a.length, b.length));
  for (const [o, dtype] of els) {
    const s = size(dtype);
    let same = true;
    for (let k = 0; k < s; k++) if (a[o + k] !== b[o + k]) same = false;
    if (!same) bitDiffs++;
    const x = read(dtype, va, o);
    const y = read(dtype, vb, o);
    if (Number.isNaN(x) || Number.isNaN(y) || !Number.isFinite(x) || !Number.isFinite(y)) {
      if (!(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)))) nanMismatches++;
      continue;
    }
    errSq += (x - y) ** 2;
    refSq += y * y;
  }
  return { nmse: refSq > 0 ? errSq / refSq : errSq, bitDiffs, elements: els.length, nanMismatches };
}

function mergeDiff(ds: Diff[]): Diff {
  return {
    nmse: Math.max(0, ...ds.map((d) => d.nmse)),
    bitDiffs: ds.reduce((s, d) => s + d.bitDiffs, 0),
    elements: ds.reduce((s, d) => s + d.elements, 0),
    nanMismatches: ds.reduce((s, d) => s + d.nanMismatches, 0),
  };
}

/** Runs the conformance comparison for one kernel (built and run on this machine). */
export async function conform(kernel: Kernel, opts: ConformOptions = {}): Promise<ConformReport> {
  const log = opts.log ?? (() => {});
  const spec = kernel.spec;
  const adapter = opts.adapterPath ?? upstreamAdapterPath(kernel);
  if (!adapter) throw new UsageError(`${kernel.name} has no upstream adapter (kernel.json "upstream"): nothing to conform to`);
  const source = opts.source ?? (await resolveUpstream(opts.upstream, { log }));
  const build = opts.build ?? (opts.target === 'wasm' ? await buildGgmlWasm(source, { log }) : await buildGgml(source, { log }));
  const work = mkdtempSync(join(tmpdir(), `kbench-conform-${kernel.name}-`));
  try {
    log(`build the upstream harness for ${kernel.name}`);
    const harness = await buildHarness(kernel, build, join(work, 'build'), { upstream: adapter, candidates: opts.candidates === false ? [] : kernel.candidates, target: opts.target });
    const cases: { id: number; shape: ShapeCase; distribution: string }[] = [];
    const plan: string[] = [];
    const seed = opts.seed ?? 1;
    for (const shape of shapeCases(spec, 'check')) {
      for (const distribution of distributionNames(spec)) {
        const id = cases.length;
        const dir = join(work, 'in', String(id));
        mkdirSync(dir, { recursive: true });
        for (const [name, bytes] of generateInputs(spec, shape.env, distribution, seed + id)) writeFileSync(join(dir, `${name}.bin`), bytes);
        plan.push(`case ${id} ${planArgs(spec, shape)}`);
        cases.push({ id, shape, distribution });
      }
    }
    writeFileSync(join(work, 'plan.txt'), plan.join('\n') + '\n');
    log(`run ${cases.length} cases × ${harness.variants.length} variants`);
    const events = await runHarness(harness, ['conform', join(work, 'plan.txt'), join(work, 'in'), join(work, 'out')]);
    const ran = new Map<string, HarnessEvent>();
    for (const e of events) if (e.event === 'ran') ran.set(`${e.id}/${e.variant}`, e);
    const outs = spec.params.filter((p): p is BufferParam => p.kind === 'buffer' && p.role === 'out');
    const load = (id: number, variant: string, name: string) => new Uint8Array(readFileSync(join(work, 'out', String(id), variant, `${name}.bin`)));
    const results: ConformCase[] = [];
    for (const c of cases) {
      for (const v of harness.variants) {
        const e = ran.get(`${c.id}/${v.name}`);
        if (!e) throw new Error(`the harness did not run ${v.name} on case ${c.id}`);
        let failure: string | null = null;
        const vsRef: Diff[] = [];
        const vsUp: Diff[] = [];
        for (const b of outs) {
          const got = load(c.id, v.name, b.name);
          const ref = load(c.id, 'ref', b.name);
          const m = compareOutput(spec, b, c.shape.env, got, ref);
          if (m && !failure) failure = `${b.name}: ${m.reason}${m.index >= 0 ? ` at ${m.index} (got ${m.got}, reference ${m.expected})` : ''}`;
          vsRef.push(diffBuffers(b, got, ref));
          if (adapter && v.name !== 'upstream') vsUp.push(diffBuffers(b, got, load(c.id, 'upstream', b.name)));
        }
        const inputsChanged = e.inputsChanged as string[];
        if (inputsChanged.length && !failure) failure = `changed its input ${inputsChanged.join(', ')}`;
        results.push({
          id: c.id,
          shape: c.shape.name,
          distribution: c.distribution,
          variant: v.name,
          failure,
          vsReference: mergeDiff(vsRef),
          vsUpstream: vsUp.length ? mergeDiff(vsUp) : null,
          inputsChanged,
          scratchWritten: e.scratchWritten as string[],
        });
      }
    }
    const variants = harness.variants.map((v): ConformVariantSummary => {
      const rs = results.filter((r) => r.variant === v.name);
      const up = rs.filter((r) => r.vsUpstream);
      const failing = rs.filter((r) => r.failure);
      return {
        variant: v.name,
        cases: rs.length,
        failures: failing.length,
        maxNmseVsReference: Math.max(0, ...rs.map((r) => r.vsReference.nmse)),
        nanMismatchCasesVsReference: rs.filter((r) => r.vsReference.nanMismatches > 0).length,
        bitIdenticalToUpstream: up.length ? up.filter((r) => r.vsUpstream!.bitDiffs === 0 && r.vsUpstream!.nanMismatches === 0).length : null,
        maxNmseVsUpstream: up.length ? Math.max(0, ...up.map((r) => r.vsUpstream!.nmse)) : null,
        bitDiffShareVsUpstream: up.length ? up.reduce((s, r) => s + r.vsUpstream!.bitDiffs, 0) / Math.max(1, up.reduce((s, r) => s + r.vsUpstream!.elements, 0)) : null,
        scratchWrittenCases: rs.filter((r) => r.scratchWritten.length > 0).length,
        inputsChangedCases: rs.filter((r) => r.inputsChanged.length > 0).length,
        examples: failing.slice(0, 5).map((r) => ({ shape: r.shape, distribution: r.distribution, reason: r.failure! })),
      };
    });
    return {
      kernel: kernel.name,
      upstream: { origin: build.origin, tag: source.tag, commit: source.commit, flags: build.flags, how: spec.upstream?.how ?? '', call: spec.upstream?.call ?? 'graph' },
      variants,
      cases: results,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
