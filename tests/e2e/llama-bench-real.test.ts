// Against a real llama-bench of the pinned upstream: the random model loads and runs, and an A/A timing of one
// binary against itself finds no difference on a quiet machine.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/remote/local.js';
import { runLlamaBench, type LlamaBenchArgs } from '../../src/e2e/llama-bench.js';
import { cachedRandomLlamaGguf, writeRandomLlamaGguf } from '../../src/e2e/random-model.js';
import { timeE2e } from '../../src/e2e/timing.js';
import { findLlamaBench, llamaBenchMissing } from '../helpers/llama-bench.js';

const executor = new LocalExecutor({ name: 'local', executor: 'local', arch: 'x86_64', marchNative: false, usdPerHour: 0, sshOptions: [], remoteDir: '/tmp', connectTimeoutS: 10 });

// the first reference build takes many minutes; afterwards it is a cached lookup
describe.skipIf(llamaBenchMissing())('the random llama in a real llama-bench', { timeout: 600_000 }, () => {
  let bench = '';
  let dir = '';
  let model = '';
  let args: LlamaBenchArgs;
  beforeAll(async () => {
    const found = await findLlamaBench();
    if (!found) throw new Error('no llama-bench although one was expected (see tests/helpers/llama-bench.ts)');
    bench = found;
    dir = mkdtempSync(join(tmpdir(), 'kbench-e2e-real-'));
    // small but with every feature of the default (grouped-query attention, byte tokens, f16 weights, f32 norms), and
    // 1001 rows of 144 bytes, so tensors sit on padded offsets
    model = writeRandomLlamaGguf(join(dir, 'small.gguf'), { layers: 2, embd: 72, heads: 4, kvHeads: 2, ff: 100, vocab: 1001, ctx: 1024 }).path;
    args = { model, threads: 1, prompt: 32, gen: 8, depths: [0, 256], flashAttn: 'off' };
  }, 3_600_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads and runs prompt processing and generation at depth, flash attention off and on', async () => {
    for (const flashAttn of ['off', 'on'] as const) {
      const outcome = await runLlamaBench(executor, bench, { ...args, flashAttn }, { timeoutMs: 120_000 });
      expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
      if (!outcome.ok) return;
      expect(outcome.tests.map((t) => t.label)).toEqual(['pp32 @ d0', 'tg8 @ d0', 'pp32 @ d256', 'tg8 @ d256']);
      for (const t of outcome.tests) expect(t.tokensPerS).toBeGreaterThan(1);
    }
  });

  it('runs the default model', async () => {
    const { path } = cachedRandomLlamaGguf({}, join(dir, 'cache'));
    const outcome = await runLlamaBench(executor, bench, { ...args, model: path, prompt: 8, gen: 2, depths: [0] }, { timeoutMs: 120_000 });
    expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
  });

  it('gives a reason naming the problem when the model file is cut short', async () => {
    const cut = join(dir, 'cut.gguf');
    const whole = readFileSync(model);
    writeFileSync(cut, whole.subarray(0, whole.length >> 1));
    const outcome = await runLlamaBench(executor, bench, { ...args, model: cut }, { timeoutMs: 120_000 });
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.reason).toMatch(/exited with status|killed by/);
  });

  it('finds no difference between the binary and itself (A/A)', async () => {
    const timing = await timeE2e({ executor, reference: bench, graft: bench, bench: { ...args, depths: [0] }, rounds: 6, seed: 2 });
    expect(timing.status, timing.reason).toBe('timed');
    expect(timing.tests.map((t) => t.label)).toEqual(['pp32 @ d0', 'tg8 @ d0']);
    // A 95% CI calls about 5% of A/A tests under heavy noise; on a busy machine the run says it is unstable, and
    // that warning, not the verdict, is what a user reads there
    if (timing.stability.status === 'stable') for (const t of timing.tests) expect(t.verdict, t.summary).toBe('no-change');
  });
});
