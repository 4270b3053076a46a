// `kbench e2e` as a user runs it, on the cached reference llama.cpp build (tests/e2e/e2e-build.test.ts builds the
// same one; the first build takes minutes) and a small random llama: an honest rms_norm candidate agrees and gets a
// verdict with a CI per test, the op's share and a ledger and report with the end-to-end section; a wrong candidate
// is caught by the logits (a verdict, a clean exit, nothing timed); usage errors exit 2 before anything builds.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeRandomLlamaGguf } from '../../src/e2e/random-model.js';
import type { E2eResult } from '../../src/ledger/records.js';
import { readLedger } from '../../src/ledger/ledger.js';
import { fetchedUpstream } from '../../src/upstream/source.js';
import { CLI, tempDir } from '../helpers/fixtures.js';
import { hasCommand, missing, REQUIRE_ALL } from '../helpers/require.js';

const run = promisify(execFile);
const kbench = (cwd: string, ...args: string[]) => run('node', [CLI, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
const FIXTURES = fileURLToPath(new URL('../fixtures/e2e/', import.meta.url));

describe('kbench e2e usage errors', () => {
  const work = tempDir();

  it('a kernel without a graft recipe exits 2 naming it and the kernels that have one', async () => {
    await expect(kbench(work, 'e2e', 'quantize_q8_0', '-c', 'baseline')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/quantize_q8_0 has no graft recipe .*kernels with one: rms_norm, rms_norm_mul, softmax/),
    });
  });

  it('an unknown host, the emulator, a missing candidate, bad numbers and a bad model exit 2 with one message each', async () => {
    await expect(kbench(work, 'e2e', 'rms_norm', '-c', 'vec4', '--on', 'x86a')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("unknown host 'x86a'") });
    await expect(kbench(work, 'e2e', 'rms_norm', '-c', 'vec4', '--on', 'qemu-aarch64')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('qemu-aarch64 is an emulator') });
    await expect(kbench(work, 'e2e', 'rms_norm', '-c', 'nope')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--candidate nope: not a candidate of rms_norm') });
    await expect(kbench(work, 'e2e', 'rms_norm')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--candidate is required') });
    await expect(kbench(work, 'e2e', 'rms_norm', '-c', 'vec4', '--depth', '0,x')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("--depth: expected whole numbers") });
    await expect(kbench(work, 'e2e', 'rms_norm', '-c', 'vec4', '--pp', '0', '--tg', '0')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('both are 0') });
    await expect(kbench(work, 'e2e', 'rms_norm', '-c', 'vec4', '--model', join(FIXTURES, 'rms_norm_scaled.c'))).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('rms_norm_scaled.c') });
    // nothing half-written: no run folder for a usage error
    expect(existsSync(join(work, '.kbench', 'runs'))).toBe(false);
  });
});

const tools = missing('cmake with a C and C++ compiler', hasCommand('cmake') && hasCommand('c++') && hasCommand('cc'));
const fetchAllowed = Boolean(process.env.CI) || REQUIRE_ALL || fetchedUpstream() !== null;
const why = tools || (fetchAllowed ? '' : 'the pinned upstream is not fetched (run `kbench upstream fetch`, or CI=1 to let the tests fetch it)');

// a graft compiles ops.cpp and links (15-20 s on 2 busy cores); the first reference build takes many minutes
describe.skipIf(why)('kbench e2e on a small random llama', { timeout: 3_600_000 }, () => {
  const work = tempDir();
  let model = '';
  const small = ['--depth', '0', '--pp', '32', '--tg', '8', '--rounds', '3', '--threads', '1'];
  beforeAll(() => {
    model = writeRandomLlamaGguf(join(work, 'small-llama.gguf'), { layers: 2, embd: 256, heads: 4, ff: 768, ctx: 1024 }).path;
  });

  it('an honest candidate: logits agree, a verdict with a CI per test, the op share, a ledger and a report with the section', async () => {
    const { stdout } = await kbench(work, '--json', 'e2e', 'rms_norm', '-c', 'unroll_fused', '--model', model, ...small);
    const out = JSON.parse(stdout) as { schema: string; dir: string; report: string; result: E2eResult };
    expect(out.schema).toBe('kbench.e2e/1');
    const r = out.result;
    expect(r.logits.status, r.logits.reason).toBe('agree');
    expect(r.recipe).toMatchObject({ function: 'ggml_compute_forward_rms_norm_f32', env: { GGML_CPU_DISABLE_FUSION: '1' } });
    expect(r.model).toMatchObject({ path: model, generated: false, file: { architecture: 'llama' } });
    expect(r.timing?.status).toBe('timed');
    expect(r.timing!.tests.map((t) => t.label)).toEqual(['pp32 @ d0', 'tg8 @ d0']);
    for (const t of r.timing!.tests) {
      expect(t.referenceNs).toHaveLength(3);
      expect(t.ratio.lo).toBeLessThanOrEqual(t.ratio.estimate);
      expect(t.ratio.hi).toBeGreaterThanOrEqual(t.ratio.estimate);
      expect(['faster', 'slower', 'no-change']).toContain(t.verdict);
      expect(t.summary).toMatch(/CI/);
    }
    // the free build was timed: a share per test; no `kbench run --upstream` in this folder, so no prediction, and it says how to get one
    expect(r.shares?.map((s) => s.label)).toEqual(['pp32 @ d0', 'tg8 @ d0']);
    expect(r.prediction).toBeUndefined();
    expect(r.predictionNote).toContain('kbench run rms_norm -c unroll_fused --upstream');
    expect(readLedger(join(out.dir, 'ledger.jsonl')).map((e) => e.type)).toEqual(['run-start', 'e2e', 'run-end']);
    expect(readFileSync(join(out.dir, 'sources', 'rms_norm', 'unroll_fused.c'), 'utf8')).toContain('rms_norm');
    const md = readFileSync(join(out.dir, 'report.md'), 'utf8');
    expect(md).toContain('## End to end');
    expect(md).toContain('| pp32 @ d0 |');
    expect(md).not.toContain('Speedup vs baseline');
    expect(readFileSync(out.report, 'utf8')).toContain('<section id="e2e">');
    const gbench = JSON.parse((await kbench(work, 'report', out.dir, '--format', 'gbench')).stdout);
    expect(gbench.benchmarks.map((b: { name: string }) => b.name)).toEqual(expect.arrayContaining(['rms_norm/unroll_fused/e2e tg8 @ d0/local', 'rms_norm/upstream/e2e tg8 @ d0/local']));
  });

  it('a wrong candidate is caught by the logits: a differ verdict, nothing timed, a clean exit and the table-less report', async () => {
    const { stdout } = await kbench(work, 'e2e', 'rms_norm', '-c', join(FIXTURES, 'rms_norm_scaled.c'), '--model', model, ...small, '--no-share');
    expect(stdout).toMatch(/logits differ: /);
    expect(stdout).toContain('not timed: the logits did not agree');
    expect(stdout).not.toContain('reference t/s');
    const dir = /saved in (\S+)/.exec(stdout)![1];
    const events = readLedger(join(dir, 'ledger.jsonl'));
    const e2e = events.find((e) => e.type === 'e2e');
    expect(e2e?.type === 'e2e' && e2e.result).toMatchObject({ candidate: 'rms_norm_scaled', logits: { status: 'differ' } });
    expect(e2e?.type === 'e2e' && e2e.result.timing).toBeUndefined();
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('logits differ');
  });
});
