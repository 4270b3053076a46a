// `kbench new`: a kernel folder that validates and passes `kbench screen` as soon as it is written, made from
// one of the templates (elementwise, row-reduce) and a NOTES.md to fill in.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSpec } from '../spec/load.js';
import { UsageError } from '../errors.js';
import { elementwiseKernel } from './elementwise.js';
import { rowReduceKernel } from './row-reduce.js';

/** relative path in the kernel folder → content */
export type KernelFiles = Record<string, string>;

/** The JSON Schema of kernel.json in this kbench's package. */
export const KERNEL_SCHEMA = fileURLToPath(new URL('../../schema/kernel.schema.json', import.meta.url));

export const TEMPLATES = { elementwise: elementwiseKernel, 'row-reduce': rowReduceKernel } as const;
export type TemplateName = keyof typeof TEMPLATES;

function notes(name: string, template: TemplateName): string {
  return `# ${name}

Scaffolded by \`kbench new ${name} --template ${template}\`. Replace the template's operation in kernel.json,
reference.c, baseline.c and candidates/, then keep these notes as the research record.

## What the kernel computes
- Signature, shapes that matter (decode- and prefill-sized), dtypes and tolerances, and why.

## Baseline
- Where today's production code lives (project, file, function, commit) and how it works.

## Techniques to try
- One line per idea, with the source it comes from (paper, other implementation, blog post).

## Results
- Link runs (\`kbench report <run-id>\`) and what was kept or discarded, with speedups and their CIs.

## Sources
-
`;
}

export interface ScaffoldOptions {
  kernelsDir: string;
  name: string;
  template?: TemplateName;
}

/** Writes kernels/<name>/ and returns its folder and the files written; refuses to touch an existing folder. */
export function scaffoldKernel({ kernelsDir, name, template = 'elementwise' }: ScaffoldOptions): { dir: string; files: string[] } {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new UsageError(`kernel name '${name}': use lower-case letters, digits and _ (a C identifier), starting with a letter`);
  if (!(template in TEMPLATES)) throw new UsageError(`--template: unknown template '${template}' (one of ${Object.keys(TEMPLATES).join(', ')})`);
  const dir = resolve(kernelsDir, name);
  if (existsSync(dir)) throw new UsageError(`${dir} already exists; pick another name or remove it`);
  const files: KernelFiles = { ...TEMPLATES[template](name), 'NOTES.md': notes(name, template) };
  // $schema first, relative to the folder, so an editor validates and completes kernel.json against this kbench
  const $schema = relative(dir, KERNEL_SCHEMA).split(sep).join('/');
  files['kernel.json'] = JSON.stringify({ $schema, ...JSON.parse(files['kernel.json']) }, null, 2) + '\n';
  // The template must produce a valid spec; checking before writing leaves no half-made folder behind.
  parseSpec(join(dir, 'kernel.json'), files['kernel.json']);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return { dir, files: Object.keys(files) };
}
