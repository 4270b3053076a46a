// The model's read-only view of the disk: list, read and grep inside named roots (the kernel folder,
// kernels/include, each --research folder). Paths are "<root>/<relative path>"; anything that would leave a
// root — "..", an absolute path, a symlink pointing outside — is refused, and every answer is size-limited so
// one call cannot flood the context (or the bill).
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, sep } from 'node:path';
import { UsageError } from '../errors.js';

export const READ_LIMIT_CHARS = 48_000;
export const GREP_LIMIT_MATCHES = 150;
export const GREP_LIMIT_CHARS = 16_000;
export const LIST_LIMIT_ENTRIES = 400;
const GREP_MAX_FILE_BYTES = 1_000_000;
const SKIP_DIRS = new Set(['.git', 'node_modules', '.kbench', 'build', 'dist']);

/** A refusal or a failed look-up: goes back to the model as an error tool result, never a crash. */
export class ToolError extends Error {}

export interface Root {
  name: string;
  /** realpath of the folder */
  dir: string;
}

/** Names roots after their folders ("kernel", "include", then research folder names, made unique). */
export function makeRoots(kernelDir: string, includeDir: string, researchDirs: string[]): Root[] {
  const roots: Root[] = [];
  const add = (wanted: string, dir: string) => {
    let name = wanted.replace(/[^A-Za-z0-9._-]/g, '_') || 'root';
    for (let i = 2; roots.some((r) => r.name === name); i++) name = `${wanted}-${i}`;
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      throw new UsageError(`research folder ${dir}: no such folder`);
    }
    roots.push({ name, dir: real });
  };
  add('kernel', kernelDir);
  add('include', includeDir);
  for (const dir of researchDirs) add(basename(dir), dir);
  return roots;
}

interface Resolved {
  root: Root;
  /** realpath on disk */
  abs: string;
  /** the path as the model should write it */
  display: string;
}

export function resolveInRoots(roots: Root[], path: string): Resolved {
  const names = roots.map((r) => r.name).join(', ');
  if (isAbsolute(path) || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('~'))
    throw new ToolError(`absolute paths are refused: write <root>/<path> with a root from: ${names}`);
  const parts = path.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw new ToolError(`'..' is refused: paths must stay inside a root (${names})`);
  const root = roots.find((r) => r.name === parts[0]);
  if (!root) throw new ToolError(`unknown root '${parts[0] ?? ''}': paths start with one of: ${names}`);
  let abs: string;
  try {
    abs = realpathSync(join(root.dir, ...parts.slice(1)));
  } catch {
    throw new ToolError(`${path}: no such file or folder`);
  }
  if (!inside(root.dir, abs)) throw new ToolError(`${path}: refused, it is a symlink that leaves the root '${root.name}'`);
  return { root, abs, display: [root.name, ...parts.slice(1)].join('/') };
}

function inside(dir: string, abs: string): boolean {
  const rel = relative(dir, abs);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

export function listFiles(roots: Root[], path: string | undefined, recursive: boolean): string {
  if (!path || path === '.' || path === '/') return roots.map((r) => `${r.name}/`).join('\n');
  const at = resolveInRoots(roots, path);
  if (!statSync(at.abs).isDirectory()) throw new ToolError(`${path}: not a folder (use read_file)`);
  const lines: string[] = [];
  let truncated = false;
  walk(at.abs, recursive, (abs, isDir, size) => {
    if (lines.length >= LIST_LIMIT_ENTRIES) return (truncated = true), false;
    const rel = [at.display, ...relative(at.abs, abs).split(sep)].join('/');
    lines.push(isDir ? `${rel}/` : lstatSync(abs).isSymbolicLink() ? `${rel} -> ${describeLink(at.root, roots, abs)}` : `${rel}  (${size} bytes)`);
    return true;
  });
  if (truncated) lines.push(`… (listing stopped at ${LIST_LIMIT_ENTRIES} entries; list a subfolder)`);
  return lines.join('\n') || '(empty folder)';
}

/**
 * A symlink's target as written and whether the read tools follow it: only when it resolves inside the root it
 * is listed under (elsewhere it is refused, even inside another root, which then names the path to use).
 */
function describeLink(root: Root, roots: Root[], abs: string): string {
  const target = readlinkSync(abs);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    return `${target}  (symlink, broken)`;
  }
  const kind = statSync(real).isDirectory() ? 'folder' : 'file';
  const display = (r: Root) => [r.name, ...relative(r.dir, real).split(sep)].filter(Boolean).join('/');
  if (inside(root.dir, real)) return `${target}  (symlink to a ${kind} inside the root: ${display(root)})`;
  const other = roots.find((r) => inside(r.dir, real));
  if (other) return `${target}  (symlink leaving the root '${root.name}': refused; read it as ${display(other)})`;
  return `${target}  (symlink leaving the roots: refused)`;
}

