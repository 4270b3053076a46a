// Builds and runs the upstream harness: remote/upstream/kb_up_main.c + remote/common/kb_common.c (shared with the
// native driver) + the generated glue + one translation unit per variant (the kernel's upstream adapter against
// ggml's headers, reference, baseline, candidates), linked with the cached static ggml CPU backend. Runs on this
// machine only (the native driver carries the upstream variant to other hosts).
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { INCLUDE_DIR, type Kernel } from '../spec/suite.js';
import { COMMON_C_DIR } from '../remote/bundle.js';
import { UsageError } from '../errors.js';
import type { GgmlBuild } from './build.js';
import { generateUpstreamGlue, type GlueVariant } from './glue.js';

const run = promisify(execFile);

/** remote/upstream/: the C side of the upstream harness and the adapters' helper header. */
export const UPSTREAM_C_DIR = fileURLToPath(new URL('../../remote/upstream', import.meta.url));

export function harnessCflags(machine = arch()): string[] {
  return machine === 'x64' ? ['-O3', '-mavx2', '-mfma'] : machine === 'arm64' ? ['-O3', '-mcpu=native'] : ['-O3'];
}

/** The kernel's upstream adapter file, or null when it has none. */
export function upstreamAdapterPath(kernel: Kernel): string | null {
  if (!kernel.spec.upstream) return null;
  const path = join(kernel.dir, kernel.spec.upstream.source);
  if (!existsSync(path)) throw new UsageError(`${kernel.dir}: kernel.json names upstream source ${kernel.spec.upstream.source}, which is missing`);
  return path;
}

/** Where the harness runs: natively, or as wasm32 (emscripten, SIMD128) under this Node. */
export type HarnessTarget = 'native' | 'wasm';

export interface HarnessVariants {
  target?: HarnessTarget;
  /** the adapter to build as variant "upstream" (default: the kernel's own); null = none */
  upstream?: string | null;
  reference?: boolean;
  baseline?: boolean;
  candidates?: { name: string; path: string }[];
}

export interface Harness {
  bin: string;
  /** the command that runs bin (node for wasm) */
  runner: string[];
  dir: string;
  variants: GlueVariant[];
}

async function compile(cc: string, args: string[]): Promise<void> {
  await run(cc, args, { maxBuffer: 1 << 24 }).catch((e) => {
    throw new UsageError(`compile failed: ${cc} ${args.join(' ')}\n${String(e.stderr ?? e).slice(-3000)}`);
  });
}

/** Compiles the harness for `kernel` into `dir`. */
export async function buildHarness(kernel: Kernel, build: GgmlBuild, dir: string, sel: HarnessVariants = {}): Promise<Harness> {
  mkdirSync(dir, { recursive: true });
  const wasm = sel.target === 'wasm';
  const cc = wasm ? 'emcc' : process.env.CC || 'cc';
  const cflags = wasm ? ['-O3', '-msimd128'] : harnessCflags();
  const fn = kernel.spec.function;
  const upstream = sel.upstream === undefined ? upstreamAdapterPath(kernel) : sel.upstream;
  const units: { v: GlueVariant; path: string; ggml: boolean }[] = [];
  if (upstream) units.push({ v: { name: 'upstream', id: 'up', graph: kernel.spec.upstream?.call !== 'direct' }, path: upstream, ggml: true });
  if (sel.reference !== false) units.push({ v: { name: 'ref', id: 'ref', graph: false }, path: kernel.referencePath, ggml: false });
  if (sel.baseline !== false) units.push({ v: { name: 'base', id: 'base', graph: false }, path: kernel.baselinePath, ggml: false });
  (sel.candidates ?? []).forEach((c, i) => units.push({ v: { name: `cand:${c.name}`, id: `c${i}`, graph: false }, path: c.path, ggml: false }));
  const variants = units.map((u) => u.v);
  writeFileSync(join(dir, 'kb_up_glue.c'), generateUpstreamGlue(kernel.spec, variants));
  const inc = ['-I', INCLUDE_DIR, '-I', UPSTREAM_C_DIR, '-I', COMMON_C_DIR, ...build.includeDirs.flatMap((d) => ['-I', d])];
  const jobs: [string, string[]][] = [
    [join(dir, 'main.o'), [...cflags, ...inc, '-c', join(UPSTREAM_C_DIR, 'kb_up_main.c')]],
    [join(dir, 'common.o'), [...cflags, ...inc, '-c', join(COMMON_C_DIR, 'kb_common.c')]],
    [join(dir, 'glue.o'), [...cflags, ...inc, '-c', join(dir, 'kb_up_glue.c')]],
    [join(dir, 'kb_upstream.o'), [...cflags, ...inc, '-c', join(UPSTREAM_C_DIR, 'kb_upstream.c')]],
    ...units.map((u): [string, string[]] => [join(dir, `${u.v.id}.o`), [...cflags, '-falign-functions=64', ...inc, `-D${fn}=kb_${u.v.id}_${fn}`, '-c', u.path]]),
  ];
  for (let i = 0; i < jobs.length; i += 2) await Promise.all(jobs.slice(i, i + 2).map(([out, args]) => compile(cc, [...args, '-o', out])));
  if (wasm) {
    // -O1 at link: Debian's emscripten lacks the JS optimizer's acorn; the wasm was optimized at compile time
    const bin = join(dir, 'kb_up.js');
    await compile('em++', ['-O1', '-msimd128', ...jobs.map(([o]) => o), ...build.libs, '-sNODERAWFS=1', '-sALLOW_MEMORY_GROWTH=1', '-sEXIT_RUNTIME=1', '-o', bin]);
    // emscripten 3.1's loader fetch()es the .wasm when fetch exists (Node ≥ 18): turned off so it reads the file
    return { bin, runner: [process.execPath, '--no-experimental-fetch'], dir, variants };
  }
  const bin = join(dir, 'kb_up');
  const cxx = process.env.CXX || 'c++';
  await compile(cxx, [...jobs.map(([o]) => o), ...build.libs, ...(build.ldflags ?? []), '-o', bin, '-lm', '-lpthread']);
  return { bin, runner: [], dir, variants };
}

export interface HarnessEvent {
  event: string;
  [k: string]: unknown;
}

/** Runs the harness; resolves with its JSON lines (rejects on a crash, with the tail of stderr). */
export function runHarness(h: Harness, args: string[], onEvent?: (e: HarnessEvent) => void, timeoutMs = 600_000): Promise<HarnessEvent[]> {
  return new Promise((resolve, reject) => {
    const [cmd, ...pre] = h.runner.length ? [...h.runner, h.bin] : [h.bin];
    const child = spawn(cmd, [...pre, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const events: HarnessEvent[] = [];
    let buf = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const e = JSON.parse(line) as HarnessEvent;
        events.push(e);
        onEvent?.(e);
      }
    });
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const error = events.find((e) => e.event === 'error');
      if (code !== 0 || error) reject(new Error(`upstream harness ${signal ? `killed by ${signal}` : `exited ${code}`}${error ? `: ${error.message}` : ''}\n${err}`));
      else resolve(events);
    });
  });
}
