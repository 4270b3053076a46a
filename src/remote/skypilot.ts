// Native hosts on demand through SkyPilot: write a task YAML from remote/skypilot-task.yaml, `sky launch` it,
// and declare the cluster in kbench.config.json as an ssh host (SkyPilot puts the cluster name in ~/.ssh/config).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { CONFIG_FILE, HostConfig, KbenchConfig } from '../config/config.js';
import { EXIT, KbenchError, SpecError, UsageError } from '../errors.js';

export const SKY_TASK_TEMPLATE = fileURLToPath(new URL('../../remote/skypilot-task.yaml', import.meta.url));

/** AWS us-east-1 on-demand prices from SkyPilot's catalog, as of the date below; spot is roughly 40–50% of it. */
export const SKY_PRICES = {
  asOf: '2026-11',
  source: 'SkyPilot AWS catalog, us-east-1 on-demand',
  spotShare: 0.45,
  instances: {
    'c7g.xlarge': { arch: 'aarch64', vcpus: 4, usdPerHour: 0.145, note: 'Graviton3: NEON, SVE' },
    'c7i.xlarge': { arch: 'x86_64', vcpus: 4, usdPerHour: 0.1785, note: 'Sapphire Rapids: AVX2, AVX-512' },
    'c7a.xlarge': { arch: 'x86_64', vcpus: 4, usdPerHour: 0.205, note: 'Zen 4: AVX2, AVX-512' },
  },
} as const;
type KnownInstance = keyof typeof SKY_PRICES.instances;

export const DEFAULT_INSTANCE = { x86: 'c7i.xlarge', arm: 'c7g.xlarge' } as const;

export const SKY_INSTALL_HINT = 'SkyPilot is not installed (no `sky` on PATH). Install it with `pip install "skypilot[aws]"`, run `sky check aws` to confirm your AWS credentials, then retry.';

export interface SkyHostRequest {
  name: string;
  arch: 'x86' | 'arm';
  /** default c7i.xlarge (x86) or c7g.xlarge (arm) */
  instanceType?: string;
  spot?: boolean;
  /** idle minutes before SkyPilot stops the VM (spot VMs are torn down instead; they cannot be stopped) */
  autostopMinutes?: number;
  /** SkyPilot infra, default aws */
  infra?: string;
  /** required for an instance type missing from the price table */
  usdPerHour?: number;
}

export interface SkyHostPlan {
  name: string;
  arch: HostConfig['arch'];
  instanceType: string;
  spot: boolean;
  autostopMinutes: number;
  infra: string;
  usdPerHour: number;
  cores?: number;
}

/** What `sky launch -c` accepts as a cluster name (sky.utils.common_utils.check_cluster_name_is_valid). */
export const SKY_CLUSTER_NAME = /^[a-zA-Z]([-_.a-zA-Z0-9]*[a-zA-Z0-9])?$/;

/** Validates a request against the price table; every bad input is one UsageError naming the flag. */
export function planSkyHost(req: SkyHostRequest): SkyHostPlan {
  const name = HostConfig.safeParse({ name: req.name, executor: 'ssh', arch: 'x86_64' });
  if (!name.success) throw new UsageError(`host name '${req.name}': ${name.error.issues[0].message}`);
  if (!SKY_CLUSTER_NAME.test(req.name))
    throw new UsageError(`host name '${req.name}': SkyPilot cluster names start with a letter, end with a letter or digit, and hold only letters, digits, - _ .`);
  if (req.arch !== 'x86' && req.arch !== 'arm') throw new UsageError(`--arch: expected x86 or arm, got '${req.arch}'`);
  const arch = req.arch === 'arm' ? 'aarch64' : 'x86_64';
  const instanceType = req.instanceType ?? DEFAULT_INSTANCE[req.arch];
  const known = (SKY_PRICES.instances as Record<string, (typeof SKY_PRICES.instances)[KnownInstance]>)[instanceType];
  if (known && known.arch !== arch) throw new UsageError(`--instance-type ${instanceType} is ${known.arch}, not --arch ${req.arch}`);
  if (!known && req.usdPerHour === undefined)
    throw new UsageError(`--instance-type ${instanceType} is not in the price table (${Object.keys(SKY_PRICES.instances).join(', ')}); pass --usd-per-hour`);
  const autostopMinutes = req.autostopMinutes ?? 30;
  if (!Number.isInteger(autostopMinutes) || autostopMinutes < 1) throw new UsageError(`--autostop: expected whole minutes ≥ 1, got ${req.autostopMinutes}`);
  const spot = req.spot ?? false;
  const onDemand = req.usdPerHour ?? known!.usdPerHour;
  return {
    name: req.name,
    arch,
    instanceType,
    spot,
    autostopMinutes,
    infra: req.infra ?? 'aws',
    // An explicit price is taken as is; a table price is scaled for spot.
    usdPerHour: req.usdPerHour ?? Math.round(onDemand * (spot ? SKY_PRICES.spotShare : 1) * 10000) / 10000,
    ...(known ? { cores: known.vcpus } : {}),
  };
}

