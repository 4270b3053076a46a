// The end-to-end builds on this machine: the unmodified llama.cpp reference (llama-bench and kbench's logits tool,
// built once with cmake and cached: minutes the first time), rms_norm, rms_norm_mul and softmax candidates grafted
// into ggml (seconds each), and the logits check: an honest candidate agrees, a wrong one is caught, and one the
// include policy refuses never reaches the build. All builds in this file share one reference; keep every test that
// needs it here.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGraft, buildReference, type LlamaBuild, type ReferenceBuild } from '../../src/e2e/build.js';
import type { CandidateToolchain } from '../../src/e2e/candidate.js';
import { checkLogits, compareLogits, DEFAULT_LOGITS_OPTIONS, logitsTolerance, runLogits, type LogitsVerdict } from '../../src/e2e/logits.js';
import { graftAndCheck } from '../../src/e2e/prepare.js';
import { writeRandomLlamaGguf } from '../../src/e2e/random-model.js';
import { localHost, toolchainFor } from '../../src/remote/hosts.js';
import { BUILTIN_KERNELS_DIR, findKernel } from '../../src/spec/suite.js';
import { fetchUpstream, fetchedUpstream, type UpstreamSource } from '../../src/upstream/source.js';
import { hasCommand, missing, REQUIRE_ALL } from '../helpers/require.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/e2e/', import.meta.url));
const tools = missing('cmake with a C and C++ compiler', hasCommand('cmake') && hasCommand('c++') && hasCommand('cc'));
const fetchAllowed = Boolean(process.env.CI) || REQUIRE_ALL || fetchedUpstream() !== null;
const why = tools || (fetchAllowed ? '' : 'the pinned upstream is not fetched (run `kbench upstream fetch`, or CI=1 to let the tests fetch it)');

