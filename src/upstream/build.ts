// A cached cmake build of ggml's CPU backend from an upstream source tree: static libraries, no OpenMP, no
// llamafile sgemm, GGML_NATIVE=OFF with the instruction sets kbench's native builds use (x86: AVX2+FMA+F16C, the
// build node-llama-cpp ships as libggml-cpu-haswell; aarch64: the host's -mcpu=native). Cached per commit, flags,
// compiler and host under <cache>/upstream/builds/<key>/; a finished build is reused without running cmake.
import { outputTail } from '../format.js';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, fetchPrebuilt, prebuiltPackage, type UpstreamSource } from './source.js';

const run = promisify(execFile);

/** Bumped when the cmake options below change meaning. */
const BUILD_RECIPE = 1;

export interface GgmlBuild {
  key: string;
  dir: string;
  includeDirs: string[];
  /** libraries, in link order (static, or the prebuilt shared ones) */
  libs: string[];
  /** extra link flags (an rpath for the prebuilt shared libraries) */
  ldflags?: string[];
  /** what was built, for reports: commit, flags */
  commit: string;
  origin: string;
  flags: string;
  cmakeOptions: string[];
}

export interface BuildOptions {
  jobs?: number;
  log?: (line: string) => void;
  /**
   * 'build' (cmake, the default where cmake exists), or 'prebuilt': node-llama-cpp's own CPU backend for this
   * platform (npm alone). Default: $KBENCH_UPSTREAM, else build when cmake is found, else prebuilt.
   */
  how?: 'build' | 'prebuilt';
}

/** The prebuilt CPU backend of the pinned release (only for the pinned npm source: a checkout is built). */
export async function prebuiltGgml(source: UpstreamSource, log?: (line: string) => void): Promise<GgmlBuild> {
  const p = await fetchPrebuilt({ log });
  return {
    key: `prebuilt-${p.variant}`,
    dir: p.dir,
    includeDirs: [join(source.dir, 'ggml', 'include')],
    libs: [p.cpuLib, p.baseLib],
    ldflags: [`-Wl,-rpath,${p.dir}`],
    commit: source.commit,
    origin: `${source.origin} (prebuilt ${p.origin} libggml-cpu-${p.variant}.so)`,
    flags: p.variant === 'haswell' ? 'prebuilt haswell: AVX2+FMA+F16C' : `prebuilt ${p.variant}`,
    cmakeOptions: [],
  };
}

/** The cmake options of the CPU-backend-only build for this machine's architecture. */
export function cmakeOptions(machine = arch()): string[] {
  const common = [
    '-DCMAKE_BUILD_TYPE=Release',
    '-DBUILD_SHARED_LIBS=OFF',
    '-DGGML_NATIVE=OFF',
    '-DGGML_OPENMP=OFF',
    '-DGGML_BACKEND_DL=OFF',
    '-DGGML_LLAMAFILE=OFF',
    '-DGGML_CCACHE=OFF',
    '-DLLAMA_BUILD_TESTS=OFF',
    '-DLLAMA_BUILD_EXAMPLES=OFF',
    '-DLLAMA_BUILD_SERVER=OFF',
    '-DLLAMA_BUILD_TOOLS=OFF',
    '-DLLAMA_BUILD_COMMON=OFF',
    '-DLLAMA_CURL=OFF',
  ];
  if (machine === 'x64') return [...common, '-DGGML_AVX=ON', '-DGGML_AVX2=ON', '-DGGML_FMA=ON', '-DGGML_F16C=ON', '-DGGML_BMI2=ON'];
  if (machine === 'arm64') return [...common, '-DGGML_CPU_ARM_ARCH=native'];
  return common; // wasm32 and others: ggml's portable and compiler-flag-selected paths
}

/** The instruction-set flags that build means, for reports. */
export function flagsLabel(machine = arch()): string {
  return machine === 'x64' ? '-mavx2 -mfma -mf16c (GGML_NATIVE=OFF)' : machine === 'arm64' ? '-mcpu=native' : 'portable';
}

