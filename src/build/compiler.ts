// C → WASM for one kernel variant, with the WASM runtime (wasm/kb_wasm.c) and the generated glue, through the chosen
// toolchain; results cached by content hash (sources, runtime, flags) under .kbench/cache/wasm. Failures come back as
// values (a compile-error verdict), not exceptions.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { compiledUrl } from '../compiled.js';
import type { KernelSpec } from '../spec/schema.js';
import { INCLUDE_DIR } from '../spec/suite.js';
import { WASM_MAX_MEMORY_BYTES } from '../spec/load.js';
import { protocolHeader } from '../check/rules.js';
import type { Toolchain } from './toolchain.js';
import { plainBuildNote, type IntrinsicsVariant } from './screen-target.js';
import { prototypeHeader, wasmGlueHeader } from './glue.js';
import { checkPreprocessed, POLICY_ID, refuseSource } from './policy.js';
import { firstErrorLine, trimDiagnostics } from './diagnostics.js';
import { branchlessMinMax } from './branchless-minmax.js';

export type CompileResult =
  | { ok: true; wasm: Uint8Array; cached: boolean; durationMs: number; /** why the intrinsics variant was not used */ note?: string }
  | { ok: false; diagnostic: string; durationMs: number; /** the compiler failed, not the source */ harness?: boolean };

/** `harness`: the compiler itself failed (would not start, stopped, was closed), not the source. */
type RunResult = { ok: boolean; outputs: Record<string, Uint8Array>; stderr: string; harness?: boolean };

export interface CompilerOptions {
  cacheDir: string;
  timeoutMs?: number;
  /** the WASM runtime's C (kb_wasm.c, kb_wasm.h); WASM_RUNTIME_DIR unless a test builds on a copy */
  runtimeDir?: string;
  /** extra flags for every build: the screen model's (-DKB_SCREEN_LANES=8 …) */
  flags?: string[];
  /** a build variant tried first, with another target's intrinsics headers (screen-target.ts); the plain build when it fails */
  intrinsics?: IntrinsicsVariant;
  /** float max/min selects as pmax/pmin, branchless as gcc's maxss (branchless-minmax.ts; clang toolchains) */
  branchlessMinMax?: boolean;
}

const STACK_BYTES = 1 << 20;
const INITIAL_MEMORY_BYTES = 4 << 20;
const REQUIRED_EXPORTS = ['kb_call', 'kb_batch', 'kb_heap_base'];
const INCLUDES = ['-Iinclude', '-include', 'kb_proto.h'];
/** The WASM side's C runtime, built into every module beside the candidate. */
export const WASM_RUNTIME_DIR = fileURLToPath(new URL('../../wasm', import.meta.url));
/** The output name (in `run`) of the command's standard output, as `-o -` names it. */
const STDOUT = '-';

/** Flags shared by the clang-based toolchains (yowasp and system clang). */
function clangFlags(): string[] {
  return ['-O3', '-msimd128', '-nostartfiles', '-Wl,--no-entry', '-Wl,--import-memory', `-Wl,-z,stack-size=${STACK_BYTES}`,
    `-Wl,--initial-memory=${INITIAL_MEMORY_BYTES}`, `-Wl,--max-memory=${WASM_MAX_MEMORY_BYTES}`, '-Wl,--export=__heap_base'];
}

/** How long close() waits for a warming compiler before terminating it regardless. */
const WARM_WAIT_MS = 60_000;

export class WasmCompiler {
  private worker?: Worker;
  private ready?: Promise<Worker>;
  private closed = false;
  private nextId = 0;
  private pending = new Map<number, { worker: Worker; answer: (r: RunResult) => void }>();
  /** per build variant (its extra flags), the preprocessor of the policy pass with the compiler's <...> search list (`-E -v`), set up once */
  private readonly preprocessors = new Map<string, { command?: string; flags: string[]; search: string }>();

  constructor(
    readonly toolchain: Toolchain,
    private readonly options: CompilerOptions,
  ) {}

