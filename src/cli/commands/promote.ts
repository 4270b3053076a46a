// `kbench promote --on a,b [--run <id>]`: survivors of a screen run natively on those hosts, in parallel.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveKernelsDir } from '../../config/config.js';
import { LEDGER_FILE, listRunFolders, readLedger, runsDir } from '../../ledger/ledger.js';
import { findHosts } from '../../remote/hosts.js';
import { DEFAULT_MARGIN, promote } from '../../remote/promote.js';
import { UsageError } from '../../errors.js';
import { createProgress } from '../progress.js';
import { renderNative } from './native-render.js';
import { fraction, integer } from '../options.js';
import { exits } from '../exit.js';
import { EXIT } from '../../errors.js';
import { writeRunReports } from '../../report/index.js';

/** The newest run folder whose ledger starts as a screen. */
function latestScreenRun(workDir: string): string {
  const run = listRunFolders(workDir)
    .reverse()
    .find((r) => readLedger(r.ledgerFile).some((e) => e.type === 'run-start' && e.kind === 'screen'));
  if (!run) throw new UsageError(`no screen run in ${runsDir(workDir)}: run \`kbench screen\` first, or pass --run <id>`);
  return run.dir;
}

export function register(program: Command): void {
  program
    .command('promote')
    .description('run the survivors of a WASM screen natively on hosts, in parallel; results go to that run\'s ledger')
    .requiredOption('--on <hosts>', 'comma-separated host names')
    .option('--run <id>', 'screen run id or folder (default: the latest screen run)')
    .option('--margin <fraction>', 'promote unless WASM is slower than 1 − margin on every bench shape', fraction('--margin'), DEFAULT_MARGIN)
    .option('--threads <n>', 'nth when timing threaded kernels', integer('--threads', 1))
    .option('--pairs <n>', 'interleaved baseline/candidate pairs per bench shape (≥ 9)', integer('--pairs', 9), 21)
    .option('--noise-floor <fraction>', 'speedups within ±this are no-change', fraction('--noise-floor'), 0.02)
    .action(exits(async (o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const workDir = process.cwd();
      const hosts = findHosts(workDir, String(o.on).split(',').map((s) => s.trim()).filter(Boolean));
      const runDir = o.run ? (existsSync(resolve(workDir, o.run)) ? resolve(workDir, o.run) : join(runsDir(workDir), o.run)) : latestScreenRun(workDir);
      if (!existsSync(join(runDir, LEDGER_FILE))) throw new UsageError(`--run ${o.run}: no such run (${runDir})`);
      const progress = createProgress({ json: !!g.json });
      const controller = new AbortController();
      const onSigint = () => controller.abort();
      process.once('SIGINT', onSigint);
      try {
        const summary = await promote(runDir, hosts, {
          kernelsDir: resolveKernelsDir(workDir, g.kernels),
          marginFraction: o.margin,
          native: { threads: o.threads, pairs: o.pairs, noiseFloor: o.noiseFloor },
          signal: controller.signal,
          onEvent: (e) => {
            if (e.type === 'experiment') progress.update(`${e.host}: ${e.kernel}/${e.candidate}${e.attempt > 1 ? ' (retry)' : ''}`);
            if (e.type === 'retry') progress.update(`${e.kernel}/${e.candidate}: ${e.from} failed (${e.reason}); retrying on another host of its arch`);
          },
        });
        progress.stop();
        // the screen's reports are rewritten so they show the native results beside the WASM ones
        writeRunReports(runDir);
        if (g.json) {
          process.stdout.write(JSON.stringify({ run: runDir, ...summary }, null, 2) + '\n');
        } else {
          const rejected = summary.rejected.map((r) => `  ${r.kernel}/${r.candidate}: ${r.reason}`).join('\n');
          process.stdout.write(renderNative(summary.results) + (rejected ? `\nnot promoted:\n${rejected}\n` : '') + `\nresults appended to ${join(runDir, LEDGER_FILE)}\n`);
        }
        if (summary.interrupted) {
          process.stderr.write('kbench: interrupted; finished results are in the ledger, nothing left running on the hosts\n');
          return EXIT.aborted;
        }
      } finally {
        progress.stop();
        process.off('SIGINT', onSigint);
      }
    }));
}
