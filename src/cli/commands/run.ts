// `kbench run <kernel> --on <host>`: native build, check and timing of the baseline against candidates on one host.
import type { Command } from 'commander';
import { loadConfig, resolveKernelsDir, resolveUpstreamSpec } from '../../config/config.js';
import { findHosts } from '../../remote/hosts.js';
import { runNativeRecorded } from '../../remote/native-run.js';
import { selectCandidates } from '../../screen/run.js';
import { findKernel } from '../../spec/suite.js';
import { createProgress } from '../progress.js';
import { fraction, integer } from '../options.js';
import { renderNative } from './native-render.js';

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
    .option('--upstream [dir]', 'also time the real ggml op (the pinned npm source, "ggml" of kbench.config.json, or a llama.cpp checkout DIR): adds "vs upstream"')
    .option('--upstream-copies <n>', 'ops per ggml graph call of the upstream variant', integer('--upstream-copies', 1), 16)
    .addHelpText('after', '\nExamples:\n  kbench run softmax --on local\n  kbench run softmax --on local --upstream\n  kbench run rms_norm --on local --upstream ~/src/llama.cpp')
    .action(async (kernelName: string, o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const workDir = process.cwd();
      const kernel = findKernel(resolveKernelsDir(workDir, g.kernels), kernelName);
      const [found] = findHosts(workDir, [o.on]);
      const host = o.marchNative ? { ...found, marchNative: true } : found;
      const sources = selectCandidates(kernel, o.candidate, workDir);
      if (o.upstream && !kernel.spec.upstream) process.stderr.write(`kbench: ${kernel.name} has no upstream adapter (kernel.json "upstream"): timed without "vs upstream"\n`);
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
          // on a remote host DIR is a checkout there (built there), taken as written
          ...(o.upstream ? { upstream: host.executor === 'local' ? resolveUpstreamSpec(workDir, o.upstream) : typeof o.upstream === 'string' ? o.upstream : (loadConfig(workDir).ggml ?? true), upstreamCopies: o.upstreamCopies } : {}),
          signal: controller.signal,
          argv: process.argv.slice(2),
          onEvent: (e) => {
            if (e.type === 'stage') progress.update(`${host.name}: ${e.candidate} ${e.stage === 'build' ? 'building' : 'checking and timing'}`);
          },
        });
        progress.stop();
        if (run.interrupted) {
          process.stderr.write(`kbench: interrupted; nothing left running on the host; finished results are in ${run.dir}\n`);
          process.exitCode = 130;
          return;
        }
        const { results } = run;
        process.stdout.write(g.json ? JSON.stringify({ run: run.id, dir: run.dir, results }, null, 2) + '\n' : renderNative(results) + `\nrun ${run.id} saved in ${run.dir}\nreport: ${run.reports.htmlPath}\n`);
        if (results.some((r) => r.hostFailure)) process.exitCode = 1;
      } finally {
        progress.stop();
        process.off('SIGINT', onSigint);
      }
    });
}