// each graft compiles ops.cpp and links twice (15-20 s on 2 busy cores), then runs both builds: generous per test
describe.skipIf(why)('end-to-end builds and the logits check', { timeout: 600_000 }, () => {
  const kernel = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm');
  const tolerance = logitsTolerance(kernel.spec);
  const toolchain: CandidateToolchain = toolchainFor(localHost());
  let source: UpstreamSource;
  let ref: ReferenceBuild;
  let model: string;
  let work: string;
  const grafted = async (path: string, name: string): Promise<LlamaBuild> => {
    const outcome = await buildGraft(ref, source, kernel, { name, path }, toolchain);
    if (outcome.status !== 'built') throw new Error(`${name}: ${outcome.reason}`);
    return outcome.build;
  };

  beforeAll(async () => {
    source = await fetchUpstream();
    ref = await buildReference(source);
    work = mkdtempSync(join(tmpdir(), 'kbench-e2e-'));
    // small (2 layers of 256) so each logits run takes a second, with the default's head size and vocabulary
    model = writeRandomLlamaGguf(join(work, 'small-llama.gguf'), { layers: 2, embd: 256, heads: 4, ff: 768, ctx: 1024 }).path;
  }, 3_600_000);
  afterAll(() => work && rmSync(work, { recursive: true, force: true }));

  it('the reference runs the model the same way twice (the check compares builds, not runs)', async () => {
    const [a, b] = await Promise.all([runLogits(ref, model, DEFAULT_LOGITS_OPTIONS), runLogits(ref, model, DEFAULT_LOGITS_OPTIONS)]);
    if (!a.ok || !b.ok) throw new Error(`kb_logits failed: ${!a.ok ? a.reason : ''} ${!b.ok ? b.reason : ''}`);
    expect(a.run.nVocab).toBe(32000);
    expect(a.run.tokens).toHaveLength(DEFAULT_LOGITS_OPTIONS.steps);
    expect(compareLogits(a.run, b.run, 0)).toMatchObject({ status: 'agree', maxRelDiff: 0 });
  });

  it('a built-in rms_norm candidate grafted into ggml agrees with the reference, and really ran', async () => {
    const before = statSync(ref.llamaBench).mtimeMs;
    const build = await grafted(join(kernel.dir, 'candidates', 'unroll_fused.c'), 'unroll_fused');
    const verdict = await checkLogits(ref, build, model, tolerance);
    expect(verdict.status, verdict.reason).toBe('agree');
    expect(verdict.top1MismatchRow).toBeNull();
    // 2 norms per layer and the output norm, per decode step and for the prompt batch
    expect(verdict.graftCalls).toBeGreaterThan(0);
    // float sums where ggml sums in double: the logits move a little, so the grafted code is what ran
    expect(verdict.maxRelDiff).toBeGreaterThan(0);
    expect(verdict.maxRelDiff).toBeLessThanOrEqual(tolerance);
    // only the graft's own files were made: the reference build is untouched
    expect(statSync(ref.llamaBench).mtimeMs).toBe(before);
    expect(readdirSync(build.dir)).toEqual(expect.arrayContaining(['ops.cpp', 'kbench-grafted.o', 'libggml-cpu.a', 'llama-bench']));
    const again = await buildGraft(ref, source, kernel, { name: 'unroll_fused', path: join(kernel.dir, 'candidates', 'unroll_fused.c') }, toolchain);
    expect(again.status === 'built' && again.build.dir).toBe(build.dir);
  });

  it('a wrong candidate (outputs 1% too large) is caught by the logits check, with the figures in the reason', async () => {
    const check = await graftAndCheck(kernel, { name: 'rms_norm_scaled', path: join(FIXTURES, 'rms_norm_scaled.c') }, { model, source, toolchain });
    expect(check.reference.key).toBe(ref.key);
    expect(check.verdict.status).toBe('differ');
    const verdict = check.verdict as LogitsVerdict;
    expect(verdict.maxRelDiff).toBeGreaterThan(tolerance);
    expect(verdict.reason).toMatch(/top-1 token differs|max relative logit difference .* exceeded/);
  });

  it('a checkout where the grafted function changed fails before anything is built, naming file and fingerprints', async () => {
    const root = mkdtempSync(join(work, 'moved-'));
    const file = join(root, 'ggml', 'src', 'ggml-cpu', 'ops.cpp');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, readFileSync(join(source.dir, 'ggml', 'src', 'ggml-cpu', 'ops.cpp'), 'utf8').replace('// TODO: optimize\n', ''));
    const moved = { ...source, origin: root, dir: root };
    await expect(buildGraft(ref, moved, kernel, { name: 'unroll_fused', path: join(kernel.dir, 'candidates', 'unroll_fused.c') }, toolchain)).rejects.toThrow(
      new RegExp(`${file}: ggml_compute_forward_rms_norm_f32 differs .*expected sha256 [0-9a-f]{64}, found [0-9a-f]{64}`),
    );
  });

  it("the rms_norm graft is reached only with ggml's RMS_NORM+MUL fusion off, as its recipe's env says; unreached is a verdict", async () => {
    const build = await grafted(join(FIXTURES, 'rms_norm_scaled.c'), 'rms_norm_scaled');
    expect(build.env).toEqual({ GGML_CPU_DISABLE_FUSION: '1' });
    const fused = await checkLogits(ref, { ...build, env: {} }, model, tolerance);
    expect(fused).toMatchObject({ status: 'unreached', maxRelDiff: 0 });
    expect(fused.reason).toMatch(/0 ops reached the candidate/);
  });

  it('a softmax candidate grafted into ggml (no flash attention: llama-bench -fa 0) agrees and is reached', async () => {
    const softmax = findKernel(BUILTIN_KERNELS_DIR, 'softmax');
    const outcome = await buildGraft(ref, source, softmax, { name: 'online', path: join(softmax.dir, 'candidates', 'online.c') }, toolchain);
    if (outcome.status !== 'built') throw new Error(outcome.reason);
    expect(outcome.build.flashAttention).toBe('off');
    const verdict = await checkLogits(ref, outcome.build, model, logitsTolerance(softmax.spec));
    expect(verdict.status, verdict.reason).toBe('agree');
    expect(verdict.graftCalls).toBeGreaterThan(0);
    // with flash attention on, soft_max is not an op of the graph: the graft is unreached, and says so
    expect((await checkLogits(ref, outcome.build, model, logitsTolerance(softmax.spec), { flashAttention: 'on' })).status).toBe('unreached');
  });

  describe('rms_norm_mul: the RMS_NORM+MUL pair ggml fuses in every llama graph', () => {
    const fused = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm_mul');
    const fusedTolerance = logitsTolerance(fused.spec);
    const graftFused = async (path: string, name: string): Promise<LlamaBuild> => {
      const outcome = await buildGraft(ref, source, fused, { name, path }, toolchain);
      if (outcome.status !== 'built') throw new Error(`${name}: ${outcome.reason}`);
      return outcome.build;
    };
    // the attention and FFN norms of 2 layers, per graph: the prompt batch and 16 decode steps; llama's output
    // norm is computed in place over its input, which the spec never does, so it stays upstream's
    const fusedOps = 2 * 2 * (1 + DEFAULT_LOGITS_OPTIONS.steps);

    it('a built-in candidate grafted into the fused op agrees with the stock reference (no env) and is reached', async () => {
      const build = await graftFused(join(fused.dir, 'candidates', 'vec_fused.c'), 'vec_fused');
      expect(build.env).toEqual({});
      const verdict = await checkLogits(ref, build, model, fusedTolerance);
      expect(verdict.status, verdict.reason).toBe('agree');
      expect(verdict.graftCalls).toBe(fusedOps);
    });

    it('a candidate that uses the scratch t over all its rows runs on the graft\'s per-thread scratch, bit for bit', async () => {
      // unfused.c writes every row it owns into t and reads it back, with upstream's arithmetic in upstream's order
      const build = await graftFused(join(fused.dir, 'candidates', 'unfused.c'), 'unfused');
      const verdict = await checkLogits(ref, build, model, fusedTolerance);
      expect(verdict).toMatchObject({ status: 'agree', maxRelDiff: 0, graftCalls: fusedOps });
    });

    it('a wrong candidate (outputs 1% too large) is caught by the logits check; with fusion off it is unreached', async () => {
      const check = await graftAndCheck(fused, { name: 'rms_norm_mul_scaled', path: join(FIXTURES, 'rms_norm_mul_scaled.c') }, { model, source, toolchain });
      expect(check.verdict.status).toBe('differ');
      const verdict = check.verdict as LogitsVerdict;
      expect(verdict.graftCalls).toBe(fusedOps);
      expect(verdict.maxRelDiff).toBeGreaterThan(fusedTolerance);
      // GGML_CPU_DISABLE_FUSION=1 (what the rms_norm recipe needs) takes the fused op, and so the graft, away
      const unfused = await checkLogits(ref, { ...check.graft!, env: { GGML_CPU_DISABLE_FUSION: '1' } }, model, fusedTolerance);
      expect(unfused).toMatchObject({ status: 'unreached', maxRelDiff: 0 });
    });

    it('hands the candidate only what its spec covers: other w shapes, eps, strided x and in-place stay upstream\'s', async () => {
      const outcome = await buildGraft(ref, source, fused, { name: 'rms_norm_mul_scaled', path: join(FIXTURES, 'rms_norm_mul_scaled.c') }, toolchain);
      if (outcome.status !== 'built') throw new Error(outcome.reason);
      // a program of ggml graphs linked against the grafted CPU backend: per case, ops that reached the candidate
      // and the worst relative error against the expected output (the wrong candidate is 1% off, upstream ~0)
      const dir = mkdtempSync(join(work, 'cases-'));
      const base = ref.record.libs.find((l) => l.endsWith('libggml-base.a'))!;
      execFileSync('cc', ['-O2', `-I${join(source.dir, 'ggml', 'include')}`, '-c', join(FIXTURES, 'rms_norm_mul_cases.c'), '-o', join(dir, 'cases.o')]);
      execFileSync('c++', [join(dir, 'cases.o'), join(outcome.build.dir, 'libggml-cpu.a'), base, '-lm', '-lpthread', '-o', join(dir, 'cases')]);
      const cases = Object.fromEntries(execFileSync(join(dir, 'cases'), { encoding: 'utf8' }).trim().split('\n').map((l) => {
        const [name, calls, error] = l.split(' ');
        return [name, { calls: Number(calls), error: Number(error) }];
      }));
      expect(cases.covered.calls).toBe(1);
      expect(cases.covered.error).toBeCloseTo(0.01, 4);
      for (const name of ['w-per-row', 'eps-outside-spec', 'strided-x', 'in-place']) {
        expect(cases[name]?.calls, name).toBe(0);
        expect(cases[name]?.error, name).toBeLessThan(1e-5);
      }
    });
  });

  it('a candidate the include policy refuses is a compile-error outcome, and nothing is linked', async () => {
    const outcome = await buildGraft(ref, source, kernel, { name: 'reads_host_file', path: join(FIXTURES, 'rms_norm_reads_host_file.c') }, toolchain);
    expect(outcome.status).toBe('compile-error');
    expect(outcome.status === 'compile-error' && outcome.reason).toMatch(/include policy/);
  });
});
