// The native driver reads the check and timing protocol from kb_protocol.h, generated from src/check/rules.ts: the
// header carries every value of PROTOCOL the driver needs, and kb_driver.c defines none of them itself.
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROTOCOL, protocolHeader } from '../../src/check/rules.js';
import { DRIVER_DIR, writeBundle } from '../../src/remote/bundle.js';
import { HostConfig } from '../../src/config/config.js';
import { toolchainFor } from '../../src/remote/hosts.js';
import { BUILTIN_KERNELS_DIR, findKernel } from '../../src/spec/suite.js';

function defines(header: string): Map<string, string> {
  return new Map([...header.matchAll(/^#define (KB_\w+) (.+)$/gm)].map((m) => [m[1], m[2]]));
}

const driver = readFileSync(join(DRIVER_DIR, 'kb_driver.c'), 'utf8');

describe('kb_protocol.h', () => {
  const h = defines(protocolHeader());

  it('carries the values of PROTOCOL', () => {
    expect(Object.fromEntries(h)).toEqual({
      KB_GUARD: String(PROTOCOL.guardBytes),
      KB_POISON_FIRST: String(PROTOCOL.poisons[0]),
      KB_POISON_SECOND: String(PROTOCOL.poisons[1]),
      KB_POISON_ONE_PER_CALL: PROTOCOL.poisonOneElementPerCall ? '1' : '0',
      KB_PERTURBED_PER_SAMPLE: String(PROTOCOL.perturbedElementsPerSample),
      KB_REPLACEMENTS: String(PROTOCOL.replacementsPerInput),
      KB_BATCHES: String(PROTOCOL.batchesPerSample),
      KB_SLOWEST_BATCH_FACTOR: String(PROTOCOL.slowestBatchFactor),
      KB_SOL_FMA_ITERS: String(PROTOCOL.speedOfLight.fmaIters),
      KB_SOL_BATCHES: String(PROTOCOL.speedOfLight.batches),
      KB_SOL_MIN_BATCH_NS: String(PROTOCOL.speedOfLight.minBatchNs),
      KB_PARTITION_ORDERS: String(PROTOCOL.partitionOrders.length),
      KB_PARTITION_ORDER_NAMES: `{${PROTOCOL.partitionOrders.map((o) => `"${o}"`).join(', ')}}`,
    });
  });

  it('is what kb_driver.c includes and uses, with no copy of its own', () => {
    expect(driver).toMatch(/^#include "kb_protocol\.h"$/m);
    for (const name of h.keys()) {
      expect(driver, `kb_driver.c defines ${name} itself`).not.toMatch(new RegExp(`^\\s*#\\s*define\\s+${name}\\b`, 'm'));
      expect(driver, `kb_driver.c never uses ${name}`).toMatch(new RegExp(`\\b${name}\\b`));
    }
  });

  it('ships in every bundle, with the run nonce beside it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kbench-bundle-'));
    const kernel = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm');
    const toolchain = toolchainFor(HostConfig.parse({ name: 'local', executor: 'local', arch: 'x86_64' }));
    const settings = { threads: 1, pairs: 9, processes: 1, minSampleMs: 0.5, warmupMs: 1, inputSets: 2, seed: 1, benchShapes: [], skipTiming: true, trials: 1 };
    writeBundle(dir, kernel, [], toolchain, settings, 10, '0123456789abcdef0123456789abcdef');
    expect(readFileSync(join(dir, 'kb_protocol.h'), 'utf8')).toBe(protocolHeader());
    expect(readFileSync(join(dir, 'nonce'), 'utf8')).toBe('0123456789abcdef0123456789abcdef\n');
    expect(existsSync(join(dir, 'kb_driver.c'))).toBe(true);
  });
});
