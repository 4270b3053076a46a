// Every subcommand lives in its own file and registers itself here.
import type { Command } from 'commander';
import * as screen from './screen.js';
import * as list from './list.js';
import * as doctor from './doctor.js';
import * as report from './report.js';
import * as compare from './compare.js';
import * as agent from './agent.js';
import * as runs from './runs.js';
import * as hosts from './hosts.js';
import * as hostsSky from './hosts-sky.js';
import * as run from './run.js';
import * as promote from './promote.js';
import * as calibrate from './calibrate.js';
import * as newKernel from './new.js';
import * as upstream from './upstream.js';
import * as e2e from './e2e.js';
import { showGlobalOptions } from '../settings.js';

export function registerCommands(program: Command): void {
  showGlobalOptions(program); // before the sub-commands: they copy the help settings when created
  // hostsSky adds `up`/`down` to the `hosts` command: keep it after hosts.register.
  for (const register of [screen.register, list.register, doctor.register, report.register, compare.register, newKernel.register, agent.register, runs.register, hosts.register, hostsSky.register, run.register, promote.register, calibrate.register, upstream.register, e2e.register] as ((p: Command) => void)[]) register(program);
}
