// The plan is the contract between TypeScript (remote/bundle.ts writes it) and C (kb_driver.c reads it with
// fscanf): a golden copy catches any change to either side's idea of a line. UPDATE_GOLDEN=1 rewrites it.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HostConfig } from '../../src/config/config.js';
import { writeBundle, DRIVER_DIR } from '../../src/remote/bundle.js';
import { toolchainFor } from '../../src/remote/hosts.js';
import { BUILTIN_KERNELS_DIR, findKernel } from '../../src/spec/suite.js';

const GOLDEN = fileURLToPath(new URL('./golden', import.meta.url));
const settings = { threads: 2, pairs: 9, processes: 1, minSampleMs: 0.5, warmupMs: 1, inputSets: 2, seed: 1, benchShapes: [], skipTiming: false, trials: 1 };

function bundle(kernelName: string): { dir: string; params: number } {
  const dir = mkdtempSync(join(tmpdir(), 'kbench-plan-'));
  const kernel = findKernel(BUILTIN_KERNELS_DIR, kernelName);
  const toolchain = toolchainFor(HostConfig.parse({ name: 'local', executor: 'local', arch: 'x86_64' }));
  writeBundle(dir, kernel, [], toolchain, settings, 10, '0123456789abcdef0123456789abcdef');
  return { dir, params: kernel.spec.params.length };
}

function matchGolden(actual: string, name: string): void {
  const file = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, actual);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

describe('the plan TypeScript writes for the native driver', () => {
  it('is the golden plan for rms_norm (threaded: partition counts on every check line)', () => {
    const { dir } = bundle('rms_norm');
    matchGolden(readFileSync(join(dir, 'plan.txt'), 'utf8'), 'rms_norm.plan.txt');
    matchGolden(readFileSync(join(dir, 'plan-time.txt'), 'utf8'), 'rms_norm.plan-time.txt');
  });

  it('has, on every line, the fields kb_driver.c reads for its kind, then one argument per parameter', () => {
    const { dir, params } = bundle('rms_norm');
    const check = readFileSync(join(dir, 'plan.txt'), 'utf8').trim().split('\n');
    const time = readFileSync(join(dir, 'plan-time.txt'), 'utf8').trim().split('\n');
    expect(check.length).toBeGreaterThan(0);
    expect(time.length).toBeGreaterThan(0);
    check.forEach((line, i) => {
      // check <id> <nth> <nparts> <parts…> <args…>
      const [kind, id, nth, nparts, ...rest] = line.split(' ');
      expect([kind, Number(id), Number(nth)]).toEqual(['check', i, 2]);
      expect(rest).toHaveLength(Number(nparts) + params);
    });
    time.forEach((line) => {
      // time <id> <nth> <input sets> <pairs per process> <min sample ns> <warmup ns> <seed> <args…>
      const fields = line.split(' ');
      expect(fields[0]).toBe('time');
      expect(fields).toHaveLength(8 + params);
      expect(fields.slice(1, 8).every((f) => /^\d+$/.test(f))).toBe(true);
    });
  });

  it('matches the driver: run_check reads nth and the partition count, and every kind it dispatches on is written', () => {
    const driver = readFileSync(join(DRIVER_DIR, 'kb_driver.c'), 'utf8');
    expect(driver).toMatch(/fscanf\(plan, "%d %d", &nth, &nparts\)/);
    for (const kind of ['check', 'time']) expect(driver).toContain(`"${kind}"`);
  });
});