  /** Starts the long-lived compiler early (yowasp costs seconds to warm), so the first compile does not pay it. */
  async warm(): Promise<void> {
    if (this.toolchain.kind === 'yowasp' && !this.closed) await this.start();
  }

  private start(): Promise<Worker> {
    if (!this.ready) {
      const worker = new Worker(compiledUrl('./yowasp-worker.js', import.meta.url));
      // An idle compiler must not keep the process alive; close() still ends it before the process exits.
      worker.unref();
      this.worker = worker;
      this.ready = new Promise((resolve, reject) => {
        worker.once('error', reject);
        worker.once('exit', (code) => {
          reject(new Error(`the compiler worker exited (code ${code}) before it was ready`));
          // compiles still in flight in this worker get an answer instead of hanging the screen
          for (const [id, p] of this.pending)
            if (p.worker === worker) {
              this.pending.delete(id);
              p.answer({ ok: false, outputs: {}, stderr: `the compiler worker stopped (code ${code}) during this compile`, harness: true });
            }
        });
        worker.on('message', (m: RunResult & { ready?: boolean; id?: number }) => {
          if (m.ready) return resolve(worker);
          this.pending.get(m.id!)?.answer(m);
          this.pending.delete(m.id!);
        });
      });
    }
    return this.ready;
  }

  async compile(spec: KernelSpec, source: string, displayName: string): Promise<CompileResult> {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const refused = refuseSource(source);
    if (refused) return { ok: false, diagnostic: `${displayName}: ${refused}`, durationMs: elapsed() };
    const runtime = this.options.runtimeDir ?? WASM_RUNTIME_DIR;
    const files: Record<string, string> = {
      'kernel.c': source,
      'kb_wasm.c': readFileSync(join(runtime, 'kb_wasm.c'), 'utf8'),
      'kb_wasm.h': readFileSync(join(runtime, 'kb_wasm.h'), 'utf8'),
      'kb_glue.h': wasmGlueHeader(spec),
      'kb_protocol.h': protocolHeader(),
      'kb_proto.h': prototypeHeader(spec),
      'include/kb_simd.h': readFileSync(join(INCLUDE_DIR, 'kb_simd.h'), 'utf8'),
    };
    const intrinsics = this.options.intrinsics;
    const key = createHash('sha256')
      .update(JSON.stringify([this.toolchain.kind, this.toolchain.version, this.buildFlags(), files, POLICY_ID, intrinsics ?? null, !!this.options.branchlessMinMax]))
      .digest('hex');
    const cached = join(this.options.cacheDir, 'wasm', `${key}.wasm`);
    if (existsSync(cached)) {
      const notePath = `${cached}.note`;
      const note = existsSync(notePath) ? readFileSync(notePath, 'utf8') : undefined;
      return { ok: true, wasm: new Uint8Array(readFileSync(cached)), cached: true, durationMs: elapsed(), ...(note ? { note } : {}) };
    }
    let built = await this.build(intrinsics ? { ...files, ...intrinsics.files } : files, intrinsics?.flags ?? [], displayName);
    let note: string | undefined;
    // The intrinsics variant is a better model of the native build, never a reason to fail: a candidate using
    // what the headers lack is screened as its plain build (its include policy checked again on that build).
    if (intrinsics && !built.ok && !built.harness && !built.refused) {
      const plain = await this.build(files, [], displayName);
      if (plain.ok) note = plainBuildNote(intrinsics, firstErrorLine(built.diagnostic));
      built = plain;
    }
    if (!built.ok) return { ok: false, diagnostic: built.diagnostic, durationMs: elapsed(), ...(built.harness ? { harness: true } : {}) };
    mkdirSync(join(this.options.cacheDir, 'wasm'), { recursive: true });
    if (note) writeFileSync(`${cached}.note`, note);
    const tmp = `${cached}.${process.pid}.tmp`;
    writeFileSync(tmp, built.wasm);
    renameSync(tmp, cached);
    return { ok: true, wasm: built.wasm, cached: false, durationMs: elapsed(), ...(note ? { note } : {}) };
  }

