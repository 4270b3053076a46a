// The two llama.cpp builds the end-to-end measure compares. The reference: a cmake build of the unmodified upstream
// with the CPU options of src/upstream/build.ts plus llama-bench (tools and common on) and kbench's own logits tool
// (remote/e2e/kb_logits.cpp), cached per host, commit, flags and compiler. A graft: the reference with one
// translation unit recompiled (the recipe's file, patched by src/e2e/graft.ts, with the reference's own compile
// command) and the candidate compiled as C like native kernel builds; both replace the file's object in a copy of
// its static library, and llama-bench and the logits tool are linked again with the reference's link command.
// Nothing else rebuilds; a graft takes seconds. Cached per reference, recipe and candidate sha256.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { arch, hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { prototypeHeader } from '../build/glue.js';
import { POLICY_ID } from '../build/policy.js';
import { UsageError } from '../errors.js';
import { cmakeOptions, flagsLabel, toolVersion } from '../upstream/build.js';
import { cacheDir, type UpstreamSource } from '../upstream/source.js';
import { compileCandidate, type CandidateToolchain } from './candidate.js';
import { graftedSource, graftRecipe, type GraftRecipe } from './graft.js';
import type { Kernel } from '../spec/suite.js';
import type { FlashAttn } from './llama-bench.js';

const run = promisify(execFile);

/** Bumped when the options below or the recipe's record change meaning. */
const E2E_RECIPE = 1;
export const LOGITS_SOURCE = fileURLToPath(new URL('../../remote/e2e/kb_logits.cpp', import.meta.url));

/** A build the end-to-end steps can run: the two binaries and what they were built from. */
export interface LlamaBuild {
  key: string;
  dir: string;
  commit: string;
  origin: string;
  flags: string;
  llamaBench: string;
  logitsTool: string;
  /** how both builds must run for the graft to be reached (the recipe's; empty env and 'auto' for the reference) */
  env: Record<string, string>;
  /** llama-bench -fa and kb_logits --fa */
  flashAttention: FlashAttn;
}

/** One compiler or linker invocation, as cmake wrote it: argv and the folder it runs in. */
interface Command {
  cwd: string;
  argv: string[];
}

/** What a graft needs from the reference build, recorded once after it is built. */
interface ReferenceRecord {
  /** compile_commands.json entries by absolute source path */
  compiles: Record<string, Command>;
  benchLink: Command;
  /** the static libraries on that link line, absolute */
  libs: string[];
}

export interface ReferenceBuild extends LlamaBuild {
  cmakeOptions: string[];
  generator: string;
  record: ReferenceRecord;
}

export interface E2eBuildOptions {
  jobs?: number;
  log?: (line: string) => void;
}

/** The reference build's cmake options: the CPU-only ones, with llama-bench (tools, common) and compile commands. */
export function e2eCmakeOptions(machine = arch()): string[] {
  const on = new Set(['-DLLAMA_BUILD_TOOLS', '-DLLAMA_BUILD_COMMON']);
  const base = cmakeOptions(machine).map((o) => (on.has(o.split('=')[0]) ? `${o.split('=')[0]}=ON` : o));
  // the unified app, https and multimodal tools are not needed for llama-bench and would only lengthen the build
  return [...base, '-DLLAMA_BUILD_APP=OFF', '-DLLAMA_OPENSSL=OFF', '-DLLAMA_BUILD_MTMD=OFF', '-DCMAKE_EXPORT_COMPILE_COMMANDS=ON'];
}

export function e2eDir(): string {
  return join(cacheDir(), 'upstream', 'e2e');
}

/** Splits a command line the way sh would for the plain words cmake writes (quotes and backslashes honoured). */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === '"' || c === "'") {
      const end = line.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unbalanced ${c} in: ${line}`);
      let quoted = line.slice(i + 1, end);
      if (c === '"') quoted = quoted.replace(/\\(["\\$`])/g, '$1');
      word = (word ?? '') + quoted;
      i = end;
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** A compile command with its source and object swapped, dependency-file flags dropped (they would write into the reference). */
function retarget(cmd: Command, source: string, object: string, extra: string[] = []): Command {
  const argv: string[] = [];
  for (let i = 0; i < cmd.argv.length; i++) {
    const a = cmd.argv[i];
    if (a === '-MD' || a === '-MMD') continue;
    if (a === '-MT' || a === '-MF' || a === '-MQ') { i++; continue; }
    if (a === '-o') { argv.push('-o', object); i++; continue; }
    if (a === '-c') { argv.push(...extra, '-c', source); i++; continue; }
    argv.push(a);
  }
  return { cwd: cmd.cwd, argv };
}

