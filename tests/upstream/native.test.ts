// nativeUpstream: the upstream part of a native run, prepared by the caller (the CLI, the API) and handed to
// runNative, so remote/ never reaches into upstream/. What it decides without building anything.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostConfig } from '../../src/config/config.js';
import { UsageError } from '../../src/errors.js';
import { writeBundle } from '../../src/remote/bundle.js';
import { toolchainFor } from '../../src/remote/hosts.js';
import { BUILTIN_KERNELS_DIR, findKernel } from '../../src/spec/suite.js';
import { nativeUpstream } from '../../src/upstream/native.js';

const ssh = HostConfig.parse({ name: 'x86a', executor: 'ssh', ssh: 'x86a.example', arch: 'x86_64' });

describe('nativeUpstream', () => {
  it('gives nothing for a kernel without an upstream adapter', async () => {
    expect(await nativeUpstream(findKernel(BUILTIN_KERNELS_DIR, 'fa_kq_tile'), ssh, '/src/llama.cpp')).toBeUndefined();
  });

  it('refuses the pinned npm source on another host, naming the host and what to pass instead', async () => {
    const run = nativeUpstream(findKernel(BUILTIN_KERNELS_DIR, 'softmax'), ssh, true);
    await expect(run).rejects.toBeInstanceOf(UsageError);
    await expect(run).rejects.toThrow(/host 'x86a': name a llama\.cpp checkout on that host \(--upstream DIR/);
  });

  it('hands a checkout on another host to run.sh, with the copies and the host\'s flags recorded', async () => {
    const kernel = findKernel(BUILTIN_KERNELS_DIR, 'softmax');
    const up = (await nativeUpstream(kernel, ssh, '~/src/llama.cpp', 8))!;
    expect(up.bundle).toMatchObject({ hostSource: '~/src/llama.cpp', graph: true, copies: 8, includeDirs: [], libs: [] });
    expect(up.info).toMatchObject({ origin: 'host:~/src/llama.cpp', commit: 'unknown', call: 'graph', copies: 8 });
    expect(up.info.flags).toContain(toolchainFor(ssh).cflags.join(' '));
    const dir = mkdtempSync(join(tmpdir(), 'kbench-bundle-'));
    const settings = { threads: 1, pairs: 9, processes: 1, minSampleMs: 0.5, warmupMs: 1, inputSets: 2, seed: 1, benchShapes: [], skipTiming: false, trials: 1 };
    writeBundle(dir, kernel, [], toolchainFor(ssh), settings, 10, undefined, up.bundle);
    expect(readFileSync(join(dir, 'build.env'), 'utf8')).toMatch(/^UP_SRC='~\/src\/llama\.cpp'$/m);
    expect(readFileSync(join(dir, 'upstream', 'upstream.c'), 'utf8')).toBe(readFileSync(join(kernel.dir, 'upstream.c'), 'utf8'));
  });
});
