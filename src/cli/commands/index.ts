// Every subcommand lives in its own file and registers itself here.
import type { Command } from 'commander';

export function registerCommands(program: Command): void {
  for (const register of [] as ((p: Command) => void)[]) register(program);
}