/** The link command with its output and some inputs replaced (paths compared after resolving in its folder). */
function relink(cmd: Command, output: string, swap: Map<string, string>): Command {
  const argv = cmd.argv.map((a, i) => (cmd.argv[i - 1] === '-o' ? output : swap.get(resolve(cmd.cwd, a)) ?? a));
  return { cwd: cmd.cwd, argv };
}

async function exec(cmd: Command, what: string): Promise<void> {
  await run(cmd.argv[0], cmd.argv.slice(1), { cwd: cmd.cwd, maxBuffer: 1 << 26 }).catch((e) => {
    throw new Error(`${what} failed:\n${String(e.stderr || e.stdout || e).slice(-4000)}`);
  });
}

const GENERATORS = ['Ninja', 'Unix Makefiles'];

/** $CMAKE_GENERATOR as cmake itself honours it, else Ninja where installed, else Make (Debian's cmake alone). */
async function cmakeGenerator(): Promise<string> {
  const wanted = process.env.CMAKE_GENERATOR;
  if (wanted && !GENERATORS.includes(wanted)) throw new UsageError(`CMAKE_GENERATOR=${wanted}: the end-to-end build reads the link commands of ${GENERATORS.join(' or ')} only; unset it or pick one of them`);
  return wanted || ((await toolVersion('ninja')) === 'missing' ? 'Unix Makefiles' : 'Ninja');
}

/** llama-bench's link command, from whichever generator cmake used (Ninja's command list, or Make's link.txt). */
export async function benchLinkCommand(dir: string, generator: string): Promise<Command> {
  if (generator === 'Ninja') {
    const { stdout } = await run('ninja', ['-C', dir, '-t', 'commands', 'llama-bench'], { maxBuffer: 1 << 26 });
    const last = stdout.trim().split('\n').pop() ?? '';
    const line = last.replace(/^: && /, '').replace(/ && :$/, '');
    return { cwd: dir, argv: splitCommand(line) };
  }
  const folder = join(dir, 'tools', 'llama-bench');
  const line = readFileSync(join(folder, 'CMakeFiles', 'llama-bench.dir', 'link.txt'), 'utf8').trim().split('\n')[0];
  return { cwd: folder, argv: splitCommand(line) };
}

