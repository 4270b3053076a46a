// The two llama.cpp builds the end-to-end measure compares, made on the host that runs them (src/e2e/host.ts: every
// step is a shell command through the host's executor, so this machine and an ssh host take one path). The
// reference: a cmake build of the unmodified upstream with the CPU options of src/upstream/build.ts plus llama-bench
// (tools and common on) and kbench's own logits tool (remote/e2e/kb_logits.cpp), cached on the host per commit,
// flags, compiler and host, and locked so two processes never build into one folder. A graft: the reference with one
// translation unit recompiled (the recipe's file, patched here by src/e2e/graft.ts and shipped, with the reference's
// own compile command) and the candidate compiled as C like native kernel builds; both replace the file's object in
// a copy of its static library, and llama-bench and the logits tool are linked again with the reference's link
// command. Nothing else rebuilds; a graft takes seconds. Cached per reference, recipe and candidate sha256.
import { outputTail } from '../format.js';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { arch } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prototypeHeader } from '../build/glue.js';
import { POLICY_ID } from '../build/policy.js';
import { HostError, UsageError } from '../errors.js';
import { cmakeOptions, flagsLabel } from '../upstream/build.js';
import type { UpstreamSource } from '../upstream/source.js';
import { compileCandidate, type CandidateToolchain } from './candidate.js';
import { applyGraft, GraftMismatchError, graftRecipe, type GraftRecipe } from './graft.js';
import { existsOn, factsOf, hostPath, localE2e, putOn, q, readOn, runOn, sh, versionOn, type E2eHost } from './host.js';
import type { Kernel } from '../spec/suite.js';
import type { FlashAttn } from './llama-bench.js';

/** Bumped when the options below or the recipe's record change meaning. */
const E2E_RECIPE = 1;
export const LOGITS_SOURCE = fileURLToPath(new URL('../../remote/e2e/kb_logits.cpp', import.meta.url));

/** A build the end-to-end steps can run: the two binaries (paths on the host) and what they were built from. */
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

/** What a graft needs from the reference build, read from it (compile_commands.json, the link command). */
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
  /** where to build (default: this machine) */
  host?: E2eHost;
}

