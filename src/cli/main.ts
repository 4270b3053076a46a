// The CLI edge: parse, call the programmatic API, print. Exit 0 when it ran, 1 on an internal failure,
// 2 on usage or spec errors, 130 when stopped: commands return their code, errors are mapped here and only here.
import { Command, CommanderError } from 'commander';
import { EXIT, exitCodeOf, KbenchError } from '../errors.js';
import { registerCommands } from './commands/index.js';
import { takeExitCode } from './exit.js';
import { readFileSync } from 'node:fs';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export async function main(argv: string[]): Promise<number> {
  const program = new Command('kbench')
    .description('Screen CPU compute kernels in a WASM sandbox, confirm natively, and optimize them with an agent')
    .option('--kernels <dir>', 'kernel suite folder (default: kbench.config.json "kernels", else the built-in suite)')
    .version(VERSION)
    .option('--json', 'machine-readable output on stdout')
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s) });
  registerCommands(program);
  takeExitCode(true);
  try {
    await program.parseAsync(argv);
    return takeExitCode();
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const code = exitCodeOf(e);
    process.stderr.write(e instanceof KbenchError ? `kbench: ${e.message}\n` : `kbench: internal error: ${(e as Error).stack ?? e}\n`);
    return code;
  }
}
