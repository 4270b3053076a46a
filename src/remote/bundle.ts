// A bundle is everything a host needs for one native run, in one folder: the driver (generic C, the C it shares
// with the upstream harness, generated glue),
// kb_simd.h, the reference/baseline/candidate sources, the build settings, the plan and the input bytes TypeScript
// generated. Executors ship it as is; run.sh builds and runs it on the host.
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bufferLayouts, checkCases, distributionNames, generateInputs, replacementPool, scalarValues, seedFor, shapeCases, type ShapeCase } from '../check/inputs.js';
import { PROTOCOL, protocolHeader } from '../check/rules.js';
import { INCLUDE_DIR, type Kernel } from '../spec/suite.js';
import type { KernelSpec } from '../spec/schema.js';
import { ALLOWED_HEADERS } from '../build/policy.js';
import { UsageError } from '../errors.js';
import { generateGlue, type GlueUpstream } from './glue.js';
import { shellQuote } from './ssh.js';
import type { NativeToolchain } from './hosts.js';

/** remote/driver/: the C side of native runs. */
export const DRIVER_DIR = fileURLToPath(new URL('../../remote/driver', import.meta.url));
/** remote/common/: the C the native driver shares with the upstream harness (parameter table types, files, clock). */
export const COMMON_C_DIR = fileURLToPath(new URL('../../remote/common', import.meta.url));
/** The shared C files, compiled into both the driver and the upstream harness. */
const COMMON_C_FILES = ['kb_common.h', 'kb_common.c'];

export interface Candidate {
  name: string;
  path: string;
}

export interface PlanSettings {
  /**
   * nth for timing threaded kernels (0 = every online CPU of the host). The check's threaded calls use at least
   * 2 real threads whatever this says, so the pthread path is always exercised.
   */
  threads: number;
  /** timed baseline/candidate pairs per bench shape (≥ 9), split over `processes` driver processes */
  pairs: number;
  processes: number;
  /** minimum duration of one timed batch; a sample is the fastest of 5 batches */
  minSampleMs: number;
  warmupMs: number;
  /** input sets rotated between timed calls */
  inputSets: number;
  seed: number;
  /** bench shapes to time (display names); all when empty */
  benchShapes: string[];
  /** check only, no timing */
  skipTiming: boolean;
  /** fresh-input trials per check shape and distribution (the spec's `trials` unless set) */
  trials?: number;
}

/** What TypeScript must remember about each plan line to judge the outputs the host sends back. */
export interface PlanCase {
  id: number;
  kind: 'check' | 'time';
  shape: ShapeCase;
  distribution: string;
  /** partition counts checked sequentially (threaded kernels) */
  parts: number[];
}

/** The upstream variant in a bundle (kbench run --upstream): the adapter, ggml's headers and static libraries. */
export interface BundleUpstream extends GlueUpstream {
  adapterPath: string;
  /** remote/upstream/ (kb_upstream.h, kb_upstream.c) */
  helperDir: string;
  /** on the host: ggml include folders and static libraries, in link order */
  includeDirs: string[];
  libs: string[];
  /** instead: a llama.cpp checkout on the host, built there by run.sh (cached on the host) */
  hostSource?: string;
}

const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

function f32Bits(value: number): string {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value, true);
  return `0x${view.getUint32(0, true).toString(16)}`;
}

/** Plan arguments in parameter order: buffer byte counts and scalar values (the upstream harness reads them too). */
export function planArgs(spec: KernelSpec, shape: ShapeCase): string {
  const layouts = new Map(bufferLayouts(spec, shape.env).map((b) => [b.name, b.bytes]));
  const scalars = new Map(scalarValues(spec, shape.env).map((s) => [s.name, s.value]));
  return spec.params
    .map((p) => {
      if (p.kind === 'buffer') return String(layouts.get(p.name));
      const value = scalars.get(p.name)!;
      return p.type === 'i32' ? String(Math.trunc(value)) : f32Bits(value);
    })
    .join(' ');
}

/** A random stream of its own for the replacements, apart from the inputs' (seedFor). */
const REPLACEMENT_STREAM = 0x7e91;

function writeInputs(dir: string, kernel: Kernel, c: PlanCase, set: number, seed: number): void {
  const setDir = join(dir, 'in', String(c.id), String(set));
  mkdirSync(setDir, { recursive: true });
  const inputs = generateInputs(kernel.spec, c.shape.env, c.distribution, seed);
  for (const [name, bytes] of inputs) writeFileSync(join(setDir, `${name}.bin`), bytes);
  // what the driver writes over input elements between calls: draws that keep the distribution, as in the sandbox
  const pools = replacementPool(kernel.spec, c.shape.env, c.distribution, inputs, seedFor(seed, REPLACEMENT_STREAM), PROTOCOL.replacementsPerInput);
  for (const [name, bytes] of pools) writeFileSync(join(setDir, `${name}.alt`), bytes);
}

function copyDir(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from)) {
    if (statSync(join(from, entry)).isFile()) copyFileSync(join(from, entry), join(to, entry));
  }
}

/** A fresh secret for one run: the driver stamps every result line with it (see remote/driver/kb_driver.c). */
export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Writes the bundle into `dir` (empty or new) and returns the plan lines' meaning. `nonce` goes into the bundle's
 * `nonce` file, which run.sh reads and removes before building any candidate; the driver's result lines carry it.
 */
