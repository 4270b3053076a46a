// The graft recipes: found by signature and brace matching, fingerprinted, applied to the pinned llama.cpp source,
// and refused with one clear error (file, function, expected and found sha256) where the code moved or changed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cParams } from '../../src/build/glue.js';
import { graftedText } from '../../src/e2e/build.js';
import { applyGraft, findFunction, fingerprint, GraftMismatchError, graftRecipe, type GraftRecipe } from '../../src/e2e/graft.js';
import { localE2e } from '../../src/e2e/host.js';
import { EXIT, exitCodeOf } from '../../src/errors.js';
import type { ScalarParam } from '../../src/spec/schema.js';
import { BUILTIN_KERNELS_DIR, findKernel, loadSuite } from '../../src/spec/suite.js';
import { fetchedUpstream, type UpstreamSource } from '../../src/upstream/source.js';

const graftedSource = (source: UpstreamSource, recipe: GraftRecipe) => graftedText(localE2e(), source, recipe);

const rmsNorm = graftRecipe(findKernel(BUILTIN_KERNELS_DIR, 'rms_norm'))!;
const pinned = fetchedUpstream();
const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A copy of the pinned tree's grafted file under a temp root, edited by `edit`. */
function movedCopy(source: UpstreamSource, edit: (text: string) => string): UpstreamSource {
  const root = mkdtempSync(join(tmpdir(), 'kbench-graft-'));
  temps.push(root);
  const file = join(root, rmsNorm.file);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, edit(readFileSync(join(source.dir, rmsNorm.file), 'utf8')));
  return { ...source, origin: root, dir: root };
}

describe('finding a function', () => {
  const text = [
    '// static void f(int x) { in a comment }',
    'static const char * s = "f(1) {";',
    'void g() { f(2); }',
    'template <int N>',
    'static void f(',
    '        int x) {',
    "    if (x) { char c = '}'; int big = 1'000; }",
    '    /* } */',
    '}',
    'void h() { f<1>(3); }',
  ].join('\n');

  it('takes the definition at file scope, template line included, skipping comments, strings and calls', () => {
    const fn = findFunction(text, 'f')!;
    expect(fn.text.startsWith('template <int N>\nstatic void f(')).toBe(true);
    expect(fn.text.endsWith('/* } */\n}')).toBe(true);
  });

  it('renames the original and inserts the replacement before its callers', () => {
    const recipe = { ...rmsNorm, function: 'f', sha256: fingerprint(findFunction(text, 'f')!.text) };
    const out = applyGraft(text, recipe, 'static void f(int x) { f_upstream(x); }', 'x.cpp');
    expect(out).toContain('static void f_upstream(\n');
    expect(out.indexOf('static void f(int x) { f_upstream(x); }')).toBeLessThan(out.indexOf('void h()'));
    expect(out.indexOf('static void f(int x) { f_upstream(x); }')).toBeGreaterThan(out.indexOf('f_upstream('));
  });

  it('finds nothing where the name is only declared or called', () => {
    expect(findFunction('void f(int);\nvoid g() { f(1); }\n', 'f')).toBeNull();
  });
});

describe('every shipped graft', () => {
  it('names a file, a function, a fingerprint and a replacement that defines the function and calls the candidate', () => {
    const grafted = loadSuite(BUILTIN_KERNELS_DIR).filter((k) => k.spec.graft);
    expect(grafted.map((k) => k.name)).toEqual(expect.arrayContaining(['rms_norm', 'rms_norm_mul', 'softmax']));
    for (const k of grafted) {
      const r = graftRecipe(k)!;
      const replacement = readFileSync(r.replacementPath, 'utf8');
      expect(findFunction(replacement, r.function), k.name).not.toBeNull();
      expect(replacement, k.name).toContain(`${r.candidateSymbol}(`);
      expect(replacement, k.name).toContain(`${r.function}_upstream`);
      // graft.cpp declares the candidate with the spec's parameter types, in order
      const declared = new RegExp(`extern "C" void ${r.candidateSymbol}\\(([^)]*)\\)`).exec(replacement)?.[1];
      const types = (list: string[]) => list.map((d) => d.trim().replace(/\w+$/, '').replace(/\s+/g, ''));
      expect(types(declared!.split(',')), k.name).toEqual(types(cParams(k.spec).map((p) => p.decl)));
    }
  });
});

