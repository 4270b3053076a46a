// `kbench promote --on a,b [--run <id>]`: survivors of a screen run natively on those hosts, in parallel.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, resolveKernelsDir } from '../../config/config.js';
import { LEDGER_FILE, listRunFolders, readLedger, runsDir } from '../../ledger/ledger.js';
import { findHosts } from '../../remote/hosts.js';
import { promote, sharedArchHosts } from '../../remote/promote.js';
import { EXIT, UsageError } from '../../errors.js';
import { createProgress } from '../progress.js';
import { renderNative } from './native-render.js';
import { formatSpeedup, jsonOutput, summaryLine, unstableWarning, withStability } from '../format.js';
import { outcomeOf } from '../../remote/outcome.js';
import { unreachableHosts } from './host-check.js';
import { addSetting } from '../settings.js';
import { exits } from '../exit.js';
import { writeRunReports } from '../../report/index.js';

/** The newest run folder whose ledger starts as a screen. */
function latestScreenRun(workDir: string): string {
  const run = listRunFolders(workDir)
    .reverse()
    .find((r) => readLedger(r.ledgerFile).some((e) => e.type === 'run-start' && e.kind === 'screen'));
  if (!run) throw new UsageError(`no screen run in ${runsDir(workDir)}: run \`kbench screen\` first, or pass --run <id>`);
  return run.dir;
}

/** The kernel folder a screen run recorded in its run-start (runs before it was recorded: undefined). */
function screenKernelsDir(runDir: string): string | undefined {
  const start = readLedger(join(runDir, LEDGER_FILE)).find((e) => e.type === 'run-start') as { kernelsDir?: unknown } | undefined;
  return typeof start?.kernelsDir === 'string' && existsSync(start.kernelsDir) ? start.kernelsDir : undefined;
}

export function register(program: Command): void {
  const cmd = program
    .command('promote')
    .description('run the survivors of a WASM screen natively on hosts, in parallel; results go to that run\'s ledger')
    .requiredOption('--on <hosts>', 'comma-separated host names')
    .option('--run <id>', 'screen run id or folder (default: the latest screen run)');
  addSetting(cmd, 'margin');
  addSetting(cmd, 'threads');
  addSetting(cmd, 'pairs');
  addSetting(cmd, 'sampleMs');
  addSetting(cmd, 'noiseFloor');
  addSetting(cmd, 'seed');
  cmd
    .option('--upstream [dir]', 'also time the real ggml op beside each candidate ("vs upstream"): the pinned npm source, "ggml" of kbench.config.json, or a llama.cpp checkout DIR (on an ssh host: a checkout there)')
    .option('--every-host', 'run every survivor on every host (default: once per arch, spread over the hosts of that arch)')
    .addHelpText(
      'after',
      [
        '',
        'Hosts of one arch share the work: each survivor runs on one of them. --every-host runs it on each.',
        'The kernels come from the folder the screen used (recorded in its run), unless --kernels names another.',
        '',
        'Examples:',
        '  kbench promote --on local                       survivors of the latest screen, on this machine',
        '  kbench promote --on x86a,arm1 --run 20261127-061530-3fa2',
        '  kbench promote --on x86a,x86b --every-host      compare two x86 machines',
        '  kbench promote --on local --margin 0.1 --json',
      ].join('\n'),
    )
    .action(exits(async (o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const workDir = process.cwd();
      const hosts = findHosts(workDir, String(o.on).split(',').map((s) => s.trim()).filter(Boolean));
      const runDir = o.run ? (existsSync(resolve(workDir, o.run)) ? resolve(workDir, o.run) : join(runsDir(workDir), o.run)) : latestScreenRun(workDir);
      if (!existsSync(join(runDir, LEDGER_FILE))) throw new UsageError(`--run ${o.run}: no such run (${runDir})`);
      // the suite the screen used, unless --kernels names another
      const kernelsDir = g.kernels ? resolveKernelsDir(workDir, g.kernels) : (screenKernelsDir(runDir) ?? resolveKernelsDir(workDir));
      const down = await unreachableHosts(hosts);
      if (down.length) {
        for (const line of down) process.stderr.write(`kbench: ${line}\n`);
        process.stderr.write('kbench: nothing was promoted; leave the host out of --on or bring it up\n');
        return EXIT.host;
      }
      if (!o.everyHost)
        for (const [arch, names] of sharedArchHosts(hosts))
          process.stderr.write(`kbench: ${names.join(', ')} are all ${arch}: each candidate runs on one of them, not on each (--every-host runs it on each)\n`);
      const progress = createProgress({ json: !!g.json });
      const perHost = new Map<string, string>();
      const width = Math.max(...hosts.map((h) => h.name.length));
      const startedAt = Date.now();
      let [done, total, note] = [0, 0, ''];
      progress.start('promoting');
      const controller = new AbortController();
      const onSigint = () => controller.abort();
      process.once('SIGINT', onSigint);
      try {
        const summary = await promote(runDir, hosts, {
          kernelsDir,
          marginFraction: o.margin,
          native: { threads: o.threads, pairs: o.pairs, minSampleMs: o.sampleMs, noiseFloor: o.noiseFloor, seed: o.seed, ...(o.upstream ? { upstream: typeof o.upstream === 'string' ? o.upstream : (loadConfig(workDir).ggml ?? true) } : {}) },
          everyHost: !!o.everyHost,
          signal: controller.signal,
          onEvent: (e) => {
            // one status line (done/total, elapsed, ETA) and one line per host under it
            if (e.type === 'plan') total = e.survivors.length;
            if (e.type === 'experiment') perHost.set(e.host, `${e.kernel}/${e.candidate}${e.attempt > 1 ? ' (retry)' : ''}: starting`);
            if (e.type === 'stage') perHost.set(e.host, `${e.kernel}/${e.candidate}: ${e.stage === 'build' ? 'building' : 'checking and timing'}`);
            if (e.type === 'retry') note = ` (${e.kernel}/${e.candidate} failed on ${e.from}; retrying on another host of its arch)`;
            if (e.type === 'host-down') perHost.set(e.host, `down: ${e.reason.split('\n')[0]}`);
            if (e.type === 'result' && e.result.candidate !== 'baseline') {
              done++;
              const best = e.result.speed.reduce<(typeof e.result.speed)[number] | undefined>((b, s) => (!b || s.speedup.estimate > b.speedup.estimate ? s : b), undefined);
              perHost.set(e.host, `${e.result.kernel}/${e.result.candidate}: ${best ? formatSpeedup(best.speedup) : outcomeOf(e.result)}; waiting for the next`);
            }
            progress.count(done, total, `candidates promoted${note}`);
            progress.rows(hosts.map((h) => `${h.name.padEnd(width)}  ${perHost.get(h.name) ?? 'waiting'}`));
          },
        });
        progress.stop();
        // the screen's reports are rewritten so they show the native results beside the WASM ones
        const { stability } = writeRunReports(runDir);
        if (g.json) {
          process.stdout.write(jsonOutput('promote', { run: runDir, ...summary, ...withStability(stability, summary.results) }));
        } else {
          const rejected = summary.rejected.map((r) => `  ${r.kernel}/${r.candidate}: ${r.reason}`).join('\n');
          process.stdout.write(renderNative(summary.results, stability) + (rejected ? `\nnot promoted:\n${rejected}\n` : '') + unstableWarning(stability) + `\n${summaryLine(summary.results, Date.now() - startedAt)}\nresults appended to ${join(runDir, LEDGER_FILE)}\n`);
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
