import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { grep, GREP_LIMIT_MATCHES, listFiles, makeRoots, READ_LIMIT_CHARS, readFile, type Root } from '../../src/agent/research-tools.js';

let base: string;
let roots: Root[];

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'kbench-roots-'));
  const kernel = join(base, 'kernel');
  const include = join(base, 'include');
  const fork = join(base, 'llama.cpp');
  for (const d of [kernel, include, join(fork, 'ggml'), join(base, 'outside')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(kernel, 'kernel.json'), '{"name": "k"}\n');
  writeFileSync(join(include, 'kb_simd.h'), '#define KB_LANES 4\n');
  writeFileSync(join(fork, 'ggml', 'ops.c'), 'static void rms_norm_f32(void) {\n  ggml_float sum = 0.0;\n}\n');
  writeFileSync(join(fork, 'big.txt'), Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(40)}`).join('\n'));
  writeFileSync(join(fork, 'many.txt'), Array.from({ length: 1000 }, () => 'needle').join('\n'));
  writeFileSync(join(base, 'outside', 'secret.txt'), 'secret\n');
  symlinkSync(join(base, 'outside'), join(fork, 'escape-dir'));
  symlinkSync(join(base, 'outside', 'secret.txt'), join(fork, 'escape-file'));
  symlinkSync(join(fork, 'ggml', 'ops.c'), join(fork, 'inside-link.c'));
  roots = makeRoots(kernel, include, [fork]);
});

describe('research tools stay inside their roots', () => {
  it('names the roots after their folders', () => {
    expect(roots.map((r) => r.name)).toEqual(['kernel', 'include', 'llama.cpp']);
    expect(listFiles(roots, undefined, false)).toBe('kernel/\ninclude/\nllama.cpp/');
  });

  it('refuses ".." even when it would land back inside', () => {
    expect(() => readFile(roots, 'kernel/../kernel/kernel.json')).toThrow(/'\.\.' is refused/);
    expect(() => readFile(roots, 'llama.cpp/../../outside/secret.txt')).toThrow(/'\.\.' is refused/);
    expect(() => listFiles(roots, 'kernel/..', false)).toThrow(/'\.\.' is refused/);
  });

  it('refuses absolute paths', () => {
    expect(() => readFile(roots, join(base, 'outside', 'secret.txt'))).toThrow(/absolute paths are refused/);
    expect(() => readFile(roots, '/etc/passwd')).toThrow(/absolute paths are refused/);
    expect(() => grep(roots, 'root', '/etc', false)).toThrow(/absolute paths are refused/);
  });

  it('refuses symlinks that point out of the root, for files and folders', () => {
    expect(() => readFile(roots, 'llama.cpp/escape-file')).toThrow(/symlink that leaves the root/);
    expect(() => listFiles(roots, 'llama.cpp/escape-dir', false)).toThrow(/symlink that leaves the root/);
    expect(() => readFile(roots, 'llama.cpp/escape-dir/secret.txt')).toThrow(/symlink that leaves the root/);
  });

  it('follows a symlink that stays inside the root', () => {
    expect(readFile(roots, 'llama.cpp/inside-link.c')).toContain('ggml_float sum');
  });

  it('does not search through symlinks that leave the root', () => {
    expect(grep(roots, 'secret', undefined, false)).toBe('no matches');
  });

  it('refuses unknown roots and names the known ones', () => {
    expect(() => readFile(roots, 'etc/passwd')).toThrow(/unknown root 'etc'.*kernel, include, llama\.cpp/);
  });
});

describe('research tools answer in bounded sizes', () => {
  it('reads with line numbers and says where to continue', () => {
    const out = readFile(roots, 'llama.cpp/big.txt', 10, 5);
    expect(out.split('\n')[0]).toBe('llama.cpp/big.txt: lines 10–14 of 5000; continue with start_line 15');
    expect(out).toContain('line 9 ');
  });

  it('cuts a long read at the character limit', () => {
    const out = readFile(roots, 'llama.cpp/big.txt');
    expect(out.length).toBeLessThan(READ_LIMIT_CHARS + 200);
    expect(out).toMatch(/continue with start_line \d+/);
  });

  it('greps with path:line answers and stops at the match limit', () => {
    expect(grep(roots, 'ggml_float', 'llama.cpp', false)).toBe('llama.cpp/ggml/ops.c:2: ggml_float sum = 0.0;');
    const many = grep(roots, 'needle', 'llama.cpp/many.txt', false).split('\n');
    expect(many).toHaveLength(GREP_LIMIT_MATCHES + 1);
    expect(many.at(-1)).toMatch(/stopped at 150 matches/);
  });

  it('reports a bad regular expression as a tool error', () => {
    expect(() => grep(roots, '(unclosed', undefined, false)).toThrow(/bad regular expression/);
  });

  it('lists folders recursively with sizes', () => {
    const out = listFiles(roots, 'llama.cpp', true);
    expect(out).toContain('llama.cpp/ggml/');
    expect(out).toMatch(/llama\.cpp\/ggml\/ops\.c {2}\(\d+ bytes\)/);
  });
});

describe('list_files shows symlinks as symlinks', () => {
  it('names the target and whether the read tools follow it', () => {
    const out = listFiles(roots, 'llama.cpp', false).split('\n');
    expect(out).toContain(`llama.cpp/escape-dir -> ${join(base, 'outside')}  (symlink leaving the roots: refused)`);
    expect(out).toContain(`llama.cpp/escape-file -> ${join(base, 'outside', 'secret.txt')}  (symlink leaving the roots: refused)`);
    expect(out).toContain(`llama.cpp/inside-link.c -> ${join(base, 'llama.cpp', 'ggml', 'ops.c')}  (symlink to a file inside the root: llama.cpp/ggml/ops.c)`);
    // a link is not shown with a size (it used to be listed as a file of the link's own size)
    expect(out.filter((l) => l.includes('escape') || l.includes('inside-link')).join('\n')).not.toMatch(/bytes/);
  });

  it('says when a link resolves into another root, which the tools refuse through this one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kbench-roots-'));
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    writeFileSync(join(dir, 'b', 'f.c'), 'x\n');
    symlinkSync(join(dir, 'b', 'f.c'), join(dir, 'a', 'link.c'));
    symlinkSync(join(dir, 'b', 'gone.c'), join(dir, 'a', 'broken.c'));
    const r = makeRoots(join(dir, 'a'), join(dir, 'b'), []);
    const out = listFiles(r, 'kernel', false).split('\n');
    expect(out).toContain(`kernel/link.c -> ${join(dir, 'b', 'f.c')}  (symlink leaving the root 'kernel': refused; read it as include/f.c)`);
    expect(out).toContain(`kernel/broken.c -> ${join(dir, 'b', 'gone.c')}  (symlink, broken)`);
    expect(() => readFile(r, 'kernel/link.c')).toThrow(/symlink that leaves the root/);
  });
});
