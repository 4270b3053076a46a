import type { Command } from 'commander';
import { listRuns } from '../../agent/runs.js';
import { table, jsonOutput } from '../format.js';

export function register(program: Command): void {
  program
    .command('runs')
    .description('list past runs in .kbench/runs: kind, kernel, experiments, landed, best speedup, cost')
    .addHelpText(
      'after',
      [
        '',
        'Columns: "best ×" is the speedup over the baseline of the run\'s best candidate, as a geometric mean of its',
        'estimates over the bench shapes (agent runs: the final champion over the original baseline, wins multiplied);',
        '"-" when nothing was timed. "landed" is the number of kept experiments (agent runs only).',
        '',
        'Examples:',
        '  kbench runs',
        '  kbench runs --json                              every run as kbench.runs/1',
        '  kbench report $(kbench runs --json | jq -r ".runs[-1].id") --html --out last.html',
      ].join('\n'),
    )
    .action((_o, cmd: Command) => {
      const runs = listRuns(process.cwd());
      if (cmd.optsWithGlobals().json) {
        process.stdout.write(jsonOutput('runs', { runs }));
        return;
      }
      if (!runs.length) {
        process.stdout.write('no runs yet (.kbench/runs is empty)\n');
        return;
      }
      const rows = runs.map((r) => [
        r.id,
        r.kind,
        r.kernel,
        r.status,
        String(r.experiments),
        r.landed === null ? '-' : String(r.landed),
        typeof r.bestSpeedup === 'number' && Number.isFinite(r.bestSpeedup) ? `${r.bestSpeedup.toFixed(3)}×` : '-',
        `$${r.costUsd.toFixed(4)}`,
      ]);
      process.stdout.write(table(['run', 'kind', 'kernel', 'status', 'experiments', 'landed', 'best ×', 'cost'], rows) + '\n');
    });
}
