// One table of the settings several commands share: flag, help, validator and each command's default live here
// once, so a flag means the same thing and accepts the same values wherever it appears. Commands declare them with
// `addSetting` (commander prints the default in the help as "(default: …)"; none: the API's own default applies).
import { Option, type Command } from 'commander';
import { NATIVE_DEFAULTS } from '../remote/native.js';
import { DEFAULT_MARGIN } from '../remote/promote.js';
import { fraction, integer, positive, seed } from './options.js';
import { PROTOCOL } from '../check/rules.js';

export interface Setting {
  flags: string;
  help: string;
  parse?: (value: string, previous: unknown) => unknown;
  /** the default per command name; a command left out has none */
  defaults?: Record<string, unknown>;
}

export const SETTINGS = {
  candidate: { flags: '-c, --candidate <name|file.c>', help: 'one candidate of the kernel, or a C file outside the suite' },
  pairs: {
    flags: '--pairs <n>',
    help: 'interleaved baseline/candidate pairs per bench shape, a whole number ≥ 9 (the WASM screen is a coarse filter and takes 11; a native confirmation decides and takes 21)',
    parse: integer('--pairs', 9),
    defaults: { screen: 11, run: NATIVE_DEFAULTS.pairs, promote: NATIVE_DEFAULTS.pairs },
  },
  sampleMs: {
    flags: '--sample-ms <ms>',
    help: `minimum duration of one timed batch in ms, > 0; a sample is the fastest of ${PROTOCOL.batchesPerSample} batches`,
    parse: positive('--sample-ms', false),
    defaults: { screen: PROTOCOL.minBatchNs / 1e6, run: NATIVE_DEFAULTS.minSampleMs, promote: NATIVE_DEFAULTS.minSampleMs },
  },
  noiseFloor: {
    flags: '--noise-floor <fraction>',
    help: 'speedups within ±this fraction of 1 are no-change, in [0, 1)',
    parse: fraction('--noise-floor'),
    defaults: { screen: 0.02, run: NATIVE_DEFAULTS.noiseFloor, promote: NATIVE_DEFAULTS.noiseFloor, compare: 0.02 },
  },
  // the screen has none here: without --seed it uses its own
  seed: { flags: '--seed <n>', help: 'seed for inputs and the bootstrap, a whole number in [0, 4294967295]', parse: seed('--seed'), defaults: { run: NATIVE_DEFAULTS.seed, promote: NATIVE_DEFAULTS.seed } },
  threads: { flags: '--threads <n>', help: 'nth when timing threaded kernels, a whole number ≥ 1 (default: the host\'s "threads", else 1)', parse: integer('--threads', 1) },
  margin: {
    flags: '--margin <fraction>',
    help: 'promotion margin: a candidate goes to native hosts unless WASM is slower than 1 − margin on every bench shape, in [0, 1)',
    parse: fraction('--margin'),
    defaults: { promote: DEFAULT_MARGIN, calibrate: DEFAULT_MARGIN },
  },
} satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

/** Declares a shared setting on `cmd` with the table's default for that command (none: undefined unless given). */
export function addSetting(cmd: Command, name: SettingName, extraHelp?: string): Command {
  const s: Setting = SETTINGS[name];
  const option = new Option(s.flags, extraHelp ? `${s.help}; ${extraHelp}` : s.help);
  if (s.parse) option.argParser(s.parse);
  const defaultValue = s.defaults?.[cmd.name()];
  if (defaultValue !== undefined) option.default(defaultValue);
  return cmd.addOption(option);
}

/** The global options, shown in every sub-command's help too (their examples use them). */
export function showGlobalOptions(program: Command): void {
  program.configureHelp({ ...program.configureHelp(), showGlobalOptions: true });
}
