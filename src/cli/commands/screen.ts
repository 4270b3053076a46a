import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { runScreen } from '../../screen/run.js';
import { writeRunReports } from '../../report/index.js';
import { resolveKernelsDir } from '../../config/config.js';
import { describeVerdict } from '../../check/verdict.js';
import type { TargetResult } from '../../ledger/records.js';
import { screenRunJson } from '../../screen/json.js';
import { createProgress } from '../progress.js';
import { nonNegative, seed } from '../options.js';
import { formatNs, formatSpeedup, table, throughputNote } from '../format.js';
import { exits } from '../exit.js';
import { EXIT } from '../../errors.js';

export function register(program: Command): void {
  program
    .command('screen [kernels...]')
    .description('build each candidate to WASM, check it in the sandbox against the reference, and time it against the baseline')
    .option('-c, --candidate <name|file.c>', 'one candidate of the kernel, or a C file outside the suite')
    .option('--cc <compiler>', 'WASM compiler: yowasp | clang | emcc (default: first found of emcc, clang, yowasp)')
    .option('--noise-floor <fraction>', 'speedups within ±this are no-change', nonNegative('--noise-floor'), 0.02)
    .option('--pairs <n>', 'interleaved baseline/candidate pairs per bench shape (≥ 9)', nonNegative('--pairs'), 11)
    .option('--sample-ms <ms>', 'target duration of one timed sample', nonNegative('--sample-ms'), 4)
    .option('--seed <n>', 'seed for inputs and bootstrap', seed('--seed'))
    .option('--out <file>', 'also write the JSON result to this file')
    .addHelpText('after', '\nExamples:\n  kbench screen\n  kbench screen rms_norm --candidate vec4 --json\n  kbench screen rms_norm --candidate ./my_rms.c\n  kbench screen --kernels ./my-kernels')
    .action(exits(async (kernels: string[], o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const workDir = process.cwd();
      const progress = createProgress({ json: !!g.json });
      let done = 0;
      let total = 0;
      const controller = new AbortController();
      // kept for the whole command: a second Ctrl-C while the screen stops must not kill it before it prints
      const onSigint = () => controller.abort();
      process.on('SIGINT', onSigint);
      try {
        const run = await runScreen({
          workDir,
          kernelsDir: resolveKernelsDir(workDir, g.kernels),
          kernels,
          candidate: o.candidate,
          cc: o.cc,
          noiseFloor: o.noiseFloor,
          pairs: o.pairs,
          sampleMs: o.sampleMs,
          seed: o.seed,
          argv: process.argv.slice(2),
          signal: controller.signal,
          onEvent: (e) => {
            if (e.type === 'plan') total = e.total;
            if (e.type === 'result') done++;
            if (e.type === 'stage') progress.count(done, total, `${e.kernel}/${e.candidate}: ${e.stage === 'compile' ? 'compiling' : e.stage === 'check' ? 'checking' : 'measuring'}`);
          },
        });
        progress.stop();
        const reports = writeRunReports(run.dir);
        const json = JSON.stringify(screenRunJson(run, reports), null, 2);
        if (o.out) writeFileSync(o.out, json + '\n');
        process.stdout.write(g.json ? json + '\n' : renderScreen(run.results) + `\nrun ${run.id} (${run.toolchain}) saved in ${run.dir}\nreport: ${reports.htmlPath}\n`);
        const harnessErrors = run.results.filter((r) => r.check.status === 'harness-error');
        for (const r of harnessErrors) process.stderr.write(`kbench: ${r.kernel}/${r.candidate}: ${describeVerdict(r.check)}\n`);
        if (run.interrupted) {
          process.stderr.write(`kbench: interrupted; the candidate in progress was stopped and left out; finished results are in ${run.dir}\n`);
          return EXIT.aborted;
        }
        return harnessErrors.length ? EXIT.internal : EXIT.ok;
      } finally {
        progress.stop();
        process.off('SIGINT', onSigint);
      }
    }));
}

function renderScreen(results: TargetResult[]): string {
  const rows = results.flatMap((r) => {
    if (r.check.status !== 'pass') return [[r.kernel, r.candidate, '', r.check.status, '', '', describeVerdict(r.check).slice(0, 110)]];
    if (!r.speed.length) return [[r.kernel, r.candidate, '', 'pass', '', '', r.candidate === 'baseline' ? 'checked (the reference point)' : '']];
    return r.speed.map((s) => [
      r.kernel,
      r.candidate,
      s.shape,
      s.verdict,
      formatSpeedup(s.speedup),
      formatNs(s.candidateMedianNs),
      throughputNote(s),
    ]);
  });
  return table(['kernel', 'candidate', 'shape', 'verdict', 'speedup [95% CI]', 'time/call', 'notes'], rows);
}
