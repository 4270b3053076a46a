import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scaffoldKernel, TEMPLATES, type TemplateName } from '../../src/scaffold/kernel-files.js';
import { loadKernel } from '../../src/spec/suite.js';

const dirs: string[] = [];
const kernelsDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'kbench-new-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('scaffolding a kernel', () => {
  it.each(Object.keys(TEMPLATES) as TemplateName[])('from the %s template gives a folder that loads as a kernel', (template) => {
    const { dir, files } = scaffoldKernel({ kernelsDir: kernelsDir(), name: 'foo', template });
    expect(files.sort()).toEqual(['NOTES.md', 'baseline.c', 'candidates/simd.c', 'kernel.json', 'reference.c']);
    const kernel = loadKernel(dir);
    expect(kernel.spec.name).toBe('foo');
    expect(kernel.spec.function).toBe('foo');
    expect(kernel.candidates.map((c) => c.name)).toEqual(['simd']);
    const candidate = readFileSync(kernel.candidates[0].path, 'utf8');
    expect(candidate).toContain('#include "kb_simd.h"');
    // Every C file defines the spec's function with the same parameter list.
    const signature = (file: string) => readFileSync(join(dir, file), 'utf8').match(/void foo\(([^)]*)\)/)?.[1];
    expect(new Set(['reference.c', 'baseline.c', 'candidates/simd.c'].map(signature)).size).toBe(1);
    expect(readFileSync(join(dir, 'NOTES.md'), 'utf8')).toMatch(/^# foo\n/);
  });

  it('names the JSON Schema of kernel.json as $schema, by a path from the folder that reaches it', () => {
    const { dir } = scaffoldKernel({ kernelsDir: kernelsDir(), name: 'foo' });
    const spec = JSON.parse(readFileSync(join(dir, 'kernel.json'), 'utf8'));
    expect(Object.keys(spec)[0]).toBe('$schema');
    expect(JSON.parse(readFileSync(join(dir, spec.$schema), 'utf8')).title).toMatch(/kbench kernel spec/);
  });

  it('refuses a name that is not a C identifier, an unknown template, and an existing folder', () => {
    const root = kernelsDir();
    expect(() => scaffoldKernel({ kernelsDir: root, name: 'Foo-1' })).toThrow(/kernel name 'Foo-1'/);
    expect(() => scaffoldKernel({ kernelsDir: root, name: 'foo', template: 'gemm' as TemplateName })).toThrow(/unknown template 'gemm'/);
    scaffoldKernel({ kernelsDir: root, name: 'foo' });
    expect(() => scaffoldKernel({ kernelsDir: root, name: 'foo' })).toThrow(/already exists/);
  });
});
