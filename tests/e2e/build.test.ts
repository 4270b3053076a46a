// The pieces of the end-to-end build that do not need a full llama.cpp build: command lines split like sh, and
// llama-bench's link command read from a Makefiles configure (CI may lack ninja; e2e-build.test.ts covers the
// generator this machine has), with its inputs resolving to the build's libraries.
import { mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { benchLinkCommand, e2eCmakeOptions, splitCommand } from '../../src/e2e/build.js';
import { fetchedUpstream } from '../../src/upstream/source.js';
import { hasCommand, missing } from '../helpers/require.js';

describe('splitting command lines', () => {
  it('honours double and single quotes and backslashes, as sh does', () => {
    expect(splitCommand(`c++  "CMakeFiles/a b.o" -o x 'it''s' -DV=\\"q\\" a\\ b`)).toEqual(['c++', 'CMakeFiles/a b.o', '-o', 'x', 'its', '-DV="q"', 'a b']);
  });
});

describe('the reference build options', () => {
  it('are the CPU-only options with llama-bench, common and compile commands on', () => {
    const opts = e2eCmakeOptions('x64');
    expect(opts).toEqual(expect.arrayContaining(['-DLLAMA_BUILD_TOOLS=ON', '-DLLAMA_BUILD_COMMON=ON', '-DCMAKE_EXPORT_COMPILE_COMMANDS=ON', '-DGGML_NATIVE=OFF', '-DGGML_OPENMP=OFF', '-DGGML_AVX2=ON']));
    expect(opts).not.toContain('-DLLAMA_BUILD_TOOLS=OFF');
  });
});

const pinned = fetchedUpstream();
const why = missing('cmake', hasCommand('cmake') && hasCommand('c++')) || (pinned ? '' : 'the pinned upstream is not fetched');

describe.skipIf(why)('a Makefiles configure', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kbench-e2e-make-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("gives llama-bench's link command with main.cpp.o, -o and ggml-cpu's library resolving inside the build", async () => {
    execFileSync('cmake', ['-S', pinned!.dir, '-B', dir, '-G', 'Unix Makefiles', ...e2eCmakeOptions()], { stdio: 'ignore' });
    const link = await benchLinkCommand(dir, 'Unix Makefiles');
    const inputs = link.argv.map((a) => resolve(link.cwd, a));
    expect(inputs).toContain(join(dir, 'tools', 'llama-bench', 'CMakeFiles', 'llama-bench.dir', 'main.cpp.o'));
    expect(inputs).toContain(join(dir, 'ggml', 'src', 'libggml-cpu.a'));
    expect(resolve(link.cwd, link.argv[link.argv.indexOf('-o') + 1])).toBe(join(dir, 'bin', 'llama-bench'));
  }, 120_000);
});
