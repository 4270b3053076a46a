import type { Command } from 'commander';
import { loadSuite } from '../../spec/suite.js';
import { resolveKernelsDir } from '../../config/config.js';
import { shapeCases } from '../../check/inputs.js';
import { table, jsonOutput } from '../format.js';

export function register(program: Command): void {
  program
    .command('list')
    .description('kernels of the suite, their candidates and shapes')
    .addHelpText('after', '\nExamples:\n  kbench list\n  kbench list --kernels ./my-kernels --json')
    .action((_o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const dir = resolveKernelsDir(process.cwd(), g.kernels);
      const kernels = loadSuite(dir).map((k) => ({
        name: k.name,
        dir: k.dir,
        description: k.spec.description,
        function: k.spec.function,
        threads: k.spec.threads?.counts ?? null,
        candidates: k.candidates.map((c) => c.name),
        checkShapes: shapeCases(k.spec, 'check').map((s) => s.name),
        benchShapes: shapeCases(k.spec, 'bench').map((s) => s.name),
        distributions: Object.keys(k.spec.distributions),
      }));
      if (g.json) return void process.stdout.write(jsonOutput('list', { kernelsDir: dir, kernels }));
      process.stdout.write(
        `kernels in ${dir}\n\n` +
          table(
            ['kernel', 'candidates', 'check shapes', 'bench shapes', 'threads'],
            kernels.map((k) => [k.name, k.candidates.join(', ') || '(none)', String(k.checkShapes.length), k.benchShapes.join('; '), k.threads ? k.threads.join(',') : '—']),
          ),
      );
    });
}
