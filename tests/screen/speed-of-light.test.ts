// A content-keyed cache defeats every output check (its outputs are always right, wherever the buffers live); the
// speed of light measured beside the samples is what exposes it, in the WASM screen and natively alike.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostConfig } from '../../src/config/config.js';
import type { SpeedResult } from '../../src/measure/types.js';
import { runNative } from '../../src/remote/native.js';
import { outcomeOf } from '../../src/remote/outcome.js';
import { wasmRejection } from '../../src/remote/promote.js';
import { ScreenSession } from '../../src/screen/session.js';
import { BUILTIN_KERNELS_DIR, findKernel } from '../../src/spec/suite.js';
import { FIXTURES, tempDir } from '../helpers/fixtures.js';
import { hasCommand, missing } from '../helpers/require.js';

const kernel = findKernel(BUILTIN_KERNELS_DIR, 'fa_kq_tile');
const baseline = readFileSync(kernel.baselinePath, 'utf8');
// the baseline's entry point renamed, and the caching wrapper appended under the real name
const cacheSource = `${baseline.replace('void fa_kq_tile(', 'static void compute_tile(')}\n${readFileSync(join(FIXTURES, 'content-cache', 'fa_kq_tile_cache.c'), 'utf8')}`;
const prefill = (speed: SpeedResult[]) => speed.filter((s) => s.shape.startsWith('prefill'));

function expectCaught(speed: SpeedResult[]): void {
  expect(prefill(speed)).toHaveLength(2);
  for (const s of prefill(speed)) {
    expect(s.suspect).toMatch(/GFLOP\/s is over 3× the measured peak of [\d.]+ GFLOP\/s/);
    expect(s.gflops).toBeGreaterThan(3 * s.speedOfLight!.peakGflops);
  }
}

describe('the speed of light in the WASM screen', () => {
  let session: ScreenSession;
  beforeAll(() => {
    session = ScreenSession.open({ workDir: tempDir(), cc: 'yowasp', pairs: 9, sampleMs: 2 });
  });
  afterAll(() => session.close());

  it('is measured beside an honest candidate, which stays below it', async () => {
    const r = await session.screenCandidate(kernel, { name: 'a_a', source: baseline });
    expect(r.check.status).toBe('pass');
    for (const s of r.speed) {
      expect(s.suspect).toBeUndefined();
      const sol = s.speedOfLight!;
      expect(sol.footprintBytes).toBeGreaterThan(0);
      expect(sol.readNs).toBeGreaterThan(0);
      expect(sol.peakGflops).toBeGreaterThan(1);
      expect(s.gflops).toBeLessThan(sol.peakGflops * 1.5);
    }
  });

  it('flags a content-keyed cache that passes every check but skips the GEMM', async () => {
    const r = await session.screenCandidate(kernel, { name: 'content_cache', source: cacheSource });
    expect(r.check.status).toBe('pass');
    expectCaught(r.speed);
    // not celebrated as faster, and not promoted
    expect(outcomeOf(r)).toBe('suspect');
    expect(wasmRejection(r)).toMatch(/^its WASM timing on prefill tile 64x64 d128.* is past the speed of light/);
  });
});

describe.skipIf(missing('a C compiler (cc)', hasCommand('cc')))('the speed of light of a native build', () => {
  it('flags the same cache natively, and not the baseline against itself', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'content_cache.c'), cacheSource);
    const local = HostConfig.parse({ name: 'local', executor: 'local', arch: 'x86_64' });
    const [cache, aa] = await runNative(kernel, [{ name: 'content_cache', path: join(dir, 'content_cache.c') }, { name: 'aa', path: kernel.baselinePath }], local, {
      candidateTimeoutS: 60,
      trials: 1,
      benchShapes: ['prefill tile 64x64 d128', 'prefill tile 64x64 d128 softcap 30'],
    });
    expect(cache.check.status).toBe('pass');
    expectCaught(cache.speed);
    expect(outcomeOf(cache)).toBe('suspect');
    expect(aa.speed.map((s) => s.suspect)).toEqual([undefined, undefined]);
    expect(aa.speed.every((s) => s.speedOfLight!.peakGflops > 1)).toBe(true);
  });
});