export function writeBundle(
  dir: string,
  kernel: Kernel,
  candidates: Candidate[],
  toolchain: NativeToolchain,
  settings: PlanSettings,
  candidateTimeoutS: number,
  nonce: string = newNonce(),
  upstream?: BundleUpstream,
): PlanCase[] {
  for (const c of candidates) {
    if (!SAFE_NAME.test(c.name)) throw new UsageError(`candidate name '${c.name}': use letters, digits, . _ - only`);
  }
  if (settings.pairs < 9) throw new UsageError(`pairs: at least 9 timed pairs are needed for a verdict (got ${settings.pairs})`);
  mkdirSync(join(dir, 'candidates'), { recursive: true });
  for (const f of ['kb_driver.c', 'kb_driver.h', 'run.sh', 'kb_policy.awk']) copyFileSync(join(DRIVER_DIR, f), join(dir, f));
  for (const f of COMMON_C_FILES) copyFileSync(join(COMMON_C_DIR, f), join(dir, f));
  copyDir(INCLUDE_DIR, join(dir, 'include'));
  writeFileSync(join(dir, 'kb_glue.c'), generateGlue(kernel.spec, upstream));
  writeFileSync(join(dir, 'kb_protocol.h'), protocolHeader());
  writeFileSync(join(dir, 'nonce'), `${nonce}\n`, { mode: 0o600 });
  if (upstream) {
    mkdirSync(join(dir, 'upstream'), { recursive: true });
    copyFileSync(upstream.adapterPath, join(dir, 'upstream', 'upstream.c'));
    for (const f of ['kb_upstream.h', 'kb_upstream.c']) copyFileSync(join(upstream.helperDir, f), join(dir, 'upstream', f));
  }
  copyFileSync(kernel.referencePath, join(dir, 'reference.c'));
  copyFileSync(kernel.baselinePath, join(dir, 'baseline.c'));
  for (const c of candidates) copyFileSync(c.path, join(dir, 'candidates', `${c.name}.c`));

  const env = {
    CC: toolchain.cc,
    CFLAGS: toolchain.cflags.join(' '),
    FUNCTION: kernel.spec.function,
    CANDIDATES: candidates.map((c) => c.name).join(' '),
    NEED_FEATURES: toolchain.needFeatures.join(' '),
    RUNNER: toolchain.runner,
    OBJCOPY: toolchain.objcopy,
    TIMEOUT_S: String(candidateTimeoutS),
    TIME_PROCESSES: String(settings.processes),
    ALLOWED_HEADERS: ALLOWED_HEADERS.join(' '),
    ...(upstream?.hostSource ? { UP_SRC: upstream.hostSource } : upstream ? { UP_INCLUDE: upstream.includeDirs.map((d) => `-I${d}`).join(' '), UP_LIBS: upstream.libs.join(' ') } : {}),
  };
  writeFileSync(join(dir, 'build.env'), Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}\n`).join(''));

  const spec = kernel.spec;
  const threaded = spec.threads !== undefined;
  const nth = threaded ? settings.threads : 1;
  const checkNth = threaded ? (settings.threads === 1 ? 2 : settings.threads) : 1;
  const parts = threaded ? spec.threads!.counts.slice(0, 16) : [];
  const cases: PlanCase[] = [];
  const lines: string[] = [];
  const timeLines: string[] = [];
  // The WASM check's cases (listed, seeded random, bench shapes × distributions), each with its own partition counts.
  for (const k of checkCases(spec, settings.seed, settings.trials ?? spec.trials)) {
    const caseParts = threaded ? [...new Set([...k.nths, ...parts])].slice(0, 16) : [];
    const c: PlanCase = { id: cases.length, kind: 'check', shape: k.shape, distribution: k.distribution, parts: caseParts };
    writeInputs(dir, kernel, c, 0, k.seed);
    lines.push(`check ${c.id} ${checkNth} ${caseParts.length} ${caseParts.join(' ')} ${planArgs(kernel.spec, k.shape)}`.replace(/ +/g, ' '));
    cases.push(c);
  }
  const benchShapes = shapeCases(spec, 'bench').filter((s) => settings.benchShapes.length === 0 || settings.benchShapes.includes(s.name));
  for (const shape of settings.skipTiming ? [] : benchShapes) {
    const c: PlanCase = { id: cases.length, kind: 'time', shape, distribution: distributionNames(spec)[0], parts: [] };
    for (let set = 0; set < settings.inputSets; set++) writeInputs(dir, kernel, c, set, settings.seed + 7919 * (c.id + 1) + set);
    const pairsPerProcess = Math.ceil(settings.pairs / settings.processes);
    const timing = [nth, settings.inputSets, pairsPerProcess, Math.round(settings.minSampleMs * 1e6), Math.round(settings.warmupMs * 1e6), settings.seed + c.id + 1];
    timeLines.push(`time ${c.id} ${timing.join(' ')} ${planArgs(kernel.spec, shape)}`);
    cases.push(c);
  }
  writeFileSync(join(dir, 'plan.txt'), lines.join('\n') + '\n');
  writeFileSync(join(dir, 'plan-time.txt'), timeLines.length ? timeLines.join('\n') + '\n' : '');
  return cases;
}
