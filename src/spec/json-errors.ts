// Readable JSON errors for the files people edit by hand (kernel.json, kbench.config.json): where a syntax error
// is, and every schema problem at once.

/** JSON.parse's message with the line and column of its position, e.g. "line 3, column 1: Expected double-quoted …". */
export function jsonErrorWhere(text: string, message: string): string {
  const at = /at position (\d+)/.exec(message);
  const offset = at ? Number(at[1]) : /Unexpected end of JSON input/.test(message) ? text.length : tokenOffset(text, message);
  const problem = message
    .replace(/ in JSON at position \d+.*$/, '')
    .replace(/ \(line \d+ column \d+\)$/, '')
    .replace(/^(Unexpected token '.+'), [\s\S]* is not valid JSON$/, '$1');
  if (offset === undefined) return problem;
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before.at(-1)!.length + 1}: ${problem}`;
}

/** "3 problems:\n  a.b: …\n  c: …" for a list of "field: problem" lines. */
export function problemList(lines: string[]): string {
  return `${lines.length} problems:\n${lines.map((l) => `  ${l}`).join('\n')}`;
}

/**
 * V8 reports some errors without a position: `Unexpected token ']', ..."rams": [1,]\n}" is not valid JSON`, the
 * token with up to 10 characters either side in quotes ("..." outside them marks a cut). The excerpt is found in the text to place it.
 */
function tokenOffset(text: string, message: string): number | undefined {
  const m = /^Unexpected token '(.+)', (\.\.\.)?"([\s\S]*)"(\.\.\.)? is not valid JSON$/.exec(message);
  if (!m) return undefined;
  const [, token, cutBefore, core] = m;
  const start = text.indexOf(core);
  if (start < 0) return undefined;
  return start + (cutBefore ? 10 : Math.max(core.indexOf(token), 0));
}
