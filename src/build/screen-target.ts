// What the WASM screen models: the native target whose speedups it predicts. kb_simd.h's WASM path is built with the
// target's lane count (KB_SCREEN_LANES) and, where the compiler and engine can, its FMA (KB_SCREEN_FMA, relaxed
// SIMD's f32x4.relaxed_madd), so a candidate's loop trip counts, tails and multiply-add chains are the native ones.
// For avx2 a candidate's own AVX2 code is screened too: its __AVX2__ branch is built against kbench's WASM
// implementation of the x86 intrinsics headers (wasm/x86/), with the macros -mavx2 -mfma -mf16c define natively.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import type { Toolchain } from './toolchain.js';

export const SCREEN_TARGETS = ['avx2', 'neon', 'wasm'] as const;
export type ScreenTarget = (typeof SCREEN_TARGETS)[number];

export interface ScreenModel {
  target: ScreenTarget;
  lanes: 4 | 8;
  /** kb_fma is one relaxed_madd (fused on engines and CPUs with FMA) rather than mul + add */
  fma: boolean;
  /** compiler flags that select it */
  flags: string[];
  /** float max/min selects as pmax/pmin, branchless as gcc's maxss (branchless-minmax.ts); avx2 only, not for emcc */
  branchlessMinMax: boolean;
  /** the build tried first, with the target's intrinsics (the plain build when a candidate uses what it lacks) */
  intrinsics?: IntrinsicsVariant;
  /** recorded in every result's toolchain string, e.g. "screen avx2 (8 lanes, FMA, AVX2 intrinsics)"; calibrate groups by it */
  label: string;
}

/** Another target's intrinsics headers, implemented on WASM SIMD, as a build variant. */
export interface IntrinsicsVariant {
  /** named in a fallback note, e.g. "AVX2 intrinsics" */
  name: string;
  flags: string[];
  /** build-tree path → text; part of the build's cache key */
  files: Record<string, string>;
}

/** kbench's x86 intrinsics on WASM SIMD: <immintrin.h> and <x86intrin.h> resolve here under the avx2 model. */
export const X86_HEADERS_DIR = fileURLToPath(new URL('../../wasm/x86', import.meta.url));
const X86_HEADERS = ['immintrin.h', 'x86intrin.h'];
/** what the default native x86 build (gcc -O3 -mavx2 -mfma, see remote/hosts.ts) defines, so candidates take the
 * branch that build takes: no __F16C__ (only -march=native hosts have it; the F16C intrinsics need it here too) */
const X86_MACROS = ['__SSE__', '__SSE2__', '__SSE3__', '__SSSE3__', '__SSE4_1__', '__SSE4_2__', '__POPCNT__', '__AVX__', '__AVX2__', '__FMA__'];

function x86Intrinsics(): IntrinsicsVariant {
  return {
    name: 'AVX2 intrinsics',
    flags: ['-isystem', 'x86', ...X86_MACROS.map((m) => `-D${m}=1`)],
    files: Object.fromEntries(X86_HEADERS.map((h) => [`x86/${h}`, readFileSync(join(X86_HEADERS_DIR, h), 'utf8')])),
  };
}

const WANTS: Record<ScreenTarget, { lanes: 4 | 8; fma: boolean }> = {
  avx2: { lanes: 8, fma: true },
  neon: { lanes: 4, fma: true },
  wasm: { lanes: 4, fma: false },
};

export function lanesOf(target: ScreenTarget): 4 | 8 {
  return WANTS[target].lanes;
}

/** The target a screen predicts unless told: the native build of the host it runs on. */
export function defaultScreenTarget(arch: string = process.arch): ScreenTarget {
  return arch === 'arm64' ? 'neon' : 'avx2';
}

export function parseScreenTarget(value: string | undefined): ScreenTarget {
  if (value === undefined) return defaultScreenTarget();
  if (!(SCREEN_TARGETS as readonly string[]).includes(value)) throw new UsageError(`--target: unknown screen target '${value}' (choose ${SCREEN_TARGETS.join(', ')})`);
  return value as ScreenTarget;
}

/**
 * wasm_f32x4_relaxed_madd with the final relaxed-SIMD opcodes (the ones Node 20's V8 runs) needs clang 16 or later;
 * clang 14 (Debian's, also under its emcc 3.1.6) only has a prototype builtin with other opcodes. emcc's version says
 * nothing about its clang, so it is assumed too old.
 */
export function hasRelaxedMadd(toolchain: Toolchain): boolean {
  if (toolchain.kind === 'yowasp') return true;
  if (toolchain.kind === 'clang') return Number(toolchain.version.split('.')[0]) >= 16;
  return false;
}

/** Whether `toolchain` builds the whole model of `target`: one with FMA prefers a compiler with relaxed madd. */
export function canModel(target: ScreenTarget, toolchain: Toolchain): boolean {
  return !WANTS[target].fma || hasRelaxedMadd(toolchain);
}

/**
 * `intrinsics: false` screens avx2 as the plain build (no __AVX2__): what the screen did before the x86 headers;
 * `branchlessMinMax: false` leaves float max/min to V8's branches: what it did before branchless-minmax.ts.
 */
export function screenModel(target: ScreenTarget, toolchain: Toolchain, options: { intrinsics?: boolean; branchlessMinMax?: boolean } = {}): ScreenModel {
  const { lanes } = WANTS[target];
  const fma = WANTS[target].fma && hasRelaxedMadd(toolchain);
  const noFma = WANTS[target].fma ? `no FMA: ${toolchain.kind} ${toolchain.version} lacks relaxed madd` : 'no FMA';
  const intrinsics = target === 'avx2' && options.intrinsics !== false ? x86Intrinsics() : undefined;
  // gcc's x86 code takes a float max/min without a branch (maxss), V8 with one; gcc for AArch64 branches too (a
  // running max is fcmpe + bmi), so neon keeps V8's. emcc's build is one step, with no assembly to rewrite.
  const branchlessMinMax = target === 'avx2' && toolchain.kind !== 'emcc' && options.branchlessMinMax !== false;
  return {
    target,
    lanes,
    fma,
    branchlessMinMax,
    flags: [`-DKB_SCREEN_LANES=${lanes}`, `-DKB_SCREEN_FMA=${fma ? 1 : 0}`, ...(fma ? ['-mrelaxed-simd'] : [])],
    ...(intrinsics ? { intrinsics } : {}),
    label: `screen ${target} (${lanes} lanes, ${fma ? 'FMA' : noFma}${intrinsics ? ', AVX2 intrinsics' : ''}${branchlessMinMax ? ', branchless max/min' : ''})`,
  };
}

/** The screen model a recorded WASM result was built under; results from before models were recorded are 4-lane. */
export function screenLabelOf(toolchain: string): string {
  return /screen \w+ \([^)]*\)/.exec(toolchain)?.[0] ?? 'screen wasm (4 lanes, no FMA)';
}

/** The note a result carries when its candidate used what the target's intrinsics headers lack (see compiler.ts). */
export function plainBuildNote(intrinsics: IntrinsicsVariant, firstError: string): string {
  return `${PLAIN_BUILD} ${intrinsics.name}: ${firstError}`;
}
const PLAIN_BUILD = 'plain build without';

/** Whether a recorded WASM result was screened as its plain build instead of its model's intrinsics build. */
export function screenedPlain(toolchain: string): boolean {
  return toolchain.includes(`; ${PLAIN_BUILD} `);
}
