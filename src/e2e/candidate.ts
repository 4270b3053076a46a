// A candidate compiled for a graft: as C, with the native builds' compiler and flags (src/remote/hosts.ts), its entry
// point renamed to the graft's symbol, the spec's prototype force-included (a signature that differs from what
// graft.cpp calls is a compile error, not a crash inside llama.cpp), checked by the same include policy as every
// other build (kb_policy.awk via src/build/policy.ts), and with every other global symbol made local so its helpers
// cannot collide with ggml's.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checkPreprocessed } from '../build/policy.js';
import { prototypeHeader } from '../build/glue.js';
import type { NativeToolchain } from '../remote/hosts.js';
import type { KernelSpec } from '../spec/schema.js';
import { INCLUDE_DIR } from '../spec/suite.js';

const run = promisify(execFile);

export type CandidateToolchain = Pick<NativeToolchain, 'cc' | 'cflags' | 'objcopy'>;

export type CompiledCandidate = { ok: true; object: string } | { ok: false; reason: string };

function failure(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  return (err.stderr || err.message || String(e)).trim().slice(-4000);
}

/** Compiles `path` into `workDir`/candidate.o exporting only `symbol` (the spec's function renamed). */
export async function compileCandidate(path: string, spec: KernelSpec, symbol: string, workDir: string, toolchain: CandidateToolchain): Promise<CompiledCandidate> {
  mkdirSync(workDir, { recursive: true });
  // compiled from its own folder under fixed names, so the policy sees the same paths as the compiler
  copyFileSync(path, join(workDir, 'candidate.c'));
  writeFileSync(join(workDir, 'kb_proto.h'), prototypeHeader(spec));
  const specFunction = spec.function;
  const flags = [...toolchain.cflags, `-I${INCLUDE_DIR}`, `-D${specFunction}=${symbol}`, '-include', 'kb_proto.h'];
  const opts = { cwd: workDir, maxBuffer: 1 << 26 };
  try {
    const search = await new Promise<string>((resolve) => {
      const child = execFile(toolchain.cc, [...toolchain.cflags, `-I${INCLUDE_DIR}`, '-x', 'c', '-E', '-v', '-'], opts, (_e, _out, stderr) => resolve(stderr));
      child.stdin?.end();
    });
    await run(toolchain.cc, [...flags, '-x', 'c', '-E', '-MD', '-MF', 'candidate.d', 'candidate.c', '-o', 'candidate.i'], opts);
    const refused = await checkPreprocessed(
      { search, deps: readFileSync(join(workDir, 'candidate.d')), pre: readFileSync(join(workDir, 'candidate.i')) },
      { candidate: 'candidate.c', own: ['kb_proto.h'], includeDir: INCLUDE_DIR },
    );
    if (refused) return { ok: false, reason: `refused by the include policy: ${refused}` };
    await run(toolchain.cc, [...flags, '-x', 'c', '-c', 'candidate.c', '-o', 'candidate.o'], opts);
  } catch (e) {
    return { ok: false, reason: failure(e) };
  }
  try {
    await run(toolchain.objcopy, [`--keep-global-symbol=${symbol}`, 'candidate.o'], opts);
  } catch (e) {
    return { ok: false, reason: `${toolchain.objcopy} could not keep only ${symbol} global: ${failure(e)}` };
  }
  const { stdout } = await run('nm', ['-g', '--defined-only', 'candidate.o'], opts).catch(() => ({ stdout: symbol }));
  if (!stdout.includes(symbol)) return { ok: false, reason: `the candidate does not define ${specFunction}()` };
  return { ok: true, object: join(workDir, 'candidate.o') };
}
