// Compiler output trimmed to what a person (or a model) needs: the errors with their context lines, without
// driver noise, internal paths or an avalanche of follow-on errors.
const MAX_LINES = 30;

export function trimDiagnostics(raw: string, fileNames: Record<string, string> = {}): string {
  const lines = raw
    .split(/\r?\n/)
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