describe('the rms_norm_mul graft', () => {
  const kernel = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm_mul');
  const recipe = graftRecipe(kernel)!;
  const replacement = readFileSync(recipe.replacementPath, 'utf8');

  it('replaces the fused RMS_NORM+MUL entry and needs no environment, so its reference is stock llama.cpp', () => {
    expect(recipe.function).toBe('ggml_compute_forward_rms_norm_mul_fused');
    expect(recipe.env).toEqual({});
    expect(recipe.flashAttention).toBe('auto');
  });

  it("falls back outside the eps range of the kernel's spec", () => {
    const eps = kernel.spec.params.find((p): p is ScalarParam => p.kind === 'scalar' && p.name === 'eps');
    const bound = (which: string) => Number(new RegExp(`kbench_graft_eps_${which} = ([0-9.e+-]+)f;`).exec(replacement)?.[1]);
    expect(eps?.range).toMatchObject({ min: bound('min'), max: bound('max') });
    expect(replacement).toMatch(/eps >= kbench_graft_eps_min && eps <= kbench_graft_eps_max/);
  });
});

describe.skipIf(!pinned)('grafts on the pinned llama.cpp source', () => {
  it('apply: the original is renamed, the replacement follows it, the rest of the file is unchanged', async () => {
    for (const name of ['rms_norm', 'rms_norm_mul', 'softmax']) {
      const recipe = graftRecipe(findKernel(BUILTIN_KERNELS_DIR, name))!;
      const original = readFileSync(join(pinned!.dir, recipe.file), 'utf8');
      const out = await graftedSource(pinned!, recipe);
      expect(findFunction(out, `${recipe.function}_upstream`), name).not.toBeNull();
      expect(fingerprint(findFunction(out, recipe.function)!.text), name).toBe(fingerprint(findFunction(readFileSync(recipe.replacementPath, 'utf8'), recipe.function)!.text));
      const fn = findFunction(original, recipe.function)!;
      expect(out.startsWith(original.slice(0, fn.nameAt)), name).toBe(true);
      expect(out.endsWith(original.slice(fn.end)), name).toBe(true);
    }
  });

  it('refuses a checkout where the function changed, naming the file, the function and both fingerprints (exit 2)', async () => {
    const changed = movedCopy(pinned!, (t) => t.replace('const float scale = 1.0f/sqrtf(mean + eps);', 'const float scale = 1.0f/sqrtf(mean + 2*eps);'));
    const found = fingerprint(findFunction(readFileSync(join(changed.dir, rmsNorm.file), 'utf8'), rmsNorm.function)!.text);
    let error: unknown;
    try {
      await graftedSource(changed, rmsNorm);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GraftMismatchError);
    expect(exitCodeOf(error)).toBe(EXIT.usage);
    const message = (error as Error).message;
    expect(message).toContain(join(changed.dir, rmsNorm.file));
    expect(message).toContain(rmsNorm.function);
    expect(message).toContain(`expected sha256 ${rmsNorm.sha256}`);
    expect(message).toContain(`found ${found}`);
  });

  it('refuses a checkout where the function moved to another file', async () => {
    const moved = movedCopy(pinned!, (t) => t.replaceAll('ggml_compute_forward_rms_norm_f32', 'ggml_compute_forward_rms_norm_impl'));
    await expect(graftedSource(moved, rmsNorm)).rejects.toThrow(new RegExp(`${moved.dir}/${rmsNorm.file}: no definition of ${rmsNorm.function} \\(expected sha256 ${rmsNorm.sha256}\\)`));
  });

  it('accepts a checkout where the function only moved within its file (its own text unchanged)', async () => {
    const shifted = movedCopy(pinned!, (t) => `// a new line above everything\n\n${t}`);
    await expect(graftedSource(shifted, rmsNorm)).resolves.toContain(`${rmsNorm.function}_upstream`);
  });
});
