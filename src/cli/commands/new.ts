// `kbench new <kernel>`: scaffold a kernel folder that `kbench screen` passes right away.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { resolveKernelsDir } from '../../config/config.js';
import { BUILTIN_KERNELS_DIR } from '../../spec/suite.js';
import { scaffoldKernel, TEMPLATES, type TemplateName } from '../../scaffold/kernel-files.js';
import { jsonOutput } from '../format.js';

export function register(program: Command): void {
  program
    .command('new <kernel>')
    .description('scaffold kernels/<kernel>/: kernel.json, reference.c, baseline.c, candidates/simd.c (kb_simd.h) and NOTES.md')
    .option('--template <name>', `${Object.keys(TEMPLATES).join(' | ')}`, 'elementwise')
    .addHelpText(
      'after',
      [
        '',
        'Templates: elementwise (y = x * scale + shift) or row-reduce (y[r] = sum of row r, split across threads).',
        'The folder goes into --kernels, else the "kernels" folder of kbench.config.json, else ./kernels of the',
        'current directory (never the installed package\'s built-in suite). Screen it with the same --kernels, or set',
        '"kernels" in kbench.config.json.',
        '',
        'Examples:',
        '  kbench new gelu --kernels ./kernels && kbench screen gelu --kernels ./kernels',
        '  kbench new row_max --template row-reduce',
      ].join('\n'),
    )
    .action((kernel: string, o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const kernelsDir = resolveKernelsDir(process.cwd(), g.kernels);
      // outside a project the built-in suite is the installed package: a new kernel goes to ./kernels instead
      const target = kernelsDir === BUILTIN_KERNELS_DIR ? resolve('kernels') : kernelsDir;
      const { dir, files } = scaffoldKernel({ kernelsDir: target, name: kernel, template: o.template as TemplateName });
      process.stdout.write(
        g.json
          ? jsonOutput('new', { kernel, dir, files })
          : `created ${dir}\n${files.map((f) => `  ${f}\n`).join('')}next: kbench screen ${kernel}${g.kernels ? ` --kernels ${g.kernels}` : target !== kernelsDir ? ' --kernels kernels' : ''}\n`,
      );
    });
}
