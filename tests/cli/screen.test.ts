import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync, cpSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, FIXTURE_KERNELS, FIXTURES, tempDir } from '../helpers/fixtures.js';
import { readLedger } from '../../src/ledger/ledger.js';
import { BUILTIN_KERNELS_DIR, loadKernel } from '../../src/spec/suite.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { screenModel } from '../../src/build/screen-target.js';
import { resolveToolchain } from '../../src/build/toolchain.js';
import { speedResult, targetResult, writeMemoryFloorRun } from '../helpers/results.js';

const run = promisify(execFile);

async function kbench(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [CLI, ...args], { cwd, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('kbench screen from the command line', () => {
  it("notes a shape past a calibrated host's memory floor with the most that host can gain there, and puts the floor in --json", async () => {
    const cwd = tempDir();
    const label = screenModel('avx2', resolveToolchain('yowasp')).label;
    // the floor (k = 2, c = 1.5) from past runs, and rms_norm's shapes timed on the same host: prefill's buffers
    // read in 100 µs (its floor in WASM: 300 µs, above any WASM time of vec4), decode's in 1 ns
    writeMemoryFloorRun(cwd, `cc; ${label}`);
    const native = new Ledger(join(cwd, '.kbench', 'runs', '20261127-010000-bbbb'));
    const shapes = [{ shape: 'decode 1x4096', readNs: 1, baselineNs: 3000 }, { shape: 'prefill 64x4096', readNs: 100_000, baselineNs: 400_000 }];
    const speed = shapes.map(({ shape, readNs, baselineNs }, i) => speedResult(2, i, { shape, baselineMedianNs: baselineNs, speedOfLight: { footprintBytes: 1, readNs, peakGflops: 1 } }));
    native.append({ type: 'result', at: '', result: targetResult({ target: 'x86a', kernel: 'rms_norm', candidate: 'vec4', speed }) });
    const { code, stdout } = await kbench(['screen', 'rms_norm', '-c', 'vec4', '--cc', 'yowasp', '--target', 'avx2', '--pairs', '9', '--sample-ms', '1'], cwd);
    expect(code).toBe(0);
    const rows = stdout.split('\n').filter((l) => l.startsWith('rms_norm  vec4'));
    expect(rows).toHaveLength(2);
    expect(rows.find((l) => l.includes('prefill'))).toContain('memory-bound on x86a (≈ 2.0× at most)');
    expect(rows.find((l) => l.includes('decode'))).not.toContain('memory-bound');
    const out = JSON.parse((await kbench(['screen', 'rms_norm', '-c', 'vec4', '--cc', 'yowasp', '--target', 'avx2', '--pairs', '9', '--sample-ms', '1', '--json'], cwd)).stdout);
    expect(out.memoryFloor).toMatchObject({ host: 'x86a', memoryFloor: { streamFactor: 2, floorRatio: 1.5 } });
    expect(out.memoryFloor.shapes).toContainEqual({ kernel: 'rms_norm', shape: 'prefill 64x4096', capSpeedup: 2, floorWasmNs: 300_000 });
  }, 120_000);

  // V8 allocates 28 vector registers on arm64: only on x64 does 24 v128 exceed them
  it.skipIf(process.arch !== 'x64')('notes a register-blocked candidate V8 cannot keep in registers here, once, in the table and the JSON, and not a plain one', async () => {
    const cwd = tempDir();
    const suite = join(cwd, 'suite', 'row_sum');
    cpSync(join(FIXTURE_KERNELS, 'row_sum'), suite, { recursive: true });
    rmSync(join(suite, 'candidates'), { recursive: true });
    cpSync(join(FIXTURES, 'register-bound'), join(suite, 'candidates'), { recursive: true });
    const { code, stdout } = await kbench(['screen', 'row_sum', '--kernels', 'suite', '--cc', 'yowasp', '--target', 'avx2', '--pairs', '9', '--sample-ms', '1', '--out', 'out.json'], cwd);
    expect(code).toBe(0);
    const note = 'register-bound in WASM (24 vector values live in a loop, baseline 1, 15 registers here; natively 12 of 16 ymm): natively it may gain more';
    expect(stdout.split('\n').filter((l) => l.startsWith('row_sum  blocked'))).toEqual([expect.stringContaining(note)]);
    expect(stdout.split('\n').find((l) => l.startsWith('row_sum  vector'))).not.toContain('register-bound');
    const out = JSON.parse(readFileSync(join(cwd, 'out.json'), 'utf8'));
    const byName = Object.fromEntries(out.results.map((r: { candidate: string }) => [r.candidate, r]));
    expect(byName.blocked.registerBound).toEqual({ liveValues: 24, baselineLiveValues: 1, allocatable: 15, nativeValues: 12, nativeRegisters: 16, registerName: 'ymm' });
    expect(byName.vector.registerBound).toBeUndefined();
    expect(byName.baseline.registerBound).toBeUndefined();
  }, 120_000);

  it('screen rms_norm --json lists every candidate of the built-in kernel with a verdict, and saves the run', async () => {
    const cwd = tempDir();
    const { code, stdout } = await kbench(['screen', 'rms_norm', '--json', '--cc', 'yowasp', '--pairs', '9', '--sample-ms', '1'], cwd);
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.schema).toBe('kbench.screen/1');
    const suite = loadKernel(join(BUILTIN_KERNELS_DIR, 'rms_norm'));
    expect(out.results.map((r: { candidate: string }) => r.candidate)).toEqual(['baseline', ...suite.candidates.map((c) => c.name)]);
    expect(suite.candidates.length).toBeGreaterThanOrEqual(2);
    for (const r of out.results) {
      expect(r.check.status).toBe('pass');
      if (r.candidate !== 'baseline') expect(r.speed.map((s: { verdict: string }) => s.verdict).every((v: string) => ['faster', 'slower', 'no-change'].includes(v))).toBe(true);
      // what the report's stability rules say of it, as in report.json (a busy machine may make either status)
      expect(['stable', 'unstable']).toContain(r.stability.status);
    }
    expect(['stable', 'unstable']).toContain(out.stability.status);
    expect(out.stability.status === 'unstable').toBe(out.stability.reasons.length > 0);
    const events = readLedger(join(out.dir, 'ledger.jsonl'));
    expect(events.map((e) => e.type)).toEqual(['run-start', ...out.results.map(() => 'result'), 'run-end']);
    expect(existsSync(join(out.dir, 'sources', 'rms_norm', `${out.results[1].candidate}.c`))).toBe(true);
  });

  it('screens a candidate file outside the suite, from another kernels folder set in kbench.config.json', async () => {
    const cwd = tempDir();
    cpSync(join(FIXTURE_KERNELS, 'scale_rows'), join(cwd, 'suite', 'scale_rows'), { recursive: true });
    writeFileSync(join(cwd, 'kbench.config.json'), JSON.stringify({ kernels: 'suite' }));
    writeFileSync(join(cwd, 'mine.c'), readFileSync(join(FIXTURE_KERNELS, 'scale_rows', 'reference.c'), 'utf8'));
    const { code, stdout } = await kbench(['screen', 'scale_rows', '--candidate', './mine.c', '--json', '--cc', 'yowasp', '--pairs', '9', '--sample-ms', '1'], cwd);
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.results.map((r: { candidate: string }) => r.candidate)).toEqual(['baseline', 'mine']);
    expect(out.results[1].check.status).toBe('pass');
  });

  it('a malformed spec exits 2 with one line naming the file and field, and writes no run', async () => {
    const cwd = tempDir();
    const dir = join(cwd, 'suite', 'bad');
    cpSync(join(FIXTURE_KERNELS, 'scale_rows'), dir, { recursive: true });
    const spec = JSON.parse(readFileSync(join(dir, 'kernel.json'), 'utf8'));
    spec.params[0].dtype = 'f64';
    writeFileSync(join(dir, 'kernel.json'), JSON.stringify(spec));
    const { code, stderr } = await kbench(['screen', '--kernels', 'suite'], cwd);
    expect(code).toBe(2);
    expect(stderr.trim()).toMatch(/^kbench: .*suite\/bad\/kernel\.json: params\[0\]\.dtype: Invalid option/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(cwd, '.kbench', 'runs'))).toBe(false);
  });

  it('a shape too big for the sandbox is a spec error naming the file, shape and length, before any run', async () => {
    const cwd = tempDir();
    const dir = join(cwd, 'suite', 'huge');
    cpSync(join(FIXTURE_KERNELS, 'scale_rows'), dir, { recursive: true });
    const spec = JSON.parse(readFileSync(join(dir, 'kernel.json'), 'utf8'));
    spec.shapes.bench.push({ name: 'huge', n: 1_000_000, rows: 1_000_000 });
    writeFileSync(join(dir, 'kernel.json'), JSON.stringify(spec));
    const { code, stderr } = await kbench(['screen', '--kernels', 'suite', '--cc', 'yowasp'], cwd);
    expect(code).toBe(2);
    expect(stderr.trim()).toMatch(/^kbench: \S*suite\/huge\/kernel\.json: shapes\.bench\[1\] \("huge"\): params\[0\]\.length "rows\*n" = 1000000000000 elements \(x, f32: 3730 GiB\); the shape's buffers take 7450 GiB, more than the 1 GiB the WASM sandbox can hold$/);
    expect(existsSync(join(cwd, '.kbench', 'runs'))).toBe(false);
  });

  it('a baseline that does not define the spec\'s function is a spec error naming baseline.c and "function", before any run', async () => {
    const cwd = tempDir();
    const dir = join(cwd, 'suite', 'scale_rows');
    cpSync(join(FIXTURE_KERNELS, 'scale_rows'), dir, { recursive: true });
    writeFileSync(join(dir, 'baseline.c'), readFileSync(join(dir, 'baseline.c'), 'utf8').replace('void scale_rows(', 'void scale_rows_v2('));
    const { code, stderr } = await kbench(['screen', '--kernels', 'suite', '--cc', 'yowasp'], cwd);
    expect(code).toBe(2);
    expect(stderr.trim()).toBe(`kbench: ${join(dir, 'baseline.c')}: does not define scale_rows(), the "function" of ${join(dir, 'kernel.json')}`);
    expect(existsSync(join(cwd, '.kbench', 'runs'))).toBe(false);
  });

  it('usage errors exit 2: unknown kernel, unknown candidate, bad option', async () => {
    const cwd = tempDir();
    mkdirSync(join(cwd, 'k'));
    expect((await kbench(['screen', 'nope'], cwd)).stderr).toMatch(/unknown kernel 'nope'/);
    expect((await kbench(['screen', 'nope'], cwd)).code).toBe(2);
    const badCand = await kbench(['screen', 'rms_norm', '--candidate', 'nope'], cwd);
    expect(badCand.code).toBe(2);
    expect(badCand.stderr).toMatch(/--candidate nope: not a candidate of rms_norm/);
    const badFlag = await kbench(['screen', '--pairs', 'many'], cwd);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--pairs: expected a whole number ≥ 9, got 'many'/);
    expect((await kbench(['screen', '--cc', 'tcc'], cwd)).stderr).toMatch(/--cc: unknown compiler 'tcc'/);
  });

  it('--seed must be a 32-bit whole number: a fraction or a negative is a usage error, not a trap of every candidate', async () => {
    const cwd = tempDir();
    for (const bad of ['1.5', '-1', '4294967296']) {
      const r = await kbench(['screen', 'rms_norm', '--seed', bad], cwd);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--seed: expected a whole number in [0, 4294967295], got '${bad}'`);
    }
    expect(existsSync(join(cwd, '.kbench', 'runs'))).toBe(false);
  });

  it('list and doctor answer in JSON', async () => {
    const cwd = tempDir();
    const list = JSON.parse((await kbench(['list', '--json'], cwd)).stdout);
    expect(list.kernels.map((k: { name: string }) => k.name)).toContain('rms_norm');
    const doctor = JSON.parse((await kbench(['doctor', '--json'], cwd)).stdout);
    expect(doctor.wasmToolchains.map((t: { kind: string }) => t.kind)).toEqual(['emcc', 'clang', 'yowasp']);
    expect(doctor.node).toBe(process.version);
  });
});
