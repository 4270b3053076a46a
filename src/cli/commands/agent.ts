import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { AGENT_E2E_DEFAULTS, runAgent, type AgentSettings } from '../../agent/agent.js';
import { DEFAULT_LIMITS, type Limits } from '../../agent/budget.js';
import { createMessagesApi } from '../../agent/client.js';
import type { AgentProgress } from '../../ledger/agent-events.js';
import { openRealRunner } from '../../agent/real-runner.js';
import { e2eGate } from '../../agent/e2e-gate.js';
import { DEFAULT_MODEL } from '../../agent/prices.js';
import { writeRunReports } from '../../report/index.js';
import { resolveKernelsDir } from '../../config/config.js';
import { UsageError } from '../../errors.js';
import { integer, positive, wholeList } from '../options.js';
import { exits } from '../exit.js';
import { EXIT } from '../../errors.js';

export function register(program: Command): void {
  program
    .command('agent [kernel]')
    .description('research a kernel, then let Claude write, screen, revise and promote candidates within hard limits')
    .option('--on <hosts>', 'comma-separated hosts to confirm survivors on (kbench.config.json); none = WASM verdicts only')
    .option('--research <dir>', 'a folder the model may read (a fork, another backend); repeatable', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--budget-usd <usd>', `hard cost limit, API + hosts (default ${DEFAULT_LIMITS.budgetUsd})`, positive('--budget-usd', false))
    .option('--max-experiments <n>', `hypotheses to try at most (default ${DEFAULT_LIMITS.maxExperiments})`, positive('--max-experiments', true))
    .option('--max-minutes <min>', `wall-time limit of this session (default ${DEFAULT_LIMITS.maxMinutes})`, positive('--max-minutes', false))
    .option('--max-revisions <n>', 'revisions per hypothesis after the first candidate (default 3)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`--max-revisions: expected a non-negative integer, got '${v}'`);
      return n;
    })
    .option('--model <id>', `Claude model (default ${DEFAULT_MODEL})`)
    .option('--web', 'let the model use Anthropic server-side web search and fetch (billed per search)')
    .option('--prices <file>', 'JSON price table overriding the built-in one (see src/agent/prices.ts)')
    .option('--allow-local-native', 'allow model-written code to run natively on this machine (hosts with executor local or qemu-aarch64)')
    .option('--e2e', 'the end-to-end verdict is the last gate before a keep: the candidate grafted into llama.cpp, logits checked and llama-bench timed against the unmodified upstream (needs a graft recipe; on this machine it also needs --allow-local-native)')
    .option('--e2e-on <host>', 'with --e2e: the host that builds and runs llama-bench (a host of kbench.config.json; default: this machine)')
    .option('--e2e-model <gguf>', 'with --e2e: the model llama-bench runs (default: a random-weight model kbench writes)')
    .option('--e2e-depths <list>', `with --e2e: llama-bench depths, comma-separated (default ${AGENT_E2E_DEFAULTS.depths.join(',')})`, wholeList('--e2e-depths'))
    .option('--e2e-rounds <n>', `with --e2e: invocations of each build (default ${AGENT_E2E_DEFAULTS.rounds})`, integer('--e2e-rounds', 1))
    .option('--resume <id>', 'continue a run after a crash or a limit (limits given here replace the old ones)')
    .addHelpText(
      'after',
      '\nEnvironment: ANTHROPIC_API_KEY (required), ANTHROPIC_BASE_URL (optional).\nExamples:\n  kbench agent rms_norm --budget-usd 2 --max-experiments 5\n  kbench agent softmax --on x86a,arm1 --research ../llama.cpp/ggml/src --web\n  kbench agent rms_norm --e2e --allow-local-native --e2e-depths 0,4096\n  kbench agent softmax --on x86a --e2e --e2e-on x86a --e2e-depths 0,4096\n  kbench agent --resume 20261127-061530-3fa2 --budget-usd 4',
    )
    .action(exits(async (kernel: string | undefined, o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const workDir = process.cwd();
      // The key is checked before anything else happens.
      const api = createMessagesApi({ apiKey: process.env.ANTHROPIC_API_KEY, baseURL: process.env.ANTHROPIC_BASE_URL || undefined });
      if (!kernel === !o.resume) throw new UsageError('give a kernel, or --resume <run id> (not both)');
      const fixed = ['on', 'model', 'web', 'prices', 'maxRevisions', 'allowLocalNative', 'e2e', 'e2eOn', 'e2eModel', 'e2eDepths', 'e2eRounds'].filter((k) => o[k] !== undefined);
      if (o.resume && (fixed.length || (o.research as string[]).length))
        throw new UsageError(`--resume continues with the run's own settings; only --budget-usd, --max-experiments and --max-minutes may change (got --${(fixed[0] ?? 'research').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)})`);
      for (const dir of o.research as string[])
        if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--research ${dir}: no such folder`);
      const e2eDetail = ['e2eOn', 'e2eModel', 'e2eDepths', 'e2eRounds'].find((k) => o[k] !== undefined);
      if (e2eDetail && !o.e2e) throw new UsageError(`--${e2eDetail.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --e2e`);
      const limits: Partial<Limits> = {};
      if (o.budgetUsd !== undefined) limits.budgetUsd = o.budgetUsd;
      if (o.maxExperiments !== undefined) limits.maxExperiments = o.maxExperiments;
      if (o.maxMinutes !== undefined) limits.maxMinutes = o.maxMinutes;
      const settings: AgentSettings | undefined = kernel
        ? {
            kernel,
            kernelsDir: resolveKernelsDir(workDir, g.kernels),
            model: o.model ?? DEFAULT_MODEL,
            hosts: o.on ? String(o.on).split(',').map((s: string) => s.trim()).filter(Boolean) : [],
            researchDirs: o.research,
            web: !!o.web,
            maxRevisions: o.maxRevisions ?? 3,
            limits: { ...DEFAULT_LIMITS, ...limits },
            allowLocalNative: !!o.allowLocalNative,
            ...(o.prices ? { pricesFile: o.prices } : {}),
            ...(o.e2e
              ? { e2e: { ...(o.e2eOn ? { host: String(o.e2eOn) } : {}), ...(o.e2eModel ? { model: String(o.e2eModel) } : {}), depths: o.e2eDepths ?? AGENT_E2E_DEFAULTS.depths, rounds: o.e2eRounds ?? AGENT_E2E_DEFAULTS.rounds } }
              : {}),
          }
        : undefined;
      const controller = new AbortController();
      let interrupts = 0;
      const onSigint = () => {
        if (++interrupts > 1) process.exit(130);
        process.stderr.write('\nkbench: stopping after the current step and writing the report (Ctrl-C again to quit now)\n');
        controller.abort();
      };
      process.on('SIGINT', onSigint);
      try {
        const outcome = await runAgent({
          workDir,
          settings,
          resume: o.resume ? { id: o.resume, limits } : undefined,
          api,
          openRunner: openRealRunner,
          signal: controller.signal,
          argv: process.argv.slice(2),
          onEvent: (e) => {
            // --json keeps the terminal quiet: the ledger and report hold the same facts.
            const line = g.json ? null : describeProgress(e);
            if (line) process.stderr.write(line + '\n');
          },
        });
        // the report is written here, at the edge, once the run has ended (as for every other kind of run)
        const { markdownPath: reportPath, htmlPath } = writeRunReports(outcome.dir);
        const summary = `${outcome.status}${outcome.stopReason ? ` (${outcome.stopReason})` : ''}: ${outcome.kept} kept, cost $${(outcome.apiUsd + outcome.hostsUsd).toFixed(4)} (API $${outcome.apiUsd.toFixed(4)}, hosts $${outcome.hostsUsd.toFixed(4)})`;
        process.stdout.write(
          g.json
            ? JSON.stringify({ ...outcome, reportPath, htmlPath }, null, 2) + '\n'
            : `${summary}\nreport: ${reportPath} (charts: ${htmlPath})\n${outcome.bestPath ? `best candidate: ${outcome.bestPath}\n` : ''}resume with: kbench agent --resume ${outcome.id}\n`,
        );
        // a run stopped by a limit still ran and reported (0); Ctrl-C is 130, as for screen, run and promote
        return outcome.status === 'failed' ? EXIT.internal : outcome.status === 'interrupted' ? EXIT.aborted : EXIT.ok;
      } finally {
        process.off('SIGINT', onSigint);
      }
    }));
}

/** One stderr line per event worth seeing live; the running cost rides on every API call. */
function describeProgress(e: AgentProgress): string | null {
  switch (e.type) {
    case 'status':
      return e.text;
    case 'research':
      return `research brief recorded (${e.sources.length} sources)`;
    case 'hypothesis':
      return `hypothesis ${e.rank}. ${e.id}: ${e.title}`;
    case 'candidate':
      return `candidate ${e.candidate}`;
    case 'screen':
      return `  screen ${e.candidate}: ${e.outcome}: ${e.summary}`;
    case 'promotion':
      return `  promoting ${e.candidate} to ${e.hosts.join(', ')}`;
    case 'e2e':
      return `  ${e.result.candidate}: ${e2eGate(e.result).reason}`;
    case 'verdict':
      return `  verdict ${e.hypothesis}: ${e.decision} (${e.basis}): ${e.reason}`;
    case 'cost':
      return e.category === 'tokens' ? `  [$${e.totalUsd.toFixed(4)}] API call ${e.conversation} $${e.costUsd.toFixed(4)}` : `  [$${e.totalUsd.toFixed(4)}] host ${e.host} ${(e.durationMs / 1000).toFixed(1)} s`;
    case 'error':
      return `error: ${e.message}`;
    case 'stop':
      return `stopping: ${e.reason}`;
    default:
      return null;
  }
}
