import type { Command } from 'commander';
import { listRuns } from '../../agent/runs.js';
import { table } from '../format.js';

export function register(program: Command): void {
  program
    .command('runs')
    .description('list past runs in .kbench/runs: kind, kernel, experiments, landed, best speedup, cost')
    .action((_o, cmd: Command) => {
      const runs = listRuns(process.cwd());
      if (cmd.optsWithGlobals().json) {
        process.stdout.write(JSON.stringify(runs, null, 2) + '\n');
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
        r.bestSpeedup === null ? '-' : `${r.bestSpeedup.toFixed(3)}×`,
        `$${r.costUsd.toFixed(4)}`,
      ]);
      process.stdout.write(table(['run', 'kind', 'kernel', 'status', 'experiments', 'landed', 'best', 'cost'], rows) + '\n');
    });
}
