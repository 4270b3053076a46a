// A candidate compiled for a graft: as C, with the native builds' compiler and flags (src/remote/hosts.ts), its entry
// point renamed to the graft's symbol, the spec's prototype force-included (a signature that differs from what
// graft.cpp calls is a compile error, not a crash inside llama.cpp), checked by the same include policy as every
// other build (kb_policy.awk via src/build/policy.ts), and with every other global symbol made local so its helpers
// cannot collide with ggml's. It compiles on the host that runs the graft (src/e2e/host.ts).
import { outputTail } from '../format.js';
import { readdirSync, readFileSync } from 'node:fs';
import { checkPreprocessed } from '../build/policy.js';
import { prototypeHeader } from '../build/glue.js';
import type { NativeToolchain } from '../remote/hosts.js';
import type { KernelSpec } from '../spec/schema.js';
import { INCLUDE_DIR } from '../spec/suite.js';
import { hostPath, localE2e, putOn, q, readOn, runOn, type E2eHost } from './host.js';

export type CandidateToolchain = Pick<NativeToolchain, 'cc' | 'cflags' | 'objcopy'>;

export type CompiledCandidate = { ok: true; object: string } | { ok: false; reason: string };

/**
 * Compiles `path` (a file here) into `workDir`/candidate.o on the host, exporting only `symbol` (the spec's
 * function renamed). The policy reads what the host's preprocessor reported, checked here.
 */
export async function compileCandidate(path: string, spec: KernelSpec, symbol: string, workDir: string, toolchain: CandidateToolchain, h: E2eHost = localE2e()): Promise<CompiledCandidate> {
  // compiled from its own folder under fixed names, so the policy sees the same paths as the compiler
  await putOn(h, workDir, { 'candidate.c': readFileSync(path), 'kb_proto.h': prototypeHeader(spec) });
  await h.executor.upload(INCLUDE_DIR, readdirSync(INCLUDE_DIR), hostPath(workDir, 'include'), { timeoutMs: 600_000 });
  const specFunction = spec.function;
  const cflags = toolchain.cflags.map(q).join(' ');
  const cc = `cd ${q(workDir)} && ${q(toolchain.cc)} ${cflags} -Iinclude`;
  const flags = `-D${q(`${specFunction}=${symbol}`)} -include kb_proto.h`;
  const step = async (command: string): Promise<string | null> => {
    const r = await runOn(h, command, { timeoutMs: 600_000 });
    return r.exitCode === 0 ? null : outputTail(r) || `status ${r.exitCode ?? r.signal}`;
  };
  const search = await runOn(h, `${cc} -x c -E -v - </dev/null 2>&1 >/dev/null`, { timeoutMs: 120_000 });
  const failed = await step(`${cc} ${flags} -x c -E -MD -MF candidate.d candidate.c -o candidate.i`);
  if (failed) return { ok: false, reason: failed };
  const refused = await checkPreprocessed(
    { search: search.stdout, deps: (await readOn(h, hostPath(workDir, 'candidate.d'))) ?? '', pre: (await readOn(h, hostPath(workDir, 'candidate.i'))) ?? '' },
    { candidate: 'candidate.c', own: ['kb_proto.h'], includeDir: 'include' },
  );
  if (refused) return { ok: false, reason: `refused by the include policy: ${refused}` };
  const compileFailed = await step(`${cc} ${flags} -x c -c candidate.c -o candidate.o`);
  if (compileFailed) return { ok: false, reason: compileFailed };
  const kept = await step(`cd ${q(workDir)} && ${q(toolchain.objcopy)} ${q(`--keep-global-symbol=${symbol}`)} candidate.o`);
  if (kept) return { ok: false, reason: `${toolchain.objcopy} could not keep only ${symbol} global: ${kept}` };
  const globals = await runOn(h, `cd ${q(workDir)} && nm -g --defined-only candidate.o`, { timeoutMs: 60_000 });
  if (globals.exitCode === 0 && !globals.stdout.includes(symbol)) return { ok: false, reason: `the candidate does not define ${specFunction}()` };
  return { ok: true, object: hostPath(workDir, 'candidate.o') };
}
