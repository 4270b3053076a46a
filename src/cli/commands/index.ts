// Every subcommand lives in its own file and registers itself here.
import type { Command } from 'commander';
import * as screen from './screen.js';
import * as list from './list.js';
import * as doctor from './doctor.js';

export function registerCommands(program: Command): void {
  for (const register of [screen.register, list.register, doctor.register] as ((p: Command) => void)[]) register(program);
}
