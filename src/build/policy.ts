// What a candidate may include. Builds run a real compiler on the host (clang, emcc, the native cc), so a candidate
// must not be able to pull host files into its build or its diagnostics. The defence is kb_policy.awk, run on what
// the real preprocessor reported (dependency list, preprocessed output); it is shared with native builds (run.sh),
// which get the allowed list below through build.env. refuseSource is only a cheap first pass with line numbers.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** System headers a candidate may include itself (whatever they include in turn must stay in the toolchain's dirs). */
export const ALLOWED_HEADERS = ['math.h', 'stdint.h', 'stddef.h', 'string.h', 'float.h', 'stdbool.h', 'limits.h',
  'wasm_simd128.h', 'immintrin.h', 'arm_neon.h', 'x86intrin.h'];
const ALLOWED_SYSTEM = new Set(ALLOWED_HEADERS);
const ALLOWED_LOCAL = new Set(['kb_simd.h']);

export const POLICY_SCRIPT = fileURLToPath(new URL('../../remote/driver/kb_policy.awk', import.meta.url));
/** Changes when the policy does, so builds cached under an older policy are not reused. */
export const POLICY_ID = createHash('sha256').update(readFileSync(POLICY_SCRIPT)).update(ALLOWED_HEADERS.join(' ')).digest('hex');

/** Returns why the source is refused, or null. Line continuations are joined first so they cannot hide a directive. */
export function refuseSource(source: string): string | null {
  const lines = source.replace(/\\\r?\n/g, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i].replace(/\/\*.*?\*\//g, ' ');
    const m = /^\s*(?:#|%:|\?\?=)\s*(include_next|include|import|embed)\b\s*(.*)$/.exec(text);
    if (m) {
      const target = /^<([^>]+)>|^"([^"]+)"/.exec(m[2].trim());
      const where = `line ${i + 1}`;
      if (m[1] !== 'include') return `${where}: #${m[1]} is not allowed`;
      if (!target) return `${where}: computed #include is not allowed`;
      const name = target[1] ?? target[2];
      if (target[1] !== undefined ? !ALLOWED_SYSTEM.has(name) : !ALLOWED_LOCAL.has(name))
        return `${where}: #include ${target[0]} is not allowed (allowed: <${[...ALLOWED_SYSTEM].join('>, <')}>, "kb_simd.h")`;
    }
    if (/__has_include|__has_embed|\b_Pragma\b|#\s*pragma\s+(push_macro|GCC\s+system_header)/.test(text))
      return `line ${i + 1}: ${text.trim().slice(0, 60)} is not allowed`;
  }
  return null;
}

export interface Preprocessed {
  /** stderr of `-E -v` on an empty file: the compiler's search list */
  search: string;
  /** the -MD dependency file of the candidate */
  deps: Uint8Array | string;
  /** the -E output of the candidate */
  pre: Uint8Array | string;
}

/** Paths as the compiler saw them, relative to its working directory. */
export interface PolicyPaths {
  candidate: string;
  /** kbench's generated files the build adds (force-included prototype…) */
  own: string[];
  /** the -I directory holding kb_simd.h */
  includeDir: string;
}

/** Runs kb_policy.awk: why the candidate is refused, or null. A failing check refuses (it never lets through). */
export async function checkPreprocessed(p: Preprocessed, paths: PolicyPaths): Promise<string | null> {
  const dir = mkdtempSync(join(tmpdir(), 'kbench-policy-'));
  try {
    const files = { search: join(dir, 'search.log'), deps: join(dir, 'deps.d'), pre: join(dir, 'pre.i') };
    writeFileSync(files.search, p.search);
    writeFileSync(files.deps, p.deps);
    writeFileSync(files.pre, p.pre);
    const vars = { ...files, cand: paths.candidate, own: paths.own.join(' '), local: `${paths.includeDir}/kb_simd.h`, idir: paths.includeDir, allowed: ALLOWED_HEADERS.join(' ') };
    const args = ['-f', POLICY_SCRIPT, ...Object.entries(vars).flatMap(([k, v]) => ['-v', `${k}=${v}`]), files.search, files.deps, files.pre];
    return await new Promise((resolve) => {
      execFile('awk', args, { timeout: 30_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
        if (!err) return resolve(null);
        const code = (err as { code?: unknown }).code;
        resolve(code === 1 && stdout.trim() ? stdout.trim() : `the include policy check failed (${stderr.trim() || err.message})`);
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
