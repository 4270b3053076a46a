import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { runScreen } from '../../screen/run.js';
import { resolveKernelsDir } from '../../config/config.js';
import { describeVerdict } from '../../check/verdict.js';
import type { TargetResult } from '../../ledger/records.js';
import { screenRunJson } from '../../screen/json.js';
import { createProgress } from '../progress.js';
import { nonNegative, seed } from '../options.js';
import { PROTOCOL } from '../../check/rules.js';
import { formatNs, formatSpeedup, table, throughputNote } from '../format.js';

export function register(program: Command): void {
  program
    .command('screen [kernels...]')
    .description('build each candidate to WASM, check it in the sandbox against the reference, and time it against the baseline')
    .option('-c, --candidate <name|file.c>', 'one candidate of the kernel, or a C file outside the suite')
    .option('--cc <compiler>', 'WASM compiler: yowasp | clang | emcc (default: first found of emcc, clang, yowasp)')
    .option('--noise-floor <fraction>', 'speedups within ±this are no-change', nonNegative('--noise-floor'), 0.02)
    .option('--pairs <n>', 'interleaved baseline/candidate pairs per bench shape (≥ 9)', nonNegative('--pairs'), 11)
    .option('--sample-ms <ms>', `minimum duration of one timed batch (a sample is the fastest of ${PROTOCOL.batchesPerSample})`, nonNegative('--sample-ms'), PROTOCOL.minBatchNs / 1e6)
    .option('--seed <n>', "seed for inputs, the check's random cases and bootstrap (a failure names its case; the same seed repeats it)", seed('--seed'))
    .option('--out <file>', 'also write the JSON result to this file')
    .addHelpText('after', '\nExamples:\n  kbench screen\n  kbench screen rms_norm --candidate vec4 --json\n  kbench screen rms_norm --candidate ./my_rms.c\n  kbench screen --kernels ./my-kernels')
    .action(async (kernels: string[], o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const workDir = process.cwd();
      const progress = createProgress({ json: !!g.json });
      let done = 0;
      let total = 0;
      const controller = new AbortController();
      // kept for the whole command: a second Ctrl-C while the screen stops must not kill it before it prints
      const onSigint = () => controller.abort();
      process.on('SIGINT', onSigint);
      // A fresh seed per run unless one is given: the check's random cases differ from run to run, and the printed
      // seed repeats them.
      const seed: number = o.seed ?? randomInt(2 ** 31);
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
          seed,
          argv: o.seed === undefined ? [...process.argv.slice(2), '--seed', String(seed)] : process.argv.slice(2),
          signal: controller.signal,
          onEvent: (e) => {
            if (e.type === 'plan') total = e.total;
            if (e.type === 'result') done++;
            if (e.type === 'stage') progress.count(done, total, `${e.kernel}/${e.candidate}: ${e.stage === 'compile' ? 'compiling' : e.stage === 'check' ? 'checking' : 'measuring'}`);
          },
        });
        progress.stop();
        const json = JSON.stringify(screenRunJson(run), null, 2);
        if (o.out) writeFileSync(o.out, json + '\n');
        process.stdout.write(g.json ? json + '\n' : renderScreen(run.results) + failures(run.results) + `\nseed ${seed} (--seed ${seed} repeats every check case)\nrun ${run.id} (${run.toolchain}) saved in ${run.dir}\nreport: ${run.reports.htmlPath}\n`);
        const harnessErrors = run.results.filter((r) => r.check.status === 'harness-error');
        for (const r of harnessErrors) process.stderr.write(`kbench: ${r.kernel}/${r.candidate}: ${describeVerdict(r.check)}\n`);
        if (harnessErrors.length) process.exitCode = 1;
        if (run.interrupted) {
          process.stderr.write(`kbench: interrupted; the candidate in progress was stopped and left out; finished results are in ${run.dir}\n`);
          process.exitCode = 130;
        }
      } finally {
        progress.stop();
        process.off('SIGINT', onSigint);
      }
    });
}

/** Failed checks in full: the table cuts long lines, and the case a failure names is at the end. */
function failures(results: TargetResult[]): string {
  const failed = results.filter((r) => r.check.status !== 'pass');
  return failed.length ? `\n${failed.map((r) => `${r.kernel}/${r.candidate}: ${describeVerdict(r.check)}`).join('\n')}\n` : '';
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
      formatSpeedup(s.speedup.estimate, s.speedup.lo, s.speedup.hi),
      formatNs(s.candidateMedianNs),
      throughputNote(s),
    ]);
  });
  return table(['kernel', 'candidate', 'shape', 'verdict', 'speedup [95% CI]', 'time/call', 'notes'], rows);
}