  /** One build: the include policy on its preprocessing, the compile, the module's interface. */
  private async build(
    files: Record<string, string>,
    extraFlags: string[],
    displayName: string,
  ): Promise<{ ok: true; wasm: Uint8Array } | { ok: false; diagnostic: string; harness?: boolean; refused?: boolean }> {
    const policy = await this.checkPolicy(files, extraFlags, displayName);
    if (policy !== null) return { ok: false, diagnostic: policy.diagnostic, ...(policy.harness ? { harness: true } : { refused: policy.refused }) };
    let kernel = { files, name: 'kernel.c' };
    if (this.options.branchlessMinMax) {
      // compiled to assembly (through standard output, see checkPolicy), rewritten, then assembled with the runtime
      const asm = await this.run(files, [...compileOnly([...this.buildFlags(), ...extraFlags]), ...INCLUDES, '-S', '-o', STDOUT, 'kernel.c'], [STDOUT]);
      if (asm.harness) return { ok: false, diagnostic: asm.stderr, harness: true };
      if (!asm.ok) return { ok: false, diagnostic: trimDiagnostics(asm.stderr, { 'kernel.c': displayName }) || 'compiler failed without a message' };
      kernel = { files: { ...files, 'kernel.s': branchlessMinMax(Buffer.from(asm.outputs[STDOUT]).toString('utf8')) }, name: 'kernel.s' };
    }
    const link = (k: typeof kernel) => this.run(k.files, [...this.buildFlags(), ...extraFlags, ...INCLUDES, '-o', 'out.wasm', k.name, 'kb_wasm.c'], ['out.wasm']);
    let out = await link(kernel);
    if (!out.harness && !(out.ok && out.outputs['out.wasm']) && kernel.name === 'kernel.s') {
      // The rewritten assembly did not assemble: the candidate's fault when its own one-step build fails too
      // (e.g. inline assembly), kbench's when that one builds.
      const direct = await link({ files, name: 'kernel.c' });
      if (direct.ok && direct.outputs['out.wasm']) return { ok: false, diagnostic: `the branchless max/min build failed: ${firstErrorLine(out.stderr)}`, harness: true };
      out = direct;
    }
    if (out.harness) return { ok: false, diagnostic: out.stderr, harness: true };
    const wasm = out.outputs['out.wasm'];
    if (!out.ok || !wasm) return { ok: false, diagnostic: trimDiagnostics(out.stderr, { 'kernel.c': displayName }) || 'compiler failed without a message' };
    const problem = checkInterface(wasm);
    if (problem) return { ok: false, diagnostic: `${displayName}: ${problem}`, refused: true };
    return { ok: true, wasm };
  }

  /** The toolchain's flags for a build, before the inputs (the screen model's included). */
  private buildFlags(): string[] {
    const tc = this.toolchain;
    const model = this.options.flags ?? [];
    if (tc.kind === 'emcc') {
      return ['-O3', '-msimd128', '--no-entry', '-sSTANDALONE_WASM', '-sIMPORTED_MEMORY', `-sINITIAL_MEMORY=${INITIAL_MEMORY_BYTES}`,
        `-sMAXIMUM_MEMORY=${WASM_MAX_MEMORY_BYTES}`, '-sALLOW_MEMORY_GROWTH', `-sTOTAL_STACK=${STACK_BYTES}`, '-sERROR_ON_UNDEFINED_SYMBOLS',
        '-sEXPORTED_FUNCTIONS=_kb_call,_kb_batch,_kb_heap_base', ...model];
    }
    const target = tc.kind === 'yowasp' ? ['--target=wasm32-wasip1'] : ['--target=wasm32-wasi', ...(tc.sysroot ? [`--sysroot=${tc.sysroot}`] : [])];
    return [...target, ...clangFlags(), ...model];
  }

