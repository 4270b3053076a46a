// The folder map of src/ as a checked promise: each top-level folder is one concern and data flows one way. Imports
// are read with TypeScript's own pre-processor (static, type-only, re-exports and dynamic import()), so a comment or
// a string that looks like an import does not count.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');

interface Import {
  from: string;
  to: string;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every relative import of every file under src/, as paths relative to src/ ('.js' specifiers name the '.ts' source). */
function imports(files: string[]): Import[] {
  return files.flatMap((file) =>
    ts
      .preProcessFile(readFileSync(file, 'utf8'), true, true)
      .importedFiles.filter((i) => i.fileName.startsWith('.'))
      .map((i) => ({ from: relative(SRC, file), to: relative(SRC, resolve(dirname(file), i.fileName)).replace(/\.js$/, '.ts') })),
  );
}

/** The top-level folder of a path under src/ ('errors.ts' and other top-level files are their own unit). */
const unit = (path: string) => path.split(sep)[0];

/** Groups of top-level units that import each other, directly or around a loop (Tarjan's strongly connected components). */
function cycles(edges: Import[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    const [a, b] = [unit(e.from), unit(e.to)];
    if (!next.has(a)) next.set(a, new Set());
    if (!next.has(b)) next.set(b, new Set());
    if (a !== b) next.get(a)!.add(b);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      group.push(w);
      if (w === v) break;
    }
    if (group.length > 1) found.push(group.sort());
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return found.map((g) => g.join(' ↔ ')).sort().map((g) => g.split(' ↔ '));
}

/** The imports that make each cycle, file by file, for the failure message. */
function evidence(edges: Import[], group: string[]): string[] {
  return edges.filter((e) => unit(e.from) !== unit(e.to) && group.includes(unit(e.from)) && group.includes(unit(e.to))).map((e) => `${e.from} → ${e.to}`);
}

const files = sources(SRC);
const edges = imports(files);

// Loops between folders that predate this test and are not broken yet (none left: the last, remote → upstream, went
// when the CLI started handing runNative the upstream variant ready-made).
// The list may only shrink: a new loop fails, and so does a listed one that is gone (delete it here).
const KNOWN_CYCLES: string[][] = [];

describe('the folders of src/', () => {
  it('import each other without loops, but for the known ones listed here', () => {
    const found = cycles(edges);
    const fresh = found.filter((g) => !KNOWN_CYCLES.some((k) => k.join() === g.join()));
    expect(fresh.map((g) => ({ cycle: g.join(' ↔ '), imports: evidence(edges, g) }))).toEqual([]);
    expect(found).toEqual(KNOWN_CYCLES);
  });

  it('keep check/ (inputs, comparison, verdicts, rules) and measure/ (statistics) free of the sandbox and of each other', () => {
    const crossing = edges.filter(
      (e) => (unit(e.from) === 'check' && ['sandbox', 'measure'].includes(unit(e.to))) || (unit(e.from) === 'measure' && ['sandbox', 'check'].includes(unit(e.to))),
    );
    expect(crossing.map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });

  it('let nothing outside cli/ import cli/', () => {
    const up = edges.filter((e) => unit(e.from) !== 'cli' && unit(e.to) === 'cli');
    expect(up.map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });

  it('print only from cli/: no console.* or process.stdout/stderr.write below it', () => {
    const printing = files
      .filter((f) => unit(relative(SRC, f)) !== 'cli')
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .flatMap((line, i) => (/\bconsole\.\w+\s*\(|\bprocess\.(stdout|stderr)\.write\s*\(/.test(line) ? [`${relative(SRC, f)}:${i + 1}: ${line.trim()}`] : [])),
      );
    expect(printing).toEqual([]);
  });
});

describe('the import reader', () => {
  it('sees static, type-only, re-exported and dynamic imports, and finds a loop made of them', () => {
    const source = "import type { A } from '../a/x.js';\nexport { B } from '../b/y.js';\nconst c = await import('../c/z.js');\n// import { D } from '../d/w.js';\n";
    const found = ts.preProcessFile(source, true, true).importedFiles.map((i) => i.fileName);
    expect(found).toEqual(['../a/x.js', '../b/y.js', '../c/z.js']);
    const loop = [
      { from: `a${sep}x.ts`, to: `b${sep}y.ts` },
      { from: `b${sep}y.ts`, to: `c${sep}z.ts` },
      { from: `c${sep}z.ts`, to: `a${sep}w.ts` },
      { from: `c${sep}z.ts`, to: 'errors.ts' },
    ];
    expect(cycles(loop)).toEqual([['a', 'b', 'c']]);
  });
});
