// kbench.config.json in the working directory: where the kernels are, and the native hosts.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { z } from 'zod';
import { SpecError } from '../errors.js';
import { BUILTIN_KERNELS_DIR } from '../spec/suite.js';
import { jsonErrorWhere, problemList } from '../spec/json-errors.js';

export const CONFIG_FILE = 'kbench.config.json';

export const HostConfig = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, . _ -'),
    executor: z.enum(['local', 'ssh', 'qemu-aarch64']),
    /** ssh destination or ~/.ssh/config alias (default: name) */
    ssh: z.string().min(1).optional(),
    arch: z.enum(['x86_64', 'aarch64']),
    /** replaces the default flags (x86: -O3 -mavx2 -mfma; ARM: -O3 -mcpu=native; qemu: -O3 -march=armv8-a) */
    cflags: z.array(z.string()).optional(),
    /** build for the host's own CPU (-march=native / -mcpu=native) instead of the portable AVX2+FMA baseline */
    marchNative: z.boolean().default(false),
    /** C compiler on the host (default cc; aarch64-linux-gnu-gcc for qemu-aarch64) */
    cc: z.string().min(1).optional(),
    cores: z.number().int().positive().optional(),
    /** nth when timing threaded kernels (default 1: a single core is the least noisy comparison) */
    threads: z.number().int().positive().max(256).optional(),
    usdPerHour: z.number().nonnegative().default(0),
    /** ssh: an ssh_config file passed as -F (default: the user's ~/.ssh/config; env KBENCH_SSH_CONFIG) */
    sshConfig: z.string().min(1).optional(),
    /** ssh: extra client arguments, e.g. ["-o", "ProxyJump=bastion"] */
    sshOptions: z.array(z.string()).default([]),
    /** ssh: where per-run folders are created on the host (removed after each run) */
    remoteDir: z.string().min(1).default('/tmp'),
    connectTimeoutS: z.number().positive().default(10),
  })
  .strict()
  .superRefine((h, ctx) => {
    if (h.executor === 'qemu-aarch64' && h.arch !== 'aarch64')
      ctx.addIssue({ code: 'custom', path: ['arch'], message: `host '${h.name}': executor qemu-aarch64 needs arch "aarch64"` });
    if (h.executor !== 'ssh' && (h.ssh || h.sshConfig))
      ctx.addIssue({ code: 'custom', path: ['ssh'], message: `host '${h.name}': ssh settings need executor "ssh"` });
  });
export type HostConfig = z.infer<typeof HostConfig>;

export const KbenchConfig = z
  .object({
    $schema: z.string().optional(),
    kernels: z.string().optional().describe('kernel suite folder, relative to this file'),
    hosts: z.array(HostConfig).default([]),
    ggml: z.string().min(1).optional().describe('a llama.cpp checkout used as upstream instead of the pinned npm package (relative to this file)'),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.hosts.forEach((h, i) => {
      if (seen.has(h.name)) ctx.addIssue({ code: 'custom', path: ['hosts', i, 'name'], message: `host '${h.name}' is declared twice` });
      seen.add(h.name);
    });
  });
export type KbenchConfig = z.infer<typeof KbenchConfig> & { file?: string };

export function loadConfig(workDir: string): KbenchConfig {
  const file = join(workDir, CONFIG_FILE);
  if (!existsSync(file)) return { hosts: [] };
  const text = readFileSync(file, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SpecError(file, '', `not valid JSON: ${jsonErrorWhere(text, (e as Error).message)}`);
  }
  const parsed = KbenchConfig.safeParse(raw);
  if (!parsed.success) {
    // every problem, one a line, so a file with several mistakes is fixed in one pass
    const issues = parsed.error.issues.map((issue) => `${fieldPath(raw, issue.path) || '(top level)'}: ${issue.message}`);
    if (issues.length === 1) {
      const [issue] = parsed.error.issues;
      throw new SpecError(file, fieldPath(raw, issue.path), issue.message);
    }
    throw new SpecError(file, '', problemList(issues));
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

/** e.g. hosts[1](arm1).arch: names the host as well as the index, so the error points at the right entry. */
function fieldPath(raw: unknown, path: PropertyKey[]): string {
  return path
    .map((key, i) => {
      if (typeof key !== 'number') return `${i ? '.' : ''}${String(key)}`;
      const entry = path.slice(0, i + 1).reduce<unknown>((node, k) => (node as Record<PropertyKey, unknown> | undefined)?.[k], raw);
      const name = (entry as { name?: unknown } | undefined)?.name;
      return `[${key}]${typeof name === 'string' ? `(${name})` : ''}`;
    })
    .join('');
}

/** The upstream source: --upstream DIR beats the config's "ggml" checkout, which beats the pinned npm package. */
export function resolveUpstreamSpec(workDir: string, flag?: string | boolean): string | true {
  if (typeof flag === 'string' && flag !== '') return resolve(workDir, flag);
  const config = loadConfig(workDir);
  if (config.ggml) return resolve(dirname(config.file!), config.ggml);
  return true;
}