/** The first line of `cmd --version`, or 'missing'. */
export async function toolVersion(cmd: string): Promise<string> {
  try {
    return (await run(cmd, ['--version'])).stdout.split('\n')[0];
  } catch {
    return 'missing';
  }
}

export function buildsDir(): string {
  return join(cacheDir(), 'upstream', 'builds');
}

/** Builds (or finds cached) libggml-base.a + libggml-cpu.a for `source`. */
export async function buildGgml(source: UpstreamSource, opts: BuildOptions = {}): Promise<GgmlBuild> {
  const log = opts.log ?? (() => {});
  const wanted = opts.how ?? (process.env.KBENCH_UPSTREAM === 'prebuilt' || process.env.KBENCH_UPSTREAM === 'build' ? process.env.KBENCH_UPSTREAM : undefined);
  const pinned = source.origin.startsWith('npm:');
  if (wanted === 'prebuilt') {
    if (!pinned) throw new Error(`a prebuilt ggml exists only for the pinned npm source, not for ${source.origin}`);
    return prebuiltGgml(source, log);
  }
  if (!wanted && pinned && prebuiltPackage() && (await toolVersion('cmake')) === 'missing') {
    log('cmake not found: using the prebuilt ggml CPU backend node-llama-cpp ships');
    return prebuiltGgml(source, log);
  }
  const options = cmakeOptions();
  const cc = process.env.CC || 'cc';
  const cxx = process.env.CXX || 'c++';
  const keyInput = JSON.stringify({ recipe: BUILD_RECIPE, commit: source.commit, origin: source.origin, options, cc: await toolVersion(cc), cxx: await toolVersion(cxx), host: hostname(), arch: arch() });
  const key = createHash('sha256').update(keyInput).digest('hex').slice(0, 16);
  const result = cmakeBuild(source, key, flagsLabel(), options);
  const dir = result.dir;
  const stamp = join(dir, 'kbench-build.json');
  if (existsSync(stamp) && result.libs.every((l) => existsSync(l))) return result;
  if ((await toolVersion('cmake')) === 'missing') throw new Error('cmake is needed to build upstream ggml (apt-get install cmake g++)');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const generator = (await toolVersion('ninja')) === 'missing' ? [] : ['-G', 'Ninja'];
  const env = { ...process.env, CC: cc, CXX: cxx };
  log(`cmake configure ggml ${source.commit.slice(0, 12)} (${flagsLabel()}) in ${dir}`);
  const configure = await run('cmake', ['-S', source.dir, '-B', dir, ...generator, ...options], { env, maxBuffer: 1 << 26 }).catch((e) => {
    throw new Error(`cmake configure failed:\n${failure(e)}`);
  });
  writeFileSync(join(dir, 'configure.log'), configure.stdout + configure.stderr);
  log(`cmake build ggml-base ggml-cpu (-j${opts.jobs ?? 2})`);
  const build = await run('cmake', ['--build', dir, '-j', String(opts.jobs ?? 2), '--target', 'ggml-base', 'ggml-cpu'], { env, maxBuffer: 1 << 26 }).catch((e) => {
    throw new Error(`cmake build failed:\n${failure(e)}`);
  });
  writeFileSync(join(dir, 'build.log'), build.stdout + build.stderr);
  for (const lib of result.libs) if (!existsSync(lib)) throw new Error(`the ggml build left no ${lib}`);
  writeFileSync(stamp, JSON.stringify({ ...result, keyInput: JSON.parse(keyInput), builtAt: new Date().toISOString() }, null, 2) + '\n');
  return result;
}

/** A finished build's record (for reports). */
export function readBuild(dir: string): GgmlBuild | null {
  const stamp = join(dir, 'kbench-build.json');
  return existsSync(stamp) ? (JSON.parse(readFileSync(stamp, 'utf8')) as GgmlBuild) : null;
}