/** The reference build's cmake options: the CPU-only ones, with llama-bench (tools, common) and compile commands. */
export function e2eCmakeOptions(machine = arch()): string[] {
  const on = new Set(['-DLLAMA_BUILD_TOOLS', '-DLLAMA_BUILD_COMMON']);
  const base = cmakeOptions(machine).map((o) => (on.has(o.split('=')[0]) ? `${o.split('=')[0]}=ON` : o));
  // the unified app, https and multimodal tools are not needed for llama-bench and would only lengthen the build
  return [...base, '-DLLAMA_BUILD_APP=OFF', '-DLLAMA_OPENSSL=OFF', '-DLLAMA_BUILD_MTMD=OFF', '-DCMAKE_EXPORT_COMPILE_COMMANDS=ON'];
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

function commandLine(cmd: Command): string {
  return `cd ${q(cmd.cwd)} && ${cmd.argv.map(q).join(' ')}`;
}

async function exec(h: E2eHost, cmd: Command, what: string): Promise<void> {
  await sh(h, commandLine(cmd), what);
}

/** A unique name beside `path` for writing a file that is then renamed into place (atomic on the host). */
function partName(path: string): string {
  return `${path}.part-${randomBytes(4).toString('hex')}`;
}

const GENERATORS = ['Ninja', 'Unix Makefiles'];

/** $CMAKE_GENERATOR as cmake itself honours it (this machine), else Ninja where the host has it, else Make. */
async function cmakeGenerator(h: E2eHost): Promise<string> {
  const wanted = h.local ? process.env.CMAKE_GENERATOR : undefined;
  if (wanted && !GENERATORS.includes(wanted)) throw new UsageError(`CMAKE_GENERATOR=${wanted}: the end-to-end build reads the link commands of ${GENERATORS.join(' or ')} only; unset it or pick one of them`);
  return wanted || ((await versionOn(h, 'ninja')) === 'missing' ? 'Unix Makefiles' : 'Ninja');
}

/** llama-bench's link command, from whichever generator cmake used (Ninja's command list, or Make's link.txt). */
export async function benchLinkCommand(dir: string, generator: string, h: E2eHost = localE2e()): Promise<Command> {
  if (generator === 'Ninja') {
    const stdout = await sh(h, `ninja -C ${q(dir)} -t commands llama-bench`, "reading llama-bench's link command");
    const last = stdout.trim().split('\n').pop() ?? '';
    const line = last.replace(/^: && /, '').replace(/ && :$/, '');
    return { cwd: dir, argv: splitCommand(line) };
  }
  const folder = hostPath(dir, 'tools', 'llama-bench');
  const link = await readOn(h, hostPath(folder, 'CMakeFiles', 'llama-bench.dir', 'link.txt'));
  if (link === null) throw new Error(`${dir}: the Makefiles build has no link.txt for llama-bench`);
  return { cwd: folder, argv: splitCommand(link.trim().split('\n')[0]) };
}

function parseCompiles(text: string): Record<string, Command> {
  const entries = JSON.parse(text) as { directory: string; command?: string; arguments?: string[]; file: string }[];
  return Object.fromEntries(entries.map((e) => [resolve(e.directory, e.file), { cwd: e.directory, argv: e.arguments ?? splitCommand(e.command ?? '') }]));
}

function hash(value: unknown): string {
  return createHash('sha256').update(typeof value === 'string' ? value : JSON.stringify(value)).digest('hex');
}

/**
 * `script` run on the host holding `<dir>.lock` (mkdir is atomic; the lock holds the pid of the shell doing the
 * work, the same convention as before on this machine), so two processes never build into one folder: the second
 * waits, then finds the first one's build. A lock whose process is gone is taken over.
 */
export function locked(dir: string, script: string): string {
  return [
    `dir=${q(dir)}; lock="$dir.lock"; n=0`,
    'mkdir -p "$(dirname "$dir")"',
    'while ! mkdir "$lock" 2>/dev/null; do',
    '  p=$(cat "$lock/pid" 2>/dev/null || true)',
    '  if { [ -n "$p" ] && ! kill -0 "$p" 2>/dev/null; } || { [ -z "$p" ] && [ $n -gt 30 ]; }; then rm -rf "$lock"; continue; fi',
    '  n=$((n+1)); sleep 1',
    'done',
    'echo $$ > "$lock/pid"',
    `trap 'rm -rf "$lock"' EXIT`,
    "trap 'exit 130' INT TERM HUP",
    script,
  ].join('\n');
}

/** Exit status of the reference script when cmake is missing on the host. */
const NO_CMAKE = 90;

/**
 * Builds (or finds cached) the unmodified reference on the host: llama-bench and the logits tool. The first build
 * takes minutes; concurrent callers in one process share it.
 */
export function buildReference(source: UpstreamSource, opts: E2eBuildOptions = {}): Promise<ReferenceBuild> {
  const h = opts.host ?? localE2e();
  const memoKey = `${h.config.name}\0${h.root}\0${source.dir}\0${source.commit}`;
  let pending = building.get(memoKey);
  if (!pending) {
    pending = buildReferenceOnce(h, source, opts);
    building.set(memoKey, pending);
    pending.catch(() => building.delete(memoKey));
  }
  return pending;
}
const building = new Map<string, Promise<ReferenceBuild>>();

async function buildReferenceOnce(h: E2eHost, source: UpstreamSource, opts: E2eBuildOptions): Promise<ReferenceBuild> {
  const log = opts.log ?? (() => {});
  const facts = await factsOf(h);
  const options = e2eCmakeOptions(facts.arch);
  const flags = flagsLabel(facts.arch);
  const cc = (h.local && process.env.CC) || 'cc';
  const cxx = (h.local && process.env.CXX) || 'c++';
  // not part of the key: a finished build is never run through its build system again (grafts relink by hand)
  const generator = await cmakeGenerator(h);
  const keyInput = { recipe: E2E_RECIPE, commit: source.commit, origin: source.origin, options, cc: await versionOn(h, cc), cxx: await versionOn(h, cxx), host: facts.hostname, arch: facts.arch };
  const key = hash(keyInput).slice(0, 16);
  const dir = hostPath(h.root, key);
  const stampPath = hostPath(dir, 'kbench-e2e.json');
  const on = h.local ? '' : ` on ${h.config.name}`;
  if (!(await existsOn(h, stampPath))) log(`cmake build of llama.cpp ${source.commit.slice(0, 12)} (${flags}, ${generator}, -j${opts.jobs ?? 2})${on} in ${dir}: minutes the first time`);
  const stamp = { key, dir, commit: source.commit, origin: source.origin, flags, cmakeOptions: options, generator, keyInput, builtAt: new Date().toISOString() };
  const env = `CC=${q(cc)} CXX=${q(cxx)}`;
  const build = [
    'if [ ! -f "$dir/kbench-e2e.json" ]; then',
    `  command -v cmake >/dev/null 2>&1 || exit ${NO_CMAKE}`,
    '  rm -rf "$dir" && mkdir -p "$dir" || exit 1',
    `  if ! ${env} cmake -S ${q(source.dir)} -B "$dir" -G ${q(generator)} ${options.map(q).join(' ')} >"$dir/configure.log" 2>&1; then echo "cmake configure failed:" >&2; tail -c 4000 "$dir/configure.log" >&2; exit 1; fi`,
    `  if ! ${env} cmake --build "$dir" -j ${opts.jobs ?? 2} --target llama-bench >"$dir/build.log" 2>&1; then echo "cmake build of llama-bench failed:" >&2; tail -c 6000 "$dir/build.log" >&2; exit 1; fi`,
    `  printf '%s\\n' ${q(JSON.stringify(stamp, null, 2))} >"$dir/kbench-e2e.json"`,
    'fi',
  ].join('\n');
  const made = await runOn(h, locked(dir, build), { timeoutMs: 3 * 3_600_000 });
  if (made.exitCode === NO_CMAKE) throw new HostError(h.config.name, 'cmake is needed to build llama.cpp for the end-to-end measure (apt-get install cmake g++)');
  if (made.exitCode !== 0) throw new HostError(h.config.name, `building llama.cpp ${source.commit.slice(0, 12)} from ${source.dir} failed (status ${made.exitCode ?? made.signal}):\n${outputTail(made, 6000)}`);

  const recorded = JSON.parse((await readOn(h, stampPath)) ?? '{}') as { generator?: string };
  const built = recorded.generator ?? generator;
  const compiles = await readOn(h, hostPath(dir, 'compile_commands.json'));
  if (compiles === null) throw new HostError(h.config.name, `${dir} has no compile_commands.json`);
  const benchLink = await benchLinkCommand(dir, built, h);
  const libs = benchLink.argv.filter((a) => a.endsWith('.a')).map((a) => resolve(benchLink.cwd, a));
  const llamaBench = resolve(benchLink.cwd, benchLink.argv[benchLink.argv.indexOf('-o') + 1]);
  if (!(await existsOn(h, llamaBench))) throw new HostError(h.config.name, `the llama.cpp build left no ${llamaBench}`);
  const build_: ReferenceBuild = {
    key, dir, commit: source.commit, origin: source.origin, flags, llamaBench, logitsTool: '', env: {}, flashAttention: 'auto',
    cmakeOptions: options, generator: built, record: { compiles: parseCompiles(compiles), benchLink, libs },
  };
  return { ...build_, logitsTool: await linkLogitsTool(h, build_, source, log) };
}

/** kb_logits compiled like llama-bench's own source and linked with its link command; rebuilt when its source changes. */
async function linkLogitsTool(h: E2eHost, ref: ReferenceBuild, source: UpstreamSource, log: (line: string) => void, libSwap = new Map<string, string>(), outDir = hostPath(ref.dir, 'kbench')): Promise<string> {
  const text = readFileSync(LOGITS_SOURCE, 'utf8');
  const sha = hash(text).slice(0, 12);
  const kbenchDir = hostPath(ref.dir, 'kbench');
  const object = hostPath(kbenchDir, `kb_logits-${sha}.o`);
  const tool = hostPath(outDir, `kb_logits-${sha}`);
  if (await existsOn(h, tool)) return tool;
  if (!(await existsOn(h, object))) {
    const benchSource = resolve(source.dir, 'tools', 'llama-bench', 'llama-bench.cpp');
    const compile = ref.record.compiles[benchSource];
    if (!compile) throw new Error(`${hostPath(ref.dir, 'compile_commands.json')} has no entry for ${benchSource}`);
    log('compile kb_logits.cpp');
    const cpp = `kb_logits-${sha}.cpp`;
    await putOn(h, kbenchDir, { [cpp]: text });
    const part = partName(object);
    await exec(h, retarget(compile, hostPath(kbenchDir, cpp), part), 'compiling kb_logits.cpp');
    await sh(h, `mv ${q(part)} ${q(object)}`, 'placing kb_logits.o');
  }
  const main = ref.record.benchLink.argv.find((a) => /(^|\/)main\.cpp\.o(bj)?$/.test(a));
  if (!main) throw new Error(`llama-bench's link command names no main.cpp object: ${ref.record.benchLink.argv.join(' ')}`);
  const swap = new Map(libSwap).set(resolve(ref.record.benchLink.cwd, main), object);
  const part = partName(tool);
  await sh(h, `mkdir -p ${q(outDir)}`, 'making the kb_logits folder');
  await exec(h, relink(ref.record.benchLink, part, swap), 'linking kb_logits');
  await sh(h, `mv ${q(part)} ${q(tool)}`, 'placing kb_logits');
  return tool;
}

export interface GraftCandidate {
  name: string;
  /** the candidate's file on this machine (it is shipped to the host) */
  path: string;
}

export type GraftOutcome =
  | { status: 'built'; build: LlamaBuild; recipe: GraftRecipe }
  /** the candidate did not compile, or the include policy refused it: a verdict, not an error */
  | { status: 'compile-error'; reason: string; recipe: GraftRecipe };

/**
 * The recipe's file of `source` on the host with the graft applied. The text is read from the host and the
 * fingerprint checked here, so a checkout on the host whose function moved fails (exit 2) naming host, file and
 * function before anything is built.
 */
export async function graftedText(h: E2eHost, source: UpstreamSource, recipe: GraftRecipe): Promise<string> {
  const path = hostPath(source.dir, recipe.file);
  const where = h.local ? path : `${path} on host '${h.config.name}'`;
  const text = await readOn(h, path);
  if (text === null) throw new GraftMismatchError(`${where}: missing, so the ${recipe.kernel} graft (${recipe.function}) cannot apply to ${source.origin}`);
  return applyGraft(text, recipe, readFileSync(recipe.replacementPath, 'utf8'), where);
}

/**
 * The reference with `candidate` grafted into the function the kernel's recipe names, built on the reference's
 * host into a fresh folder renamed into place when done (two processes building the same graft waste seconds, never
 * mix files). Throws GraftMismatchError (exit 2) when the recipe does not apply to `source`; a candidate that does
 * not build is an outcome.
 */
export async function buildGraft(ref: ReferenceBuild, source: UpstreamSource, kernel: Kernel, candidate: GraftCandidate, toolchain: CandidateToolchain, opts: E2eBuildOptions = {}): Promise<GraftOutcome> {
  const h = opts.host ?? localE2e();
  const log = opts.log ?? (() => {});
  const recipe = graftRecipe(kernel);
  if (!recipe) throw new Error(`${kernel.dir}: kernel.json has no graft`);
  let candidateText: string;
  try {
    candidateText = readFileSync(candidate.path, 'utf8');
  } catch {
    throw new UsageError(`${candidate.path}: no such candidate file`);
  }
  const patched = await graftedText(h, source, recipe);
  const key = hash({ ref: ref.key, patched: hash(patched), logits: hash(readFileSync(LOGITS_SOURCE, 'utf8')), candidate: hash(candidateText), symbol: recipe.candidateSymbol, prototype: prototypeHeader(kernel.spec), cc: await versionOn(h, toolchain.cc), cflags: toolchain.cflags, policy: POLICY_ID }).slice(0, 16);
  const dir = hostPath(h.root, 'grafts', key);
  const stampName = 'kbench-graft.json';
  // how the builds run comes from the recipe as it is now (kernel.json may have changed since)
  const current = (o: GraftOutcome): GraftOutcome => (o.status === 'built' ? { ...o, recipe, build: { ...o.build, env: recipe.env, flashAttention: recipe.flashAttention } } : { ...o, recipe });
  const cached = await readOn(h, hostPath(dir, stampName));
  if (cached !== null) return current(JSON.parse(cached) as GraftOutcome);

  const work = partName(dir);
  try {
    const outcome = await graftInto(h, work, dir, ref, source, kernel, recipe, candidate, patched, toolchain, key, log);
    await putOn(h, work, { [stampName]: JSON.stringify(outcome, null, 2) + '\n' });
    // another process may have finished the same graft meanwhile: keep its folder
    await sh(h, `if [ -e ${q(hostPath(dir, stampName))} ]; then rm -rf ${q(work)}; else rm -rf ${q(dir)} && mv ${q(work)} ${q(dir)}; fi`, 'placing the graft build');
    return current(JSON.parse((await readOn(h, hostPath(dir, stampName))) ?? JSON.stringify(outcome)) as GraftOutcome);
  } catch (e) {
    await runOn(h, `rm -rf ${q(work)}`).catch(() => undefined);
    throw e;
  }
}

/** The graft's build steps in `work`, every path in the outcome already the final folder's (`dir`). */
async function graftInto(
  h: E2eHost, work: string, dir: string, ref: ReferenceBuild, source: UpstreamSource, kernel: Kernel, recipe: GraftRecipe,
  candidate: GraftCandidate, patched: string, toolchain: CandidateToolchain, key: string, log: (line: string) => void,
): Promise<GraftOutcome> {
  const compiled = await compileCandidate(candidate.path, kernel.spec, recipe.candidateSymbol, hostPath(work, 'candidate'), toolchain, h);
  if (!compiled.ok) return { status: 'compile-error', reason: compiled.reason, recipe };
  const original = resolve(source.dir, recipe.file);
  const compile = ref.record.compiles[original];
  if (!compile) throw new Error(`${hostPath(ref.dir, 'compile_commands.json')} has no entry for ${original}`);
  const patchedName = basename(recipe.file);
  await putOn(h, work, { [patchedName]: patched });
  const grafted = hostPath(work, 'kbench-grafted.o');
  log(`compile ${recipe.file} with ${recipe.function} grafted (${candidate.name})${h.local ? '' : ` on ${h.config.name}`}`);
  // -I the original's folder: the patched copy's "..." includes resolve there
  await exec(h, retarget(compile, hostPath(work, patchedName), grafted, [`-I${dirname(original)}`]), `compiling the grafted ${recipe.file}`);

  const member = basename(compile.argv[compile.argv.indexOf('-o') + 1]);
  const lib = await libraryHolding(h, ref.record.libs, member);
  const libCopy = hostPath(work, basename(lib));
  await sh(h, `cp ${q(lib)} ${q(libCopy)} && ar d ${q(libCopy)} ${q(member)} && ar rs ${q(libCopy)} ${q(grafted)} ${q(compiled.object)}`, `swapping ${member} in a copy of ${basename(lib)}`);
  const swap = new Map([[lib, libCopy]]);
  log('link llama-bench and kb_logits with the graft');
  await exec(h, relink(ref.record.benchLink, hostPath(work, 'llama-bench'), swap), 'linking the grafted llama-bench');
  const logitsTool = await linkLogitsTool(h, ref, source, log, swap, work);
  const build: LlamaBuild = {
    key, dir, commit: ref.commit, origin: ref.origin, flags: ref.flags, llamaBench: hostPath(dir, 'llama-bench'),
    logitsTool: hostPath(dir, basename(logitsTool)), env: recipe.env, flashAttention: recipe.flashAttention,
  };
  return { status: 'built', build, recipe };
}

/** The one static library on the link line whose archive holds `member` (ggml-cpu's ops.cpp.o). */
async function libraryHolding(h: E2eHost, libs: string[], member: string): Promise<string> {
  const holders: string[] = [];
  for (const lib of libs) {
    const stdout = await sh(h, `ar t ${q(lib)}`, `listing ${lib}`);
    const count = stdout.split('\n').filter((m) => m === member).length;
    if (count > 1) throw new Error(`${lib} holds ${count} members named ${member}: cannot replace one of them`);
    if (count === 1) holders.push(lib);
  }
  if (holders.length !== 1) throw new Error(`${holders.length ? 'several' : 'no'} libraries on llama-bench's link line hold ${member} (${libs.join(', ')})`);
  return holders[0];
}