/** The task YAML: the template with this host's name and resources; comments of the template are kept. */
export function renderSkyTask(plan: SkyHostPlan, templatePath = SKY_TASK_TEMPLATE): string {
  const doc = parseDocument(readFileSync(templatePath, 'utf8'));
  doc.set('name', `kbench-${plan.name}`);
  doc.setIn(['resources', 'infra'], plan.infra);
  doc.setIn(['resources', 'instance_type'], plan.instanceType);
  doc.setIn(['resources', 'use_spot'], plan.spot);
  doc.setIn(['resources', 'autostop', 'idle_minutes'], plan.autostopMinutes);
  doc.setIn(['resources', 'autostop', 'down'], plan.spot);
  return doc.toString();
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; rejects with ENOENT when the program is missing. Injected in tests. */
export type CommandRunner = (cmd: string, args: string[]) => Promise<CommandResult>;

export function spawnRunner(env: NodeJS.ProcessEnv = process.env): CommandRunner {
  return (cmd, args) =>
    new Promise((resolvePromise, reject) => {
      const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolvePromise({ code: code ?? 1, stdout, stderr }));
    });
}

async function runSky(run: CommandRunner, args: string[]): Promise<CommandResult> {
  try {
    return await run('sky', args);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(SKY_INSTALL_HINT);
    throw e;
  }
}

/** A failed `sky` run is not a kbench bug (1): the CLI says what sky said and exits 3, as for a host it cannot use. */
export class SkyCommandError extends KbenchError {
  readonly exitCode = EXIT.host;
  constructor(
    readonly args: string[],
    readonly result: CommandResult,
    note?: string,
  ) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-8).join('\n');
    super(`\`sky ${args.join(' ')}\` failed (exit ${result.code})${tail ? `:\n${tail}` : ''}${note ? `\n${note}` : ''}`);
  }
}

export interface SkyUpResult {
  plan: SkyHostPlan;
  yamlPath: string;
  host: HostConfig;
  configPath: string;
}

export interface SkyUpPlan {
  plan: SkyHostPlan;
  yamlPath: string;
  /** the task YAML as it would be written */
  yaml: string;
  /** sky's arguments */
  args: string[];
  /** the kbench.config.json entry it would add */
  entry: { name: string; executor: 'ssh'; arch: HostConfig['arch']; usdPerHour: number; cores?: number };
}

/** Everything `skyUp` would do, without doing it (`kbench hosts up --dry-run`). */
export function planSkyUp(workDir: string, req: SkyHostRequest): SkyUpPlan {
  const plan = planSkyHost(req);
  const existing = readRawConfig(workDir).hosts?.find((h) => h.name === plan.name);
  if (existing && existing.executor !== 'ssh') throw new UsageError(`${CONFIG_FILE}: host '${plan.name}' already exists with executor ${existing.executor}; pick another name`);
  const yamlPath = join(workDir, '.kbench', 'sky', `${plan.name}.yaml`);
  // Only the fields that matter are written; the schema's defaults stay implicit in the file.
  const entry = { name: plan.name, executor: 'ssh' as const, arch: plan.arch, usdPerHour: plan.usdPerHour, ...(plan.cores ? { cores: plan.cores } : {}) };
  return { plan, yamlPath, yaml: renderSkyTask(plan), args: ['launch', '-c', plan.name, yamlPath, '-d', '-y'], entry };
}

/** Writes .kbench/sky/<name>.yaml, launches the cluster (detached), then declares it in kbench.config.json. */
export async function skyUp(workDir: string, req: SkyHostRequest, run: CommandRunner = spawnRunner()): Promise<SkyUpResult> {
  const { plan, yamlPath, yaml, args, entry } = planSkyUp(workDir, req);
  mkdirSync(dirname(yamlPath), { recursive: true });
  writeFileSync(yamlPath, yaml);
  let result: CommandResult;
  try {
    result = await runSky(run, args);
  } catch (e) {
    rmSync(yamlPath, { force: true }); // sky is missing: nothing was launched, so no task is left behind
    throw e;
  }
  if (result.code !== 0) throw new SkyCommandError(args, result, `the task stays in ${yamlPath} for \`sky launch\` by hand`);
  const host = HostConfig.parse(entry);
  const configPath = updateConfigHosts(workDir, (hosts) => [...hosts.filter((h) => h.name !== plan.name), entry]);
  return { plan, yamlPath, host, configPath };
}

/** `sky down NAME -y`, then removes the host from kbench.config.json (left as is when sky fails). */
export async function skyDown(workDir: string, name: string, run: CommandRunner = spawnRunner()): Promise<{ configPath: string; removed: boolean }> {
  const args = ['down', name, '-y'];
  const result = await runSky(run, args);
  if (result.code !== 0) throw new SkyCommandError(args, result);
  const before = readRawConfig(workDir).hosts ?? [];
  const configPath = updateConfigHosts(workDir, (hosts) => hosts.filter((h) => h.name !== name));
  return { configPath, removed: before.some((h) => h.name === name) };
}

type RawHost = { name: string; executor: string } & Record<string, unknown>;
type RawConfig = { hosts?: RawHost[] } & Record<string, unknown>;

function readRawConfig(workDir: string): RawConfig {
  const file = join(workDir, CONFIG_FILE);
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RawConfig;
  } catch (e) {
    throw new SpecError(file, '', `not valid JSON (${(e as Error).message})`);
  }
}

/** Rewrites only `hosts`, keeping every other field as the user wrote it; validates before writing. */
function updateConfigHosts(workDir: string, change: (hosts: RawHost[]) => RawHost[]): string {
  const file = join(workDir, CONFIG_FILE);
  const raw = readRawConfig(workDir);
  const next = { ...raw, hosts: change(raw.hosts ?? []) };
  const parsed = KbenchConfig.safeParse(next);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SpecError(file, issue.path.map(String).join('.'), issue.message);
  }
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(next, null, 2) + '\n');
  renameSync(tmp, file);
  return file;
}
