// Compiler output trimmed to what a person (or a model) needs: the errors with their context lines, without
// driver noise, internal paths or an avalanche of follow-on errors, and never another file's text.
const MAX_LINES = 30;

/** kbench's own sources and generated files, and the compiler's pseudo-files: their lines may be shown. */
const KBENCH_FILES = ['kb_proto.h', 'kb_glue.h', 'kb_wasm.c', 'kb_wasm.h', 'kb_protocol.h', 'include/kb_simd.h',
  'kb_glue.c', 'kb_driver.c', 'kb_driver.h', 'kb_common.h', 'kb_common.c', 'x86/immintrin.h', '<built-in>', '<command line>',
  '<command-line>', '<scratch space>'];
/** A diagnostic's first line: `file:line:col: error:` (clang, gcc) or gcc's `file: In function 'f':`. */
const LOCATED = /^(.+?):(?:\d+:){0,2} ?(?:fatal error|error|warning|note|remark):|^(.+?): (?:In function|In member function|At top level)/;

/** A message of the driver or the linker, not about a source line (`wasm-ld: error: undefined symbol: expf`). */
const TOOL = /^(?:\S*\/)?(?:wasm-ld|ld|ld\.lld|collect2|clang|emcc|gcc|cc)(?:-[\d.]+)?: /;

/**
 * Keeps only diagnostics located in `shown` (the candidate) or kbench's own files, with the source lines that
 * follow them: a diagnostic located elsewhere (an included host file, a #line naming one) is dropped with its
 * quoted source, so a compiler cannot be made to print the content of a file the candidate may not read.
 */
export function scrubDiagnostics(raw: string, shown: string[]): string {
  const allowed = new Set([...shown, ...KBENCH_FILES]);
  let keep = true;
  return raw
    .split(/\r?\n/)
    .filter((line) => {
      if (/^In file included from |^\s+from \S.*[:,]$/.test(line)) return false;
      if (TOOL.test(line)) return (keep = true);
      const m = LOCATED.exec(line);
      if (m) keep = allowed.has((m[1] ?? m[2]).replace(/^(\.\/)+/, ''));
      return keep;
    })
    .join('\n');
}

export function trimDiagnostics(raw: string, fileNames: Record<string, string> = {}): string {
  const lines = scrubDiagnostics(raw, Object.keys(fileNames))
    .split('\n')
    .filter((l) => l.trim() && !/^(clang|emcc|wasm-ld|cache):? (version|Target|Thread model|InstalledDir)/i.test(l))
    .filter((l) => !/^\s*"[^"]*" "-cc1"|^\s*"[^"]*wasm-ld"|^Build config|^Target:|^Thread model:|^InstalledDir:|^clang version/.test(l))
    // emcc repeats the whole clang command line when a step fails; the error lines above it say everything.
    .filter((l) => !/^emcc: error: '.*' failed \(returned \d+\)$/.test(l))
    .map((l) => Object.entries(fileNames).reduce((s, [from, to]) => s.split(from).join(to), l));
  const firstError = lines.findIndex((l) => /error/i.test(l));
  const relevant = firstError > 0 ? lines.slice(Math.max(0, firstError - 2)) : lines;
  const kept = relevant.slice(0, MAX_LINES);
  if (relevant.length > MAX_LINES) kept.push(`… ${relevant.length - MAX_LINES} more lines`);
  return kept.join('\n');
}

/** The first error line of trimmed diagnostics (the whole first line when none says error), for a one-line note. */
export function firstErrorLine(diagnostic: string): string {
  const lines = diagnostic.split('\n');
  return (lines.find((l) => /error/i.test(l)) ?? lines[0] ?? '').trim();
}
