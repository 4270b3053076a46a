// kbench.config.json in the working directory: where the kernels are, and the native hosts.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { z } from 'zod';
import { SpecError } from '../spec/errors.js';
import { BUILTIN_KERNELS_DIR } from '../spec/suite.js';

export const CONFIG_FILE = 'kbench.config.json';

export const HostConfig = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, . _ -'),
    executor: z.enum(['local', 'ssh', 'qemu-aarch64']),
    /** ssh destination or ~/.ssh/config alias (default: name) */
    ssh: z.string().optional(),
    arch: z.enum(['x86_64', 'aarch64']),
    cflags: z.array(z.string()).optional(),
    cores: z.number().int().positive().optional(),
    usdPerHour: z.number().nonnegative().default(0),
  })
  .strict();
export type HostConfig = z.infer<typeof HostConfig>;

export const KbenchConfig = z
  .object({
    $schema: z.string().optional(),
    kernels: z.string().optional().describe('kernel suite folder, relative to this file'),
    hosts: z.array(HostConfig).default([]),
  })
  .strict();
export type KbenchConfig = z.infer<typeof KbenchConfig> & { file?: string };

export function loadConfig(workDir: string): KbenchConfig {
  const file = join(workDir, CONFIG_FILE);
  if (!existsSync(file)) return { hosts: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new SpecError(file, '', `not valid JSON (${(e as Error).message})`);
  }
  const parsed = KbenchConfig.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SpecError(file, issue.path.map(String).join('.'), issue.message);
  }
  return { ...parsed.data, file };
}

/** --kernels beats the config file, which beats the built-in suite. */
export function resolveKernelsDir(workDir: string, flag?: string): string {
  if (flag) return resolve(workDir, flag);
  const config = loadConfig(workDir);
  if (config.kernels) return resolve(dirname(config.file!), config.kernels);
  return BUILTIN_KERNELS_DIR;
}
