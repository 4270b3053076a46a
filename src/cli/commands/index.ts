// Every subcommand lives in its own file and registers itself here.
import type { Command } from 'commander';
import * as screen from './screen.js';

export function registerCommands(program: Command): void {
  for (const register of [screen.register] as ((p: Command) => void)[]) register(program);
}
