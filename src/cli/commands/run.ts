// `kbench run <kernel> --on <host>`: native build, check and timing of the baseline against candidates on one host.
import type { Command } from 'commander';
import { loadConfig, resolveKernelsDir, resolveUpstreamSpec } from '../../config/config.js';
import { findHosts } from '../../remote/hosts.js';
import { runNativeRecorded } from '../../remote/native-run.js';
import { DEFAULT_UPSTREAM_COPIES, nativeUpstream } from '../../upstream/native.js';
import { writeRunReports } from '../../report/index.js';
import { selectCandidates } from '../../screen/run.js';
import { findKernel } from '../../spec/suite.js';
import { createProgress } from '../progress.js';
import { addSetting } from '../settings.js';
import { integer } from '../options.js';
import { renderNative } from './native-render.js';
import { jsonOutput, summaryLine, unstableWarning, withStability } from '../format.js';
import { unreachableHosts } from './host-check.js';
import { exits } from '../exit.js';
import { EXIT } from '../../errors.js';

export function register(program: Command): void {
  const cmd = program
    .command('run <kernel>')
    .description('build, check and time the baseline against candidates natively on one host')
    .option('--on <host>', 'host name (local, qemu-aarch64, or one of kbench.config.json)', 'local');
  addSetting(cmd, 'candidate');
  addSetting(cmd, 'threads');
  addSetting(cmd, 'pairs');
  addSetting(cmd, 'sampleMs');
  addSetting(cmd, 'noiseFloor');
  addSetting(cmd, 'seed');
  cmd
    .option('--march-native', 'build with -march=native (x86) instead of -mavx2 -mfma')
    .option('--check-only', 'check correctness, do not time')
    .option('--upstream [dir]', 'also time the real ggml op (the pinned npm source, "ggml" of kbench.config.json, or a llama.cpp checkout DIR): adds "vs upstream"')
    .option('--upstream-copies <n>', 'ops per ggml graph call of the upstream variant', integer('--upstream-copies', 1), DEFAULT_UPSTREAM_COPIES)
    .addHelpText(
      'after',
      [
        '',
        'The host is probed first: one that does not answer stops the command (exit 3) before anything is saved.',
        '',
        'Examples:',
        '  kbench run rms_norm                             every candidate on this machine (--on local)',
        '  kbench run softmax --on x86a -c vec8 --json',
        '  kbench run rms_norm -c ./my_rms.c --check-only --on qemu-aarch64',
        '  kbench run my_kernel --kernels ./kernels --pairs 31',
        '  kbench run softmax --upstream                   beside the real ggml op ("vs upstream")',
        '  kbench run rms_norm --upstream ~/src/llama.cpp  your own llama.cpp checkout',
      ].join('\n'),
    )
    .action(exits(async (kernelName: string, o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const workDir = process.cwd();
      const kernel = findKernel(resolveKernelsDir(workDir, g.kernels), kernelName);
      const [found] = findHosts(workDir, [o.on]);
      const host = o.marchNative ? { ...found, marchNative: true } : found;
      const sources = selectCandidates(kernel, o.candidate, workDir);
      if (o.upstream && !kernel.spec.upstream) process.stderr.write(`kbench: ${kernel.name} has no upstream adapter (kernel.json "upstream"): timed without "vs upstream"\n`);
      const [down] = await unreachableHosts([host]);
      if (down) {
        process.stderr.write(`kbench: ${down}; nothing was run or saved\n`);
        return EXIT.host;
      }
      // on a remote host DIR is a checkout there (built there), taken as written
      const upstreamSpec = host.executor === 'local' ? resolveUpstreamSpec(workDir, o.upstream) : typeof o.upstream === 'string' ? o.upstream : (loadConfig(workDir).ggml ?? true);
      const upstream = o.upstream && !o.checkOnly ? await nativeUpstream(kernel, host, upstreamSpec, o.upstreamCopies) : undefined;
      const progress = createProgress({ json: !!g.json });
      const startedAt = Date.now();
      let done = 0;
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
          upstream,
          signal: controller.signal,
          argv: process.argv.slice(2),
          onEvent: (e) => {
            if (e.type === 'result') done++;
            if (e.type === 'stage') progress.count(done, sources.length + 1, `${host.name}: ${e.candidate} ${e.stage === 'build' ? 'building' : 'checking and timing'}`);
          },
        });
        progress.stop();
        const { stability, ...reports } = writeRunReports(run.dir);
        if (run.interrupted) {
          process.stderr.write(`kbench: interrupted; nothing left running on the host; finished results are in ${run.dir}\n`);
          return EXIT.aborted;
        }
        const { results } = run;
        process.stdout.write(g.json ? jsonOutput('run', { run: run.id, dir: run.dir, ...withStability(stability, results) }) : renderNative(results, stability) + unstableWarning(stability) + `\n${summaryLine(results, Date.now() - startedAt)}\nrun ${run.id} saved in ${run.dir}\nreport: ${reports.htmlPath}\n`);
        return results.some((r) => r.hostFailure) ? EXIT.host : EXIT.ok; // the host went away mid-run
      } finally {
        progress.stop();
        process.off('SIGINT', onSigint);
      }
    }));
}
