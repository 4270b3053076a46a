import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { runScreen } from '../../screen/run.js';
import { writeRunReports, type RunReports } from '../../report/index.js';
import { resolveKernelsDir } from '../../config/config.js';
import { describeVerdict } from '../../check/verdict.js';
import type { TargetResult } from '../../ledger/records.js';
import { screenRunJson } from '../../screen/json.js';
import { screenedPlain, screenLabelOf } from '../../build/screen-target.js';
import { describeRegisterBound } from '../../build/register-pressure.js';
import { screenFloors } from '../../remote/calibrate.js';
import type { ScreenFloors } from '../../measure/memory-floor.js';
import { selectCandidates } from '../../screen/run.js';
import { watchScreen } from '../../screen/watch.js';
import { findKernel } from '../../spec/suite.js';
import { UsageError } from '../../errors.js';
import { basename } from 'node:path';
import { createProgress } from '../progress.js';
import { addSetting } from '../settings.js';
import { formatNs, formatSpeedup, summaryLine, table, throughputNote, unstableNote, unstableWarning, withStability } from '../format.js';
import { exits } from '../exit.js';
import { EXIT } from '../../errors.js';

export function register(program: Command): void {
  const cmd = program
    .command('screen [kernels...]')
    .description('build each candidate to WASM, check it in the sandbox against the reference, and time it against the baseline');
  addSetting(cmd, 'candidate');
  cmd.option('--cc <compiler>', 'WASM compiler: yowasp | clang | emcc (default: first found of emcc, clang, yowasp)');
  cmd.option('--target <target>', "native target the screen models: avx2 (8 lanes, FMA, AVX2 intrinsics, branchless max/min) | neon (4 lanes, FMA) | wasm (4 lanes, no FMA) (default: this host's, avx2 on x86)");
  addSetting(cmd, 'noiseFloor');
  addSetting(cmd, 'pairs');
  addSetting(cmd, 'sampleMs');
  addSetting(cmd, 'seed', "also picks the check's random cases (a failure names its case; the same seed repeats it); default: a fresh seed per run, printed");
  cmd
    .option('--out <file>', 'also write the JSON result to this file')
    .option('--watch', 'one kernel and --candidate: screen again each time the candidate file is saved (warm compiler, baseline checked once; nothing saved); Ctrl-C ends it')
    .addHelpText(
      'after',
      '\nExamples:\n  kbench screen\n  kbench screen rms_norm --candidate vec4 --json\n  kbench screen rms_norm --candidate ./my_rms.c\n  kbench screen rms_norm --candidate ./my_rms.c --watch\n  kbench screen --kernels ./my-kernels',
    )
    .action(exits(async (kernels: string[], o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const workDir = process.cwd();
      if (o.watch) return watchCommand(kernels, o, !!g.json, resolveKernelsDir(workDir, g.kernels));
      const progress = createProgress({ json: !!g.json });
      let done = 0;
      let total = 0;
      let latest = '';
      const startedAt = Date.now();
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
          target: o.target,
          noiseFloor: o.noiseFloor,
          pairs: o.pairs,
          sampleMs: o.sampleMs,
          seed,
          argv: o.seed === undefined ? [...process.argv.slice(2), '--seed', String(seed)] : process.argv.slice(2),
          signal: controller.signal,
          onEvent: (e) => {
            if (e.type === 'plan') total = e.total;
            if (e.type === 'result') {
              done++;
              // the current estimate: the last candidate timed, on its best shape
              const best = e.result.speed.reduce<(typeof e.result.speed)[number] | undefined>((b, s) => (!b || s.speedup.estimate > b.speedup.estimate ? s : b), undefined);
              if (best) latest = ` (last: ${e.result.candidate} ${formatSpeedup(best.speedup)})`;
            }
            if (e.type === 'stage') progress.count(done, total, `${e.kernel}/${e.candidate}: ${e.stage === 'compile' ? 'compiling' : e.stage === 'check' ? 'checking' : 'measuring'}${latest}`);
          },
        });
        progress.stop();
        const { stability, ...reports } = writeRunReports(run.dir);
        const floors = screenFloors(workDir, screenLabelOf(run.toolchain));
        const json = JSON.stringify(screenRunJson(run, reports, withStability(stability, run.results), floors), null, 2);
        if (o.out) writeFileSync(o.out, json + '\n');
        process.stdout.write(
          g.json
            ? json + '\n'
            : renderScreen(run.results, stability, floors) +
                failures(run.results) +
                unstableWarning(stability) +
                `\n${summaryLine(run.results, Date.now() - startedAt)}\nseed ${seed} (--seed ${seed} repeats every check case)\nrun ${run.id} (${run.toolchain}) saved in ${run.dir}\nreport: ${reports.htmlPath}\n`,
        );
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

/** Failed checks in full (the table cuts long lines, and the case a failure names is at the end), and candidates
 * the screen model's intrinsics could not build, screened as their plain build instead. */
function failures(results: TargetResult[]): string {
  const failed = results.filter((r) => r.check.status !== 'pass');
  const plain = results.filter((r) => screenedPlain(r.toolchain));
  const lines = [
    ...failed.map((r) => `${r.kernel}/${r.candidate}: ${describeVerdict(r.check)}`),
    ...plain.map((r) => `${r.kernel}/${r.candidate}: screened as its ${r.toolchain.slice(r.toolchain.indexOf('plain build'))}`),
  ];
  return lines.length ? `\n${lines.join('\n')}\n` : '';
}

function renderScreen(results: TargetResult[], stability?: RunReports['stability'], floors?: ScreenFloors): string {
  const rows = results.flatMap((r) => {
    if (r.check.status !== 'pass') return [[r.kernel, r.candidate, '', r.check.status, '', '', describeVerdict(r.check).slice(0, 110)]];
    if (!r.speed.length) return [[r.kernel, r.candidate, '', 'pass', '', '', r.candidate === 'baseline' ? 'checked (the reference point)' : '']];
    return r.speed.map((s, i) => [
      r.kernel,
      r.candidate,
      s.shape,
      s.verdict,
      formatSpeedup(s.speedup),
      formatNs(s.candidateMedianNs),
      throughputNote(s) + (stability ? unstableNote(stability, r) : '') + floorNote(floors, r.kernel, s) + (i === 0 ? registerNote(r) : ''),
    ]);
  });
  return table(['kernel', 'candidate', 'shape', 'verdict', 'speedup [95% CI]', 'time/call', 'notes'], rows);
}

/** Where the candidate's WASM time is past a calibrated host's memory floor: what that host can gain there at most. */
function floorNote(floors: ScreenFloors | undefined, kernel: string, s: TargetResult['speed'][number]): string {
  const floor = floors?.shapes.find((f) => f.kernel === kernel && f.shape === s.shape);
  return floor && s.candidateMedianNs < floor.floorWasmNs ? `, memory-bound on ${floors!.host} (≈ ${floor.capSpeedup.toFixed(1)}× at most)` : '';
}

/** Once per candidate (its first shape): a loop whose values V8 cannot keep in registers here, though natively they fit. */
function registerNote(r: TargetResult): string {
  const b = r.registerBound;
  return b ? `, register-bound in WASM (${describeRegisterBound(b)}): natively it may gain more` : '';
}

/** --watch: rounds on stdout as they come (one JSON line each with --json: kbench.screen-watch/1). */
async function watchCommand(kernels: string[], o: Record<string, unknown>, json: boolean, kernelsDir: string): Promise<number> {
  if (kernels.length !== 1 || typeof o.candidate !== 'string') throw new UsageError('--watch: name one kernel and the candidate to watch (--candidate name|file.c)');
  if (o.out) throw new UsageError('--watch: --out is for a recorded screen; a watch saves nothing');
  const kernel = findKernel(kernelsDir, kernels[0]);
  const [candidate] = selectCandidates(kernel, o.candidate, process.cwd());
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.on('SIGINT', onSigint);
  const progress = createProgress({ json });
  const say = (text: string) => (progress.stop(), process.stdout.write(text));
  try {
    progress.start(`${kernel.name}: building the reference and baseline, checking the baseline`);
    const { rounds } = await watchScreen({
      workDir: process.cwd(),
      kernel,
      path: candidate.path!,
      cc: o.cc as string | undefined,
      target: o.target as string | undefined,
      noiseFloor: o.noiseFloor as number,
      pairs: o.pairs as number,
      sampleMs: o.sampleMs as number,
      seed: o.seed as number | undefined,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'stage' && e.candidate !== 'baseline') progress.update(`${e.kernel}/${e.candidate}: ${e.stage === 'compile' ? 'compiling' : e.stage === 'check' ? 'checking' : 'measuring'}`);
      },
      onBaseline: (r) => {
        if (r.check.status !== 'pass') say(json ? '' : `baseline: ${describeVerdict(r.check)}\n`);
        progress.start(`${kernel.name}/${candidate.name}`);
      },
      onRound: ({ round, result, elapsedMs }) => {
        say(
          json
            ? JSON.stringify({ schema: 'kbench.screen-watch/1', round, elapsedMs, result }) + '\n'
            : `\nround ${round} (${new Date().toLocaleTimeString()}):\n${renderScreen([result])}${summaryLine([result], elapsedMs)}\nwatching ${candidate.path} (Ctrl-C to stop)\n`,
        );
        progress.start(`waiting for ${basename(candidate.path!)} to change`);
      },
    });
    progress.stop();
    if (!json) process.stderr.write(`kbench: watch stopped after ${rounds} round${rounds === 1 ? '' : 's'}\n`);
    return EXIT.aborted;
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
  }
}