/** Where a cmake build of ggml's CPU backend with these options lives, and what it leaves there. */
function cmakeBuild(source: UpstreamSource, key: string, flags: string, cmakeOptions: string[]): GgmlBuild {
  const dir = join(buildsDir(), key);
  const ggmlRoot = existsSync(join(source.dir, 'ggml', 'include', 'ggml.h')) ? join(source.dir, 'ggml') : source.dir;
  return {
    key,
    dir,
    includeDirs: [join(ggmlRoot, 'include')],
    libs: [join(dir, 'ggml', 'src', 'libggml-cpu.a'), join(dir, 'ggml', 'src', 'libggml-base.a')],
    commit: source.commit,
    origin: source.origin,
    flags,
    cmakeOptions,
  };
}

/**
 * ggml's CPU backend for wasm32 with emscripten (emcmake; SIMD128), for the upstream harness run under Node beside
 * the screen. llama.cpp's default WASM build targets wasm64 (LLAMA_WASM_MEM64=ON), which clang 14 (Debian's
 * emscripten 3.1.6) cannot compile; wasm32 builds. Cached like the native build; slow (minutes) the first time.
 */
export async function buildGgmlWasm(source: UpstreamSource, opts: BuildOptions = {}): Promise<GgmlBuild> {
  const log = opts.log ?? (() => {});
  if ((await toolVersion('emcmake')) === 'missing' && (await toolVersion('emcc')) === 'missing') throw new Error('emscripten (emcc, emcmake) is needed to build upstream ggml for WASM');
  // EMSCRIPTEN_SYSTEM_PROCESSOR: Debian's emscripten 3.1.6 toolchain file reports the processor as x86, so ggml
  // would not see wasm and would fall back to its generic C paths instead of arch/wasm (SIMD128)
  const options = [...cmakeOptions('wasm32'), '-DLLAMA_WASM_MEM64=OFF', '-DLLAMA_BUILD_HTML=OFF', '-DEMSCRIPTEN_SYSTEM_PROCESSOR=wasm32', '-DCMAKE_C_FLAGS=-msimd128', '-DCMAKE_CXX_FLAGS=-msimd128'];
  const keyInput = JSON.stringify({ recipe: BUILD_RECIPE, wasm: true, commit: source.commit, origin: source.origin, options, emcc: await toolVersion('emcc'), host: hostname() });
  const key = `wasm-${createHash('sha256').update(keyInput).digest('hex').slice(0, 12)}`;
  const result = cmakeBuild(source, key, 'wasm32 SIMD128 (emscripten)', options);
  const dir = result.dir;
  const stamp = join(dir, 'kbench-build.json');
  if (existsSync(stamp) && result.libs.every((l) => existsSync(l))) return result;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`emcmake cmake ggml ${source.commit.slice(0, 12)} for wasm32 in ${dir} (minutes)`);
  const configure = await run('emcmake', ['cmake', '-S', source.dir, '-B', dir, ...options], { maxBuffer: 1 << 26 }).catch((e) => {
    throw new Error(`emcmake cmake failed:\n${failure(e)}`);
  });
  writeFileSync(join(dir, 'configure.log'), configure.stdout + configure.stderr);
  const build = await run('cmake', ['--build', dir, '-j', String(opts.jobs ?? 2), '--target', 'ggml-base', 'ggml-cpu'], { maxBuffer: 1 << 26 }).catch((e) => {
    throw new Error(`cmake build (wasm32) failed:\n${failure(e)}`);
  });
  writeFileSync(join(dir, 'build.log'), build.stdout + build.stderr);
  for (const lib of result.libs) if (!existsSync(lib)) throw new Error(`the wasm32 ggml build left no ${lib}`);
  writeFileSync(stamp, JSON.stringify({ ...result, keyInput: JSON.parse(keyInput), builtAt: new Date().toISOString() }, null, 2) + '\n');
  return result;
}

/** A failed tool's last output (execFile's error carries its stdout and stderr), or the error itself. */
function failure(e: { stdout?: string; stderr?: string }): string {
  return outputTail({ stdout: e.stdout, stderr: e.stderr ?? String(e) });
}
