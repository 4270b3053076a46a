// `kbench e2e <kernel> --candidate <c>`: the candidate grafted into llama.cpp, the logits gate, and tokens/s of the
// reference llama-bench against the grafted one with the op's share and Amdahl's prediction beside them.
import type { Command } from 'commander';
import { loadConfig, resolveKernelsDir, resolveUpstreamSpec } from '../../config/config.js';
import { graftedKernels, runE2eRecorded } from '../../e2e/run.js';
import { EXIT, HostError, UsageError } from '../../errors.js';
import { UNSTABLE_ADVICE } from '../../measure/stability.js';
import { e2eNotes, e2eTable } from '../../report/e2e.js';
import { formatDurationMs } from '../../format.js';
import { findHosts } from '../../remote/hosts.js';
import { writeRunReports } from '../../report/index.js';
import { selectCandidates } from '../../screen/run.js';
import { findKernel, loadSuite } from '../../spec/suite.js';
import { exits } from '../exit.js';
import { jsonOutput } from '../format.js';
import { integer, seed } from '../options.js';
import { createProgress } from '../progress.js';
import { addSetting } from '../settings.js';

function depthList(v: string): number[] {
  const depths = v.split(',').map((d) => d.trim());
  if (!depths.length || depths.some((d) => !/^\d+$/.test(d))) throw new UsageError(`--depth: expected whole numbers ≥ 0 separated by commas, got '${v}'`);
  return depths.map(Number);
}

export function register(program: Command): void {
  const cmd = program
    .command('e2e <kernel>')
    .description('graft a candidate into llama.cpp: logits check, then llama-bench tokens/s against the unmodified upstream')
    .option('--on <host>', 'where to build and run: local, or an ssh host of kbench.config.json', 'local');
  addSetting(cmd, 'candidate');
  cmd
    .option('--model <file>', "a GGUF model, a path on the --on host (default: kbench's random-weight llama, written once into the cache and shipped)")
    .option('--depth <list>', 'KV-cache depths of the tests, comma-separated', depthList, [0, 4096])
    .option('--pp <n>', 'prompt tokens of the prompt-processing test (0: none)', integer('--pp', 0), 128)
    .option('--tg <n>', 'tokens of the generation test (0: none)', integer('--tg', 0), 32)
    .option('--threads <n>', 'llama-bench threads', integer('--threads', 1), 1)
    .option('--rounds <n>', 'llama-bench invocations of each build, alternating in random order', integer('--rounds', 1), 10)
    .option('--seed <n>', 'seed of the round order and the bootstrap', seed('--seed'), 1)
    .option('--upstream [dir]', 'graft into a llama.cpp checkout DIR, on the --on host (default: "ggml" of kbench.config.json, else the pinned npm source)')
    .option('--no-share', "do not time the op made free (no op share, no Amdahl prediction): half the timing")
    .addHelpText(
      'after',
      [
        '',
        'The first run builds llama.cpp with cmake (minutes; cached per host, commit and flags); each candidate then takes seconds.',
        'On an ssh host everything builds and runs there: the pinned source and the generated model are shipped once and',
        "cached in the host's remoteDir (kbench-cache/); a checkout there (--upstream DIR) has its graft checked here first.",
        'The prediction needs an op-level speedup vs upstream of the same candidate source: `kbench run <kernel> -c <c> --upstream`.',
        '',
        'Examples:',
        '  kbench e2e rms_norm --candidate unroll_fused',
        '  kbench e2e softmax -c fused_max_fastexp --model ~/models/llama-3.2-1b-q8_0.gguf --depth 0,4096 --rounds 20',
        '  kbench e2e rms_norm -c unroll_fused --on x86a --upstream /srv/llama.cpp',
      ].join('\n'),
    )
    .action(exits(async (kernelName: string, o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const workDir = process.cwd();
      if (!o.candidate) throw new UsageError('--candidate is required: the candidate to graft (a name of the kernel or a .c file)');
      const kernelsDir = resolveKernelsDir(workDir, g.kernels);
      const kernel = findKernel(kernelsDir, kernelName);
      if (!kernel.spec.graft) {
        const grafted = graftedKernels(loadSuite(kernelsDir));
        throw new UsageError(`${kernel.name} has no graft recipe (kernel.json "graft"), so it cannot run end to end; kernels with one: ${grafted.join(', ') || 'none'}`);
      }
      const [candidate] = selectCandidates(kernel, o.candidate, workDir);
      const [host] = findHosts(workDir, [o.on]);
      // a checkout on another host is a path there: not resolved against this folder
      const upstream = host.executor === 'local' ? (o.upstream ? resolveUpstreamSpec(workDir, o.upstream) : undefined) : typeof o.upstream === 'string' ? o.upstream : (loadConfig(workDir).ggml ?? undefined);
      const progress = createProgress({ json: !!g.json });
      const log = (line: string) => (progress.enabled ? progress.update(line) : g.json ? undefined : process.stderr.write(`kbench: ${line}\n`));
      const controller = new AbortController();
      const onSigint = () => controller.abort();
      process.once('SIGINT', onSigint);
      try {
        const run = await runE2eRecorded(workDir, kernel, candidate, {
          ...(o.model ? { model: o.model } : {}),
          host,
          ...(upstream ? { upstream } : {}),
          depths: o.depth,
          prompt: o.pp,
          gen: o.tg,
          threads: o.threads,
          rounds: o.rounds,
          seed: o.seed,
          skipShare: !o.share,
          signal: controller.signal,
          log,
          onRound: (phase, done, of) => progress.count(done, of, phase === 'graft' ? `reference vs ${candidate.name}` : 'reference vs the op made free'),
          argv: process.argv.slice(2),
        }).catch((e: unknown) => {
          if (!(e instanceof HostError)) throw e;
          return e;
        });
        progress.stop();
        if (run instanceof HostError) {
          process.stderr.write(`kbench: e2e on host '${run.host}' failed: ${run.reason}\n`);
          return EXIT.host;
        }
        const reports = writeRunReports(run.dir);
        if (run.interrupted || !run.result) {
          process.stderr.write(`kbench: interrupted; the unfinished run is in ${run.dir}\n`);
          return EXIT.aborted;
        }
        const r = run.result;
        if (g.json) {
          process.stdout.write(jsonOutput('e2e', { run: run.id, dir: run.dir, report: reports.htmlPath, result: r }));
          return EXIT.ok;
        }
        const lines = [`${r.kernel}/${r.candidate} end to end (${formatDurationMs(r.elapsedMs)})`, ''];
        const table = e2eTable(r, 'text');
        if (table) lines.push(table);
        lines.push(...e2eNotes(r));
        if (r.timing?.stability.status === 'unstable') lines.push('', `warning: unstable timing: ${r.timing.stability.reasons.join('; ')}. ${UNSTABLE_ADVICE}`);
        lines.push('', `run ${run.id} saved in ${run.dir}`, `report: ${reports.htmlPath}`, '');
        process.stdout.write(lines.join('\n'));
        return EXIT.ok;
      } finally {
        progress.stop();
        process.off('SIGINT', onSigint);
      }
    }));
}