function readCompiles(dir: string): Record<string, Command> {
  const entries = JSON.parse(readFileSync(join(dir, 'compile_commands.json'), 'utf8')) as { directory: string; command?: string; arguments?: string[]; file: string }[];
  return Object.fromEntries(entries.map((e) => [resolve(e.directory, e.file), { cwd: e.directory, argv: e.arguments ?? splitCommand(e.command ?? '') }]));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `work` holding `<dir>.lock` (mkdir is atomic), so two processes (two kbench runs, two test files) never build
 * into one folder at once: the second waits, then finds the first one's build. A lock whose process is gone is taken over.
 */
async function withLock<T>(dir: string, log: (line: string) => void, work: () => Promise<T>): Promise<T> {
  const lock = `${dir}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  for (let waits = 0; ; waits++) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number(existsSync(join(lock, 'pid')) ? readFileSync(join(lock, 'pid'), 'utf8') : 0);
    // no pid yet: the holder is between its mkdir and its write, unless that was long ago
    if ((holder && !alive(holder)) || (!holder && waits > 30)) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (waits === 0) log(`waiting for another kbench process building in ${dir}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function hash(value: unknown): string {
  return createHash('sha256').update(typeof value === 'string' ? value : JSON.stringify(value)).digest('hex');
}

/**
 * Builds (or finds cached) the unmodified reference: llama-bench and the logits tool. The first build takes minutes;
 * concurrent callers in one process share it.
 */
export function buildReference(source: UpstreamSource, opts: E2eBuildOptions = {}): Promise<ReferenceBuild> {
  const memoKey = `${source.dir}\0${source.commit}`;
  let pending = building.get(memoKey);
  if (!pending) {
    pending = buildReferenceOnce(source, opts);
    building.set(memoKey, pending);
    pending.catch(() => building.delete(memoKey));
  }
  return pending;
}
const building = new Map<string, Promise<ReferenceBuild>>();

async function buildReferenceOnce(source: UpstreamSource, opts: E2eBuildOptions): Promise<ReferenceBuild> {
  const log = opts.log ?? (() => {});
  const options = e2eCmakeOptions();
  const cc = process.env.CC || 'cc';
  const cxx = process.env.CXX || 'c++';
  // not part of the key: a finished build is never run through its build system again (grafts relink by hand)
  const generator = await cmakeGenerator();
  const keyInput = { recipe: E2E_RECIPE, commit: source.commit, origin: source.origin, options, cc: await toolVersion(cc), cxx: await toolVersion(cxx), host: hostname(), arch: arch() };
  const key = hash(keyInput).slice(0, 16);
  const dir = join(e2eDir(), key);
  const stamp = join(dir, 'kbench-e2e.json');
  return withLock(dir, log, async () => {
    let build: ReferenceBuild;
    if (existsSync(stamp)) {
      build = JSON.parse(readFileSync(stamp, 'utf8')) as ReferenceBuild;
    } else {
      if ((await toolVersion('cmake')) === 'missing') throw new Error('cmake is needed to build llama.cpp for the end-to-end measure (apt-get install cmake g++)');
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const env = { ...process.env, CC: cc, CXX: cxx };
      log(`cmake configure llama.cpp ${source.commit.slice(0, 12)} (${flagsLabel()}, ${generator}) in ${dir}`);
      const configure = await run('cmake', ['-S', source.dir, '-B', dir, '-G', generator, ...options], { env, maxBuffer: 1 << 26 }).catch((e) => {
        throw new Error(`cmake configure failed:\n${String(e.stderr ?? e).slice(-4000)}`);
      });
      writeFileSync(join(dir, 'configure.log'), configure.stdout + configure.stderr);
      log(`cmake build llama-bench (-j${opts.jobs ?? 2}; minutes the first time)`);
      const made = await run('cmake', ['--build', dir, '-j', String(opts.jobs ?? 2), '--target', 'llama-bench'], { env, maxBuffer: 1 << 26 }).catch((e) => {
        throw new Error(`cmake build of llama-bench failed:\n${String(e.stdout ?? '').slice(-4000)}${String(e.stderr ?? e).slice(-4000)}`);
      });
      writeFileSync(join(dir, 'build.log'), made.stdout + made.stderr);
      const benchLink = await benchLinkCommand(dir, generator);
      const libs = benchLink.argv.filter((a) => a.endsWith('.a')).map((a) => resolve(benchLink.cwd, a));
      const llamaBench = resolve(benchLink.cwd, benchLink.argv[benchLink.argv.indexOf('-o') + 1]);
      if (!existsSync(llamaBench)) throw new Error(`the llama.cpp build left no ${llamaBench}`);
      build = {
        key, dir, commit: source.commit, origin: source.origin, flags: flagsLabel(), llamaBench, logitsTool: '', env: {}, flashAttention: 'auto',
        cmakeOptions: options, generator, record: { compiles: readCompiles(dir), benchLink, libs },
      };
      writeFileSync(stamp, JSON.stringify({ ...build, keyInput, builtAt: new Date().toISOString() }, null, 2) + '\n');
    }
    return { ...build, logitsTool: await linkLogitsTool(build, source, log) };
  });
}

/** kb_logits compiled like llama-bench's own source and linked with its link command; rebuilt when its source changes. */
async function linkLogitsTool(ref: ReferenceBuild, source: UpstreamSource, log: (line: string) => void, libSwap = new Map<string, string>(), outDir = join(ref.dir, 'kbench')): Promise<string> {
  const sha = hash(readFileSync(LOGITS_SOURCE, 'utf8')).slice(0, 12);
  const object = join(ref.dir, 'kbench', `kb_logits-${sha}.o`);
  const tool = join(outDir, `kb_logits-${sha}`);
  if (existsSync(tool)) return tool;
  mkdirSync(outDir, { recursive: true });
  if (!existsSync(object)) {
    const benchSource = resolve(source.dir, 'tools', 'llama-bench', 'llama-bench.cpp');
    const compile = ref.record.compiles[benchSource];
    if (!compile) throw new Error(`${join(ref.dir, 'compile_commands.json')} has no entry for ${benchSource}`);
    log('compile kb_logits.cpp');
    mkdirSync(dirname(object), { recursive: true });
    await exec(retarget(compile, LOGITS_SOURCE, `${object}.tmp`), 'compiling kb_logits.cpp');
    renameSync(`${object}.tmp`, object);
  }
  const main = ref.record.benchLink.argv.find((a) => /(^|\/)main\.cpp\.o(bj)?$/.test(a));
  if (!main) throw new Error(`llama-bench's link command names no main.cpp object: ${ref.record.benchLink.argv.join(' ')}`);
  const swap = new Map(libSwap).set(resolve(ref.record.benchLink.cwd, main), object);
  await exec(relink(ref.record.benchLink, `${tool}.tmp`, swap), 'linking kb_logits');
  renameSync(`${tool}.tmp`, tool);
  return tool;
}

export interface GraftCandidate {
  name: string;
  path: string;
}

export type GraftOutcome =
  | { status: 'built'; build: LlamaBuild; recipe: GraftRecipe }
  /** the candidate did not compile, or the include policy refused it: a verdict, not an error */
  | { status: 'compile-error'; reason: string; recipe: GraftRecipe };

/**
 * The reference with `candidate` grafted into the function the kernel's recipe names. Throws GraftMismatchError
 * (exit 2) when the recipe does not apply to `source`; a candidate that does not build is an outcome.
 */
export async function buildGraft(ref: ReferenceBuild, source: UpstreamSource, kernel: Kernel, candidate: GraftCandidate, toolchain: CandidateToolchain, opts: E2eBuildOptions = {}): Promise<GraftOutcome> {
  const log = opts.log ?? (() => {});
  const recipe = graftRecipe(kernel);
  if (!recipe) throw new Error(`${kernel.dir}: kernel.json has no graft`);
  if (!existsSync(candidate.path)) throw new UsageError(`${candidate.path}: no such candidate file`);
  const patched = graftedSource(source, recipe);
  const candidateText = readFileSync(candidate.path, 'utf8');
  const key = hash({ ref: ref.key, patched: hash(patched), logits: hash(readFileSync(LOGITS_SOURCE, 'utf8')), candidate: hash(candidateText), symbol: recipe.candidateSymbol, prototype: prototypeHeader(kernel.spec), cc: await toolVersion(toolchain.cc), cflags: toolchain.cflags, policy: POLICY_ID }).slice(0, 16);
  const dir = join(e2eDir(), 'grafts', key);
  const stamp = join(dir, 'kbench-graft.json');
  // how the builds run comes from the recipe as it is now (kernel.json may have changed since)
  const current = (o: GraftOutcome): GraftOutcome => (o.status === 'built' ? { ...o, recipe, build: { ...o.build, env: recipe.env, flashAttention: recipe.flashAttention } } : { ...o, recipe });
  return withLock(dir, log, async () => {
    if (existsSync(stamp)) return current(JSON.parse(readFileSync(stamp, 'utf8')) as GraftOutcome);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });

    const compiled = await compileCandidate(candidate.path, kernel.spec, recipe.candidateSymbol, join(dir, 'candidate'), toolchain);
    if (!compiled.ok) {
      const outcome: GraftOutcome = { status: 'compile-error', reason: compiled.reason, recipe };
      writeFileSync(stamp, JSON.stringify(outcome, null, 2) + '\n');
      return outcome;
    }
    const original = resolve(source.dir, recipe.file);
    const compile = ref.record.compiles[original];
    if (!compile) throw new Error(`${join(ref.dir, 'compile_commands.json')} has no entry for ${original}`);
    const patchedPath = join(dir, basename(recipe.file));
    writeFileSync(patchedPath, patched);
    const grafted = join(dir, 'kbench-grafted.o');
    log(`compile ${recipe.file} with ${recipe.function} grafted (${candidate.name})`);
    // -I the original's folder: the patched copy's "..." includes resolve there
    await exec(retarget(compile, patchedPath, grafted, [`-I${dirname(original)}`]), `compiling the grafted ${recipe.file}`);

    const member = basename(compile.argv[compile.argv.indexOf('-o') + 1]);
    const lib = await libraryHolding(ref.record.libs, member);
    const libCopy = join(dir, basename(lib));
    copyFileSync(lib, libCopy);
    await run('ar', ['d', libCopy, member]);
    await run('ar', ['rs', libCopy, grafted, compiled.object]);
    const swap = new Map([[lib, libCopy]]);
    log(`link llama-bench and kb_logits with the graft`);
    const llamaBench = join(dir, 'llama-bench');
    await exec(relink(ref.record.benchLink, llamaBench, swap), 'linking the grafted llama-bench');
    const logitsTool = await linkLogitsTool(ref, source, log, swap, dir);
    const build: LlamaBuild = { key, dir, commit: ref.commit, origin: ref.origin, flags: ref.flags, llamaBench, logitsTool, env: recipe.env, flashAttention: recipe.flashAttention };
    const outcome: GraftOutcome = { status: 'built', build, recipe };
    writeFileSync(stamp, JSON.stringify(outcome, null, 2) + '\n');
    return outcome;
  });
}

/** The one static library on the link line whose archive holds `member` (ggml-cpu's ops.cpp.o). */
async function libraryHolding(libs: string[], member: string): Promise<string> {
  const holders: string[] = [];
  for (const lib of libs) {
    const { stdout } = await run('ar', ['t', lib], { maxBuffer: 1 << 24 });
    const count = stdout.split('\n').filter((m) => m === member).length;
    if (count > 1) throw new Error(`${lib} holds ${count} members named ${member}: cannot replace one of them`);
    if (count === 1) holders.push(lib);
  }
  if (holders.length !== 1) throw new Error(`${holders.length ? 'several' : 'no'} libraries on llama-bench's link line hold ${member} (${libs.join(', ')})`);
  return holders[0];
}
