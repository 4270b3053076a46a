// A `scratch` buffer (rms_norm_mul's t) is a workspace: guard-zoned and poisoned before every call, never compared.
// The unfused variant (candidates/unfused.c) passes using it; a variant that keeps state in it between calls, or writes past it, does not,
// in the WASM sandbox and in the native driver alike.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasmCompiler } from '../../src/build/compiler.js';
import { resolveToolchain } from '../../src/build/toolchain.js';
import { generateInputs } from '../../src/check/inputs.js';
import { HostConfig } from '../../src/config/config.js';
import type { TargetResult } from '../../src/ledger/records.js';
import { runNative } from '../../src/remote/native.js';
import { KernelInstance } from '../../src/sandbox/instance.js';
import { ScreenSession } from '../../src/screen/session.js';
import { BUILTIN_KERNELS_DIR, findKernel } from '../../src/spec/suite.js';
import { tempDir } from '../helpers/fixtures.js';
import { hasCommand, missing } from '../helpers/require.js';

const kernel = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm_mul');
// the unfused variant (the baseline before ggml fused RMS_NORM + MUL) is the one that uses the scratch tensor
const baseline = readFileSync(join(kernel.dir, 'candidates', 'unfused.c'), 'utf8');

function edited(find: string, replace: string): string {
  expect(baseline.split(find)).toHaveLength(2);
  return baseline.replace(find, replace);
}

const sources = () => ({
  baseline_with_scratch: baseline,
  // normalizes into t on the first call only, then trusts what it left there
  scratch_kept: edited(
    '    rms_norm_node(x, t, n, rows, eps, ith, nth);\n',
    '    static int normalized;\n    if (!normalized) rms_norm_node(x, t, n, rows, eps, ith, nth);\n    normalized = 1;\n',
  ),
  // copies one float too many into the last row of t: x's first guard bytes land in t's (the canaries must differ)
  scratch_overrun: edited('memcpy(tr, xr, (size_t)n * sizeof(float));', 'memcpy(tr, xr, (size_t)(n + (r == rows - 1)) * sizeof(float));'),
});

function expectVerdicts(results: Map<string, TargetResult>): void {
  expect(results.get('baseline_with_scratch')!.check.status).toBe('pass');
  expect(results.get('scratch_kept')!.check).toMatchObject({ status: 'wrong', buffer: 'y' });
  expect(results.get('scratch_overrun')!.check).toMatchObject({ status: 'out-of-bounds', buffer: 't', side: 'after', offset: 0 });
}

describe('a scratch buffer in the WASM sandbox', () => {
  let session: ScreenSession;
  beforeAll(() => {
    session = ScreenSession.open({ workDir: tempDir(), cc: 'yowasp' });
  });
  afterAll(() => session.close());

  it('serves the unfused baseline, is poisoned before every call and guarded at both ends', async () => {
    const results = new Map<string, TargetResult>();
    for (const [name, source] of Object.entries(sources())) results.set(name, await session.screenCandidate(kernel, { name, source }, { bench: false }));
    expectVerdicts(results);
  });
});

describe('guard canaries', () => {
  it('differ between buffers: one call that copies past the end of x into past the end of t is caught', async () => {
    const compiler = new WasmCompiler(resolveToolchain('yowasp'), { cacheDir: join(tempDir(), 'cache') });
    const built = await compiler.compile(kernel.spec, sources().scratch_overrun, 'scratch_overrun.c');
    await compiler.close();
    if (!built.ok) throw new Error(built.diagnostic);
    const inst = new KernelInstance(new WebAssembly.Module(built.wasm as Uint8Array<ArrayBuffer>), 64 << 20);
    const env = { n: 1, rows: 1 };
    expect(inst.layout(kernel.spec, env, 1)).toBe(true);
    for (const [name, data] of generateInputs(kernel.spec, env, 'uniform', 1)) inst.write(0, name, data);
    inst.poisonOutputs(0);
    expect(inst.checkGuards()).toBeNull();
    inst.call(0);
    expect(inst.checkGuards()).toEqual({ buffer: 't', side: 'after', offset: 0 });
  });
});

describe.skipIf(missing('a C compiler (cc)', hasCommand('cc')))('a scratch buffer in the native driver', () => {
  it('serves the unfused baseline, is poisoned before every call and guarded at both ends', async () => {
    const dir = tempDir();
    const candidates = Object.entries(sources()).map(([name, source]) => {
      writeFileSync(join(dir, `${name}.c`), source);
      return { name, path: join(dir, `${name}.c`) };
    });
    const local = HostConfig.parse({ name: 'local', executor: 'local', arch: 'x86_64' });
    const list = await runNative(kernel, candidates, local, { candidateTimeoutS: 60, skipTiming: true, trials: 1 });
    expectVerdicts(new Map(list.map((r) => [r.candidate, r])));
  });
});