/** Visits entries in name order without following symlinked folders (no loops, no escapes). */
function walk(dir: string, recursive: boolean, visit: (abs: string, isDir: boolean, size: number) => boolean): boolean {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return true;
  }
  for (const name of names) {
    const abs = join(dir, name);
    const st = lstatSync(abs);
    const isDir = st.isDirectory();
    if (isDir && SKIP_DIRS.has(name)) continue;
    if (!visit(abs, isDir, st.size)) return false;
    if (isDir && recursive && !walk(abs, recursive, visit)) return false;
  }
  return true;
}

function isBinary(bytes: Buffer): boolean {
  return bytes.subarray(0, 8192).includes(0);
}

export function readFile(roots: Root[], path: string, startLine = 1, maxLines = 2000): string {
  const at = resolveInRoots(roots, path);
  if (statSync(at.abs).isDirectory()) throw new ToolError(`${path}: is a folder (use list_files)`);
  const bytes = readFileSync(at.abs);
  if (isBinary(bytes)) throw new ToolError(`${path}: binary file, not shown`);
  const lines = bytes.toString('utf8').split('\n');
  const from = Math.max(1, Math.floor(startLine));
  let text = '';
  let last = from - 1;
  for (let i = from - 1; i < lines.length && i < from - 1 + maxLines; i++) {
    if (text.length + lines[i].length + 1 > READ_LIMIT_CHARS) break;
    text += lines[i] + '\n';
    last = i + 1;
  }
  const more = last < lines.length ? `; continue with start_line ${last + 1}` : '';
  return `${at.display}: lines ${from}–${last} of ${lines.length}${more}\n${text}`;
}

export function grep(roots: Root[], pattern: string, path: string | undefined, ignoreCase: boolean): string {
  let re: RegExp;
  try {
    re = new RegExp(pattern, ignoreCase ? 'i' : '');
  } catch (e) {
    throw new ToolError(`bad regular expression: ${(e as Error).message}`);
  }
  const starts = path ? [resolveInRoots(roots, path)] : roots.map((r) => ({ root: r, abs: r.dir, display: r.name }));
  const out: string[] = [];
  let chars = 0;
  let stopped = false;
  const searchFile = (abs: string, display: string) => {
    const bytes = readFileSync(abs);
    if (bytes.length > GREP_MAX_FILE_BYTES || isBinary(bytes)) return;
    const lines = bytes.toString('utf8').split('\n');
    for (let i = 0; i < lines.length && !stopped; i++) {
      if (!re.test(lines[i])) continue;
      const line = `${display}:${i + 1}: ${lines[i].trim().slice(0, 240)}`;
      if (out.length >= GREP_LIMIT_MATCHES || chars + line.length > GREP_LIMIT_CHARS) stopped = true;
      else out.push(line), (chars += line.length + 1);
    }
  };
  for (const start of starts) {
    if (stopped) break;
    if (!statSync(start.abs).isDirectory()) {
      searchFile(start.abs, start.display);
      continue;
    }
    walk(start.abs, true, (abs, isDir) => {
      if (stopped) return false;
      // walk() reports symlinks without following them; files are searched only when they are real files
      if (!isDir && lstatSync(abs).isFile()) searchFile(abs, [start.display, ...relative(start.abs, abs).split(sep)].join('/'));
      return true;
    });
  }
  if (stopped) out.push(`… (stopped at ${out.length} matches; narrow the pattern or the path)`);
  return out.join('\n') || 'no matches';
}
