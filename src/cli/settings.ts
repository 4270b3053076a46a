// One table of the settings several commands share: flag, help and validator live here once, so a flag means the
// same thing and accepts the same values wherever it appears. Commands declare them with `addSetting`, giving only
// their own default (commander prints it in the help as "(default: …)").
import { Option, type Command } from 'commander';
import { fraction, integer, positive, seed } from './options.js';

export interface Setting {
  flags: string;
  help: string;
  parse?: (value: string, previous: unknown) => unknown;
}

export const SETTINGS = {
  candidate: { flags: '-c, --candidate <name|file.c>', help: 'one candidate of the kernel, or a C file outside the suite' },
  pairs: {
    flags: '--pairs <n>',
    help: 'interleaved baseline/candidate pairs per bench shape, a whole number ≥ 9 (the WASM screen is a coarse filter and takes 11; a native confirmation decides and takes 21)',
    parse: integer('--pairs', 9),
  },
  sampleMs: {
    flags: '--sample-ms <ms>',
    help: 'minimum duration of one timed batch in ms, > 0; a sample is the fastest of 5 batches',
    parse: positive('--sample-ms', false),
  },
  noiseFloor: { flags: '--noise-floor <fraction>', help: 'speedups within ±this fraction of 1 are no-change, in [0, 1)', parse: fraction('--noise-floor') },
  seed: { flags: '--seed <n>', help: 'seed for inputs and the bootstrap, a whole number in [0, 4294967295]', parse: seed('--seed') },
  threads: { flags: '--threads <n>', help: 'nth when timing threaded kernels, a whole number ≥ 1 (default: the host\'s "threads", else 1)', parse: integer('--threads', 1) },
  margin: {
    flags: '--margin <fraction>',
    help: 'promotion margin: a candidate goes to native hosts unless WASM is slower than 1 − margin on every bench shape, in [0, 1)',
    parse: fraction('--margin'),
  },
} satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

/** Declares a shared setting on `cmd`, with this command's default (none: the setting stays undefined unless given). */
export function addSetting(cmd: Command, name: SettingName, defaultValue?: unknown, extraHelp?: string): Command {
  const s: Setting = SETTINGS[name];
  const option = new Option(s.flags, extraHelp ? `${s.help}; ${extraHelp}` : s.help);
  if (s.parse) option.argParser(s.parse);
  if (defaultValue !== undefined) option.default(defaultValue);
  return cmd.addOption(option);
}

/** The global options, shown in every sub-command's help too (their examples use them). */
export function showGlobalOptions(program: Command): void {
  program.configureHelp({ ...program.configureHelp(), showGlobalOptions: true });
}
