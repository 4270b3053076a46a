// A suite is a folder of kernel folders (kernels/<name>/kernel.json + reference.c + baseline.c + candidates/*.c).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSpec } from './load.js';
import type { KernelSpec } from './schema.js';
import { UsageError } from '../errors.js';

export interface Kernel {
  name: string;
  dir: string;
  spec: KernelSpec;
  referencePath: string;
  baselinePath: string;
  /** candidate name (file stem) → path */
  candidates: { name: string; path: string }[];
}

/** The suite shipped with kbench. */
export const BUILTIN_KERNELS_DIR = fileURLToPath(new URL('../../kernels', import.meta.url));
/** kb_simd.h and friends, on the include path of every build. */
export const INCLUDE_DIR = join(BUILTIN_KERNELS_DIR, 'include');

export function loadKernel(dir: string): Kernel {
  const specPath = join(dir, 'kernel.json');
  if (!existsSync(specPath)) throw new UsageError(`${dir}: no kernel.json (not a kernel folder)`);
  const spec = loadSpec(specPath);
  const need = (file: string) => {
    const path = join(dir, file);
    if (!existsSync(path)) throw new UsageError(`${dir}: missing ${file}`);
    return path;
  };
  const candidatesDir = join(dir, 'candidates');
  const candidates = existsSync(candidatesDir)
    ? readdirSync(candidatesDir)
        .filter((f) => f.endsWith('.c'))
        .sort()
        .map((f) => ({ name: f.slice(0, -2), path: join(candidatesDir, f) }))
    : [];
  return { name: spec.name, dir, spec, referencePath: need('reference.c'), baselinePath: need('baseline.c'), candidates };
}

export function loadSuite(kernelsDir: string): Kernel[] {
  const root = resolve(kernelsDir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`${kernelsDir}: no such kernels folder`);
  return readdirSync(root)
    .filter((d) => d !== 'include' && existsSync(join(root, d, 'kernel.json')))
    .sort()
    .map((d) => loadKernel(join(root, d)));
}

export function findKernel(kernelsDir: string, name: string): Kernel {
  const direct = resolve(kernelsDir, name);
  if (existsSync(join(direct, 'kernel.json'))) return loadKernel(direct);
  const found = loadSuite(kernelsDir).find((k) => k.name === name || basename(k.dir) === name);
  if (!found) throw new UsageError(`unknown kernel '${name}' in ${kernelsDir} (see \`kbench list\`)`);
  return found;
}
