// The graft: how a kernel's candidate replaces one function of ggml's CPU backend for the end-to-end measure. A
// kernel's kernel.json `graft` names the upstream file, the function and the sha256 of the function's original text;
// its graft.cpp holds a definition with the function's name that calls the candidate (`kbench_graft_<function>`,
// compiled as C) for the cases the spec covers and the original, renamed `<name>_upstream`, for the rest. Applying
// checks the fingerprint first, so a checkout where the code moved fails with one clear error instead of a build
// that silently measures something else.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { Kernel } from '../spec/suite.js';
import type { FlashAttn } from './llama-bench.js';

export interface GraftRecipe {
  kernel: string;
  /** the upstream file, relative to the source root: ggml/src/ggml-cpu/ops.cpp */
  file: string;
  /** the upstream function the graft replaces */
  function: string;
  /** sha256 of the function's original text (from its first declaration token to its closing brace) */
  sha256: string;
  /** graft.cpp: the replacement definition, inserted after the renamed original */
  replacementPath: string;
  /** environment both builds run under so ggml reaches the grafted path (e.g. fusion off) */
  env: Record<string, string>;
  /** flash attention for the logits check and llama-bench (-fa): 'off' where the op runs only without it */
  flashAttention: FlashAttn;
  /** what the candidate's entry point is renamed to (-D<spec function>=<this>) */
  candidateSymbol: string;
}

/** A graft that does not apply to this source: exit 2, with the file, function and fingerprints named. */
export class GraftMismatchError extends UsageError {}

/** The kernel's graft recipe, or null when the kernel has none. */
export function graftRecipe(kernel: Kernel): GraftRecipe | null {
  const g = kernel.spec.graft;
  if (!g) return null;
  const replacementPath = join(kernel.dir, g.source);
  if (!existsSync(replacementPath)) throw new UsageError(`${join(kernel.dir, 'kernel.json')}: graft.source names ${g.source}, which is missing`);
  return { kernel: kernel.name, file: g.file, function: g.function, sha256: g.sha256, replacementPath, env: g.env, flashAttention: g.flashAttention, candidateSymbol: graftSymbol(kernel.spec.function) };
}

export function graftSymbol(specFunction: string): string {
  return `kbench_graft_${specFunction}`;
}

/** Which characters of C/C++ text are code (not inside a comment, string or character literal). */
function codeMask(text: string): Uint8Array {
  const code = new Uint8Array(text.length);
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === '"' || c === "'") {
      // a ' between digits is a C++14 digit separator, not a literal
      if (c === "'" && /[0-9a-fA-F]/.test(text[i - 1] ?? '') && /[0-9a-fA-F]/.test(next ?? '')) {
        code[i++] = 1;
        continue;
      }
      i++;
      while (i < text.length && text[i] !== c && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
      i++;
    } else {
      code[i++] = 1;
    }
  }
  return code;
}

/** Index just past the bracket matching the one at `open` (code characters only), or -1. */
function matchBracket(text: string, code: Uint8Array, open: number, pair: string): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (!code[i]) continue;
    if (text[i] === pair[0]) depth++;
    else if (text[i] === pair[1] && --depth === 0) return i + 1;
  }
  return -1;
}

function skipBlank(text: string, code: Uint8Array, i: number): number {
  while (i < text.length && (!code[i] || /\s/.test(text[i]))) i++;
  return i;
}

export interface FoundFunction {
  /** first character of the definition (a `template <…>` line included) */
  start: number;
  /** where the name stands in the definition's header */
  nameAt: number;
  /** just past the closing brace */
  end: number;
  text: string;
}

/**
 * The definition of `name` at file scope: `name(` not inside a comment or literal, at brace depth 0, whose parameter
 * list is followed by `{`. Its text runs from the first token after the previous declaration to the matching brace.
 */
export function findFunction(text: string, name: string): FoundFunction | null {
  const code = codeMask(text);
  const depthAt = new Int32Array(text.length + 1);
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    depthAt[i] = depth;
    if (code[i] && text[i] === '{') depth++;
    else if (code[i] && text[i] === '}') depth--;
  }
  const pattern = new RegExp(`\\b${name.replace(/[^A-Za-z0-9_]/g, '')}\\s*\\(`, 'g');
  for (const m of text.matchAll(pattern)) {
    const at = m.index!;
    if (!code[at] || depthAt[at] !== 0) continue;
    const paramsEnd = matchBracket(text, code, at + m[0].length - 1, '()');
    if (paramsEnd < 0) continue;
    const body = skipBlank(text, code, paramsEnd);
    if (text[body] !== '{') continue;
    const end = matchBracket(text, code, body, '{}');
    if (end < 0) return null;
    let from = at;
    while (from > 0 && !(code[from - 1] && ';{}'.includes(text[from - 1]))) from--;
    // preprocessor lines between declarations are not part of the function
    let start = skipBlank(text, code, from);
    while (text[start] === '#') start = skipBlank(text, code, text.indexOf('\n', start) + 1);
    return { start, nameAt: at, end, text: text.slice(start, end) };
  }
  return null;
}

/** sha256 of a function's text, line endings normalized (a CRLF checkout fingerprints like an LF one). */
export function fingerprint(functionText: string): string {
  return createHash('sha256').update(functionText.replace(/\r\n/g, '\n')).digest('hex');
}

/**
 * The upstream file's text with the graft applied: the original renamed `<name>_upstream`, the replacement inserted
 * right after it (before any caller). `where` names the file in errors.
 */
export function applyGraft(text: string, recipe: GraftRecipe, replacement: string, where: string): string {
  const fn = findFunction(text, recipe.function);
  const fix = `the ${recipe.kernel} graft (${recipe.replacementPath}) needs updating for this source`;
  if (!fn) throw new GraftMismatchError(`${where}: no definition of ${recipe.function} (expected sha256 ${recipe.sha256}); ${fix}`);
  const found = fingerprint(fn.text);
  if (found !== recipe.sha256)
    throw new GraftMismatchError(`${where}: ${recipe.function} differs from the one the graft was written for (expected sha256 ${recipe.sha256}, found ${found}); ${fix}`);
  const renamed = `${text.slice(0, fn.nameAt)}${recipe.function}_upstream${text.slice(fn.nameAt + recipe.function.length, fn.end)}`;
  return `${renamed}\n\n// kbench graft (${recipe.kernel}): ${recipe.function} calls the candidate\n${replacement.trim()}\n${text.slice(fn.end)}`;
}
