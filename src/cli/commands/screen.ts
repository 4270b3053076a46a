import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { runScreen } from '../../screen/run.js';
import { resolveKernelsDir } from '../../config/config.js';
import { describeVerdict } from '../../check/verdict.js';
import type { TargetResult } from '../../ledger/records.js';
import { screenRunJson } from '../../screen/json.js';
import { createProgress } from '../progress.js';
import { addSetting } from '../settings.js';
import { formatNs, formatSpeedup, summaryLine, table, throughputNote } from '../format.js';

export function register(program: Command): void {
  const cmd = program
    .command('screen [kernels...]')
    .description('build each candidate to WASM, check it in the sandbox against the reference, and time it against the baseline');
  addSetting(cmd, 'candidate');
  cmd.option('--cc <compiler>', 'WASM compiler: yowasp | clang | emcc (default: first found of emcc, clang, yowasp)');
  addSetting(cmd, 'noiseFloor', 0.02);
  addSetting(cmd, 'pairs', 11);
  addSetting(cmd, 'sampleMs', 4);
  addSetting(cmd, 'seed');
  cmd
    .option('--out <file>', 'also write the JSON result to this file')
    .addHelpText('after', '\nExamples:\n  kbench screen\n  kbench screen rms_norm --candidate vec4 --json\n  kbench screen rms_norm --candidate ./my_rms.c\n  kbench screen --kernels ./my-kernels')
    .action(async (kernels: string[], o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const workDir = process.cwd();
      const progress = createProgress({ json: !!g.json });
      let done = 0;
      let total = 0;
      let latest = '';
      const startedAt = Date.now();
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
            if (e.type === 'result') {
              done++;
              // the current estimate: the last candidate timed, on its best shape
              const best = e.result.speed.reduce<(typeof e.result.speed)[number] | undefined>((b, s) => (!b || s.speedup.estimate > b.speedup.estimate ? s : b), undefined);
              if (best) latest = ` (last: ${e.result.candidate} ${formatSpeedup(best.speedup.estimate, best.speedup.lo, best.speedup.hi)})`;
            }
            if (e.type === 'stage') progress.count(done, total, `${e.kernel}/${e.candidate}: ${e.stage === 'compile' ? 'compiling' : e.stage === 'check' ? 'checking' : 'measuring'}${latest}`);
          },
        });
        progress.stop();
        const json = JSON.stringify(screenRunJson(run), null, 2);
        if (o.out) writeFileSync(o.out, json + '\n');
        process.stdout.write(g.json ? json + '\n' : renderScreen(run.results) + `\n${summaryLine(run.results, Date.now() - startedAt)}\nrun ${run.id} (${run.toolchain}) saved in ${run.dir}\nreport: ${run.reports.htmlPath}\n`);
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