  /**
   * The include policy on what the real preprocessor did with the candidate (see policy.ts): a compile-error
   * diagnostic when refused, null when the candidate may be built.
   */
  private async checkPolicy(files: Record<string, string>, extraFlags: string[], displayName: string): Promise<{ diagnostic: string; harness?: boolean; refused?: boolean } | null> {
    const pre = this.preprocessors.get(extraFlags.join(' ')) ?? (await this.setUpPreprocessor(files, extraFlags));
    // the preprocessed text through standard output: yowasp writes a large -o file in quadratic time (~1.5 s here)
    const pp = await this.run(files, [...pre.flags, ...INCLUDES, '-E', '-MD', '-MF', 'kernel.d', '-o', STDOUT, 'kernel.c'], ['kernel.d', STDOUT], pre.command);
    if (pp.harness) return { diagnostic: pp.stderr, harness: true };
    if (!pp.ok) return { diagnostic: trimDiagnostics(pp.stderr, { 'kernel.c': displayName }) || 'the preprocessor failed without a message' };
    const reason = await checkPreprocessed(
      { search: pre.search, deps: pp.outputs['kernel.d'], pre: pp.outputs[STDOUT] },
      { candidate: 'kernel.c', own: ['kb_proto.h'], includeDir: 'include' },
    );
    return reason ? { diagnostic: `${displayName}: refused by the include policy: ${reason}`, refused: true } : null;
  }

  /** `files` of the build: the probe sees the same -isystem directories, which must exist to be listed. */
  private async setUpPreprocessor(files: Record<string, string>, extraFlags: string[]): Promise<{ command?: string; flags: string[]; search: string }> {
    // the build's flags but the link-only ones: the preprocessor sees what the real build's does
    const flags = compileOnly([...this.buildFlags(), ...extraFlags]);
    const headers = Object.fromEntries(Object.entries(files).filter(([name]) => name.includes('/')));
    const tc = this.toolchain;
    const pre = (tc.kind === 'emcc' && (await emccClang(tc.command!, flags))) || { command: tc.command, flags };
    const probe = await this.run({ ...headers, 'empty.c': '' }, [...pre.flags, '-E', '-v', '-o', 'empty.i', 'empty.c'], ['empty.i'], pre.command);
    // Without the search list every system header would be refused: a failed probe is tried again next time.
    const ready = { ...pre, search: probe.ok ? probe.stderr : '' };
    if (probe.ok) this.preprocessors.set(extraFlags.join(' '), ready);
    return ready;
  }

  /** `command` replaces the toolchain's driver (host compilers only); `outputs` may name STDOUT. */
  private run(files: Record<string, string>, args: string[], outputs: string[], command = this.toolchain.command): Promise<RunResult> {
    const timeoutMs = this.options.timeoutMs ?? 60_000;
    if (this.toolchain.kind === 'yowasp') return this.runYowasp(files, args, outputs, timeoutMs);
    return this.runHostCompiler(command!, files, args, outputs, timeoutMs);
  }

