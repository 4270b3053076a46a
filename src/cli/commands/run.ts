// `kbench run <kernel> --on <host>`: native build, check and timing of the baseline against candidates on one host.
import type { Command } from 'commander';
import { resolveKernelsDir } from '../../config/config.js';
import { findHosts } from '../../remote/hosts.js';
import { runNativeRecorded } from '../../remote/native-run.js';
import { writeRunReports } from '../../report/index.js';
import { selectCandidates } from '../../screen/run.js';
import { findKernel } from '../../spec/suite.js';
import { createProgress } from '../progress.js';
import { fraction, integer } from '../options.js';
import { renderNative } from './native-render.js';
import { exits } from '../exit.js';
import { EXIT } from '../../errors.js';

export function register(program: Command): void {
  program
    .command('run <kernel>')
    .description('build, check and time the baseline against candidates natively on one host')
    .requiredOption('--on <host>', 'host name (local, qemu-aarch64, or one of kbench.config.json)')
    .option('-c, --candidate <name|file.c>', 'one candidate of the kernel, or a C file outside the suite')
    .option('--threads <n>', 'nth when timing threaded kernels', integer('--threads', 1))
    .option('--pairs <n>', 'interleaved baseline/candidate pairs per bench shape (≥ 9)', integer('--pairs', 9), 21)
    .option('--sample-ms <ms>', 'minimum duration of one timed batch (a sample is the best of 5)', Number, 0.5)
    .option('--noise-floor <fraction>', 'speedups within ±this are no-change', fraction('--noise-floor'), 0.02)
    .option('--march-native', 'build with -march=native (x86) instead of -mavx2 -mfma')
    .option('--check-only', 'check correctness, do not time')
    .option('--seed <n>', 'seed for inputs and bootstrap', integer('--seed', 0), 1)
    .action(exits(async (kernelName: string, o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const workDir = process.cwd();
      const kernel = findKernel(resolveKernelsDir(workDir, g.kernels), kernelName);
      const [found] = findHosts(workDir, [o.on]);
      const host = o.marchNative ? { ...found, marchNative: true } : found;
      const sources = selectCandidates(kernel, o.candidate, workDir);
      const progress = createProgress({ json: !!g.json });
      const controller = new AbortController();
      const onSigint = () => controller.abort();
      process.once('SIGINT', onSigint);
      try {
        const run = await runNativeRecorded(workDir, kernel, sources, host, {
          threads: o.threads,
          pairs: o.pairs,
          minSampleMs: o.sampleMs,
          noiseFloor: o.noiseFloor,
          seed: o.seed,
          skipTiming: !!o.checkOnly,
          signal: controller.signal,
          argv: process.argv.slice(2),
          onEvent: (e) => {
            if (e.type === 'stage') progress.update(`${host.name}: ${e.candidate} ${e.stage === 'build' ? 'building' : 'checking and timing'}`);
          },
        });
        progress.stop();
        const reports = writeRunReports(run.dir);
        if (run.interrupted) {
          process.stderr.write(`kbench: interrupted; nothing left running on the host; finished results are in ${run.dir}\n`);
          return EXIT.aborted;
        }
        const { results } = run;
        process.stdout.write(g.json ? JSON.stringify({ run: run.id, dir: run.dir, results }, null, 2) + '\n' : renderNative(results) + `\nrun ${run.id} saved in ${run.dir}\nreport: ${reports.htmlPath}\n`);
        return results.some((r) => r.hostFailure) ? EXIT.internal : EXIT.ok;
      } finally {
        progress.stop();
        process.off('SIGINT', onSigint);
      }
    }));
}
