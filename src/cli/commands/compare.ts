// `kbench compare <runA> <runB>`: each benchmark both runs timed, B against A, with a CI and a p-value.
import type { Command } from 'commander';
import { compareRuns } from '../../report/compare.js';
import { loadReportModel, resolveRunDir } from '../../report/index.js';
import { renderComparisonMarkdown } from '../../report/markdown.js';
import { addSetting } from '../settings.js';

export function register(program: Command): void {
  const cmd = program
    .command('compare <runA> <runB>')
    .description('compare two runs benchmark by benchmark: ratio of median times with a bootstrap CI and a Mann–Whitney p-value');
  addSetting(cmd, 'noiseFloor');
  cmd
    .addHelpText(
      'after',
      [
        '',
        'Runs are ids under .kbench/runs or run folders. Speedup > 1 means run B is faster.',
        '',
        'Examples:',
        '  kbench compare 20261127-061530-3fa2 20261127-093012-b7c1',
        '  kbench compare .kbench/runs/A .kbench/runs/B --json',
      ].join('\n'),
    )
    .action((runA: string, runB: string, o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const noiseFloor: number = o.noiseFloor;
      const workDir = process.cwd();
      const comparison = compareRuns(loadReportModel(resolveRunDir(workDir, runA)), loadReportModel(resolveRunDir(workDir, runB)), { noiseFloor });
      process.stdout.write(g.json ? JSON.stringify(comparison, null, 2) + '\n' : renderComparisonMarkdown(comparison));
    });
}