  private async runYowasp(files: Record<string, string>, args: string[], outputs: string[], timeoutMs: number): Promise<RunResult> {
    let worker: Worker;
    try {
      if (this.closed) throw new Error('closed');
      worker = await this.start();
      if (this.closed) throw new Error('closed');
    } catch (e) {
      return { ok: false, outputs: {}, stderr: `the compiler is not available: ${(e as Error).message}`, harness: true };
    }
    const id = this.nextId++;
    const tree: Record<string, unknown> = {};
    for (const [name, text] of Object.entries(files)) {
      const [dir, base] = name.includes('/') ? name.split('/') : [undefined, name];
      if (dir) tree[dir] = { ...(tree[dir] as object), [base]: text };
      else tree[name] = text;
    }
    return new Promise<RunResult>((resolve) => {
      const timer = setTimeout(() => {
        // A runaway compile (e.g. a template bomb) cannot be interrupted inside the worker: replace the worker.
        this.pending.delete(id);
        void worker.terminate();
        if (this.worker === worker) {
          this.worker = undefined;
          this.ready = undefined;
        }
        resolve({ ok: false, outputs: {}, stderr: `compile timed out after ${timeoutMs} ms` });
      }, timeoutMs);
      this.pending.set(id, {
        worker,
        answer: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
      worker.postMessage({ id, args, files: tree, outputs });
    });
  }

  private runHostCompiler(command: string, files: Record<string, string>, args: string[], outputs: string[], timeoutMs: number): Promise<RunResult> {
    mkdirSync(this.options.cacheDir, { recursive: true });
    const dir = mkdtempSync(join(this.options.cacheDir, 'build-'));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return new Promise<RunResult>((resolve) => {
      const child = execFile(command, args, { cwd: dir, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 8 << 20, encoding: 'buffer' }, (err, stdout, stderr) => {
        const files = outputs.filter((o) => o !== STDOUT && existsSync(join(dir, o)));
        const written: Record<string, Uint8Array> = err ? {} : Object.fromEntries(files.map((o) => [o, new Uint8Array(readFileSync(join(dir, o)))]));
        if (!err && outputs.includes(STDOUT)) written[STDOUT] = new Uint8Array(stdout);
        rmSync(dir, { recursive: true, force: true });
        const timedOut = err && (err as { killed?: boolean }).killed;
        const text = `${stderr.toString()}${outputs.includes(STDOUT) ? '' : stdout.toString()}`;
        resolve({ ok: Object.keys(written).length === outputs.length, outputs: written, stderr: timedOut ? `compile timed out after ${timeoutMs} ms` : text });
      });
      // `#include "/dev/stdin"` must not wait for input
      child.stdin?.end();
    });
  }

  /**
   * Ends the compiler worker and waits until it is gone. A worker still warming is first let finish: terminating
   * it (or exiting the process) while V8 compiles the compiler's WASM in the background crashes the whole process
   * (SIGSEGV in ValidateFunctionsStreamingJob).
   */
  async close(): Promise<void> {
    const { worker, ready } = this;
    this.closed = true;
    this.worker = undefined;
    this.ready = undefined;
    if (!worker) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ready?.catch(() => {}), new Promise((r) => (timer = setTimeout(r, WARM_WAIT_MS)))]);
    clearTimeout(timer);
    await worker.terminate();
  }
}

/** The build's flags without the link-only ones, for a step that only compiles (preprocessing, -S). */
function compileOnly(flags: string[]): string[] {
  return flags.filter((f) => !/^(-Wl,|-s[A-Z]|--no-entry|-nostartfiles)/.test(f));
}

/** emcc's own clang with the flags emcc gives it: the same preprocessing without ~0.5 s of Python per call. */
async function emccClang(emcc: string, flags: string[]): Promise<{ command: string; flags: string[] } | undefined> {
  const run = promisify(execFile);
  try {
    const [root, cflags] = await Promise.all([run(join(dirname(emcc), 'em-config'), ['LLVM_ROOT'], { timeout: 60_000 }), run(emcc, ['--cflags'], { timeout: 60_000 })]);
    return { command: join(root.stdout.trim(), 'clang'), flags: [...cflags.stdout.trim().split(/\s+/), ...flags] };
  } catch {
    return undefined; // emcc itself then
  }
}

// Node 20's V8 validates relaxed-SIMD modules (the avx2 and neon screen models' FMA) only behind this flag; the
// sandbox host, where they run, is started with it too.
setFlagsFromString('--experimental-wasm-relaxed-simd');

/** The sandbox gives a module nothing but its memory: any other import (WASI I/O, …) is refused here. */
function checkInterface(wasm: Uint8Array): string | null {
  let mod: WebAssembly.Module;
  try {
    mod = new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>);
  } catch (e) {
    return `invalid WASM module (${(e as Error).message})`;
  }
  const extra = WebAssembly.Module.imports(mod).filter((i) => !(i.kind === 'memory' && i.name === 'memory'));
  if (extra.length)
    return `imports ${extra.map((i) => `${i.module}.${i.name}`).join(', ')}: candidates may not call host functions (no I/O, no malloc growth hooks)`;
  const exports = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
  const missing = REQUIRED_EXPORTS.filter((e) => !exports.has(e));
  return missing.length ? `module lacks ${missing.join(', ')} (is the kernel function defined?)` : null;
}
