// The kernel context every conversation starts with: the spec, the signature, reference, baseline, notes and
// the SIMD header. It is identical across requests and conversations of a run, so it is a prompt-cache block.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { prototypeHeader } from '../build/glue.js';
import { INCLUDE_DIR, type Kernel } from '../spec/suite.js';
import type { Root } from './research-tools.js';

function fenced(title: string, lang: string, text: string): string {
  return `## ${title}\n\`\`\`${lang}\n${text.trimEnd()}\n\`\`\`\n`;
}

export function kernelContext(kernel: Kernel, includeDir = INCLUDE_DIR): string {
  const read = (path: string) => readFileSync(path, 'utf8');
  const notes = join(kernel.dir, 'NOTES.md');
  const simd = join(includeDir, 'kb_simd.h');
  return [
    `# Kernel context: ${kernel.name}`,
    kernel.spec.description ? `${kernel.spec.description}\n` : '',
    fenced('Signature every candidate must define', 'c', prototypeHeader(kernel.spec)),
    fenced('Spec (kernel.json)', 'json', read(join(kernel.dir, 'kernel.json'))),
    fenced('Reference (ground truth, double accumulators)', 'c', read(kernel.referencePath)),
    fenced('Baseline (the original code; the code to beat is the current champion, named in the task)', 'c', read(kernel.baselinePath)),
    existsSync(notes) ? `## NOTES.md\n${read(notes)}\n` : '',
    existsSync(simd) ? fenced('kb_simd.h (include as "kb_simd.h")', 'c', read(simd)) : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export function describeRoots(roots: Root[]): string {
  return roots.map((r) => `- ${r.name}/  (${r.name === 'kernel' ? 'the kernel folder' : r.name === 'include' ? 'kernels/include' : 'research folder'})`).join('\n');
}
