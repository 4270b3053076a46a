// kbench.config.json: hosts are validated with errors that name the file, the host and the field; the implicit
// hosts exist; each host gets the build flags of its arch.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostConfig, loadConfig } from '../../src/config/config.js';
import { findHosts, listHosts, toolchainFor } from '../../src/remote/hosts.js';
import { SpecError, UsageError } from '../../src/errors.js';

function workDirWith(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'kbench-config-'));
  writeFileSync(join(dir, 'kbench.config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

describe('kbench.config.json hosts', () => {
  it('names the host and the field of a bad entry', () => {
    const dir = workDirWith({ hosts: [{ name: 'x86a', executor: 'ssh', arch: 'x86_64' }, { name: 'arm1', executor: 'ssh', arch: 'armv7' }] });
    expect(() => loadConfig(dir)).toThrow(SpecError);
    expect(() => loadConfig(dir)).toThrow(/kbench\.config\.json: hosts\[1\]\(arm1\)\.arch: /);
  });

  it('rejects an unknown field, a duplicate name and qemu on the wrong arch', () => {
    expect(() => loadConfig(workDirWith({ hosts: [{ name: 'a', executor: 'local', arch: 'x86_64', flags: [] }] }))).toThrow(/hosts\[0\]\(a\)/);
    expect(() => loadConfig(workDirWith({ hosts: [{ name: 'a', executor: 'local', arch: 'x86_64' }, { name: 'a', executor: 'ssh', arch: 'x86_64' }] }))).toThrow(/host 'a' is declared twice/);
    expect(() => loadConfig(workDirWith({ hosts: [{ name: 'q', executor: 'qemu-aarch64', arch: 'x86_64' }] }))).toThrow(/executor qemu-aarch64 needs arch "aarch64"/);
  });

  it('says when the file is not JSON, with the line and column', () => {
    expect(() => loadConfig(workDirWith('{ hosts: ['))).toThrow(/kbench\.config\.json: not valid JSON: line 1, column 3: Expected property name/);
    expect(() => loadConfig(workDirWith('{\n  "hosts": [],\n}\n'))).toThrow(/not valid JSON: line 3, column 1: Expected double-quoted property name$/);
    expect(() => loadConfig(workDirWith('{\n  "hosts": [\n'))).toThrow(/not valid JSON: line 3, column 1: Unexpected end of JSON input/);
  });

  it('lists every problem, not only the first', () => {
    const dir = workDirWith({ kernels: 3, hosts: [{ name: 'x86a', executor: 'ssh', arch: 'x86' }, { name: 'arm1', executor: 'ftp', arch: 'aarch64' }] });
    const message = (() => {
      try {
        loadConfig(dir);
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(message).toMatch(/kbench\.config\.json: 3 problems:\n {2}kernels: .*\n {2}hosts\[0\]\(x86a\)\.arch: .*\n {2}hosts\[1\]\(arm1\)\.executor: /);
  });

  it('always has local and qemu-aarch64, and a declared host can replace them', () => {
    const dir = workDirWith({ hosts: [{ name: 'arm1', executor: 'ssh', ssh: 'sky-arm1', arch: 'aarch64', usdPerHour: 0.145 }] });
    expect(listHosts(dir).map((h) => h.name)).toEqual(['local', 'qemu-aarch64', 'arm1']);
    const replaced = workDirWith({ hosts: [{ name: 'local', executor: 'local', arch: 'x86_64', cflags: ['-O2'] }] });
    expect(findHosts(replaced, ['local'])[0].cflags).toEqual(['-O2']);
    expect(() => findHosts(dir, ['nope'])).toThrow(UsageError);
    expect(() => findHosts(dir, ['nope'])).toThrow(/unknown host 'nope' \(known: local, qemu-aarch64, arm1/);
  });
});

describe('build flags per host', () => {
  const host = (h: Record<string, unknown>) => HostConfig.parse({ name: 'h', executor: 'ssh', ...h });

  it('builds x86 for AVX2+FMA and refuses CPUs without them', () => {
    expect(toolchainFor(host({ arch: 'x86_64' }))).toMatchObject({ cc: 'cc', cflags: ['-O3', '-mavx2', '-mfma'], needFeatures: ['avx2', 'fma'], emulated: false });
    expect(toolchainFor(host({ arch: 'x86_64', marchNative: true })).cflags).toEqual(['-O3', '-march=native']);
    expect(toolchainFor(host({ arch: 'x86_64', marchNative: true })).needFeatures).toEqual([]);
  });

  it('builds ARM hosts for their own CPU and qemu for plain armv8-a, marked emulated', () => {
    expect(toolchainFor(host({ arch: 'aarch64' })).cflags).toEqual(['-O3', '-mcpu=native']);
    const qemu = toolchainFor(HostConfig.parse({ name: 'q', executor: 'qemu-aarch64', arch: 'aarch64' }));
    expect(qemu).toMatchObject({ cc: 'aarch64-linux-gnu-gcc', cflags: ['-O3', '-march=armv8-a'], emulated: true });
    expect(qemu.runner).toBe('qemu-aarch64 -L /usr/aarch64-linux-gnu');
  });
});

describe('the JSON Schema of kbench.config.json', () => {
  it('is committed up to date with the zod schema (npm run schema rewrites it)', async () => {
    const { configJsonSchema } = await import('../../src/config/json-schema.js');
    const committed = JSON.parse(readFileSync(fileURLToPath(new URL('../../schema/kbench.config.schema.json', import.meta.url)), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });

  it('is what a config may name as $schema', () => {
    const dir = workDirWith({ $schema: './node_modules/kbench/schema/kbench.config.schema.json', hosts: [] });
    expect(loadConfig(dir).hosts).toEqual([]);
  });
});
