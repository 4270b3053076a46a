import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeToolchains, resolveToolchain } from '../../src/build/toolchain.js';
import { WasmCompiler } from '../../src/build/compiler.js';
import { ScreenSession } from '../../src/screen/session.js';
import { loadKernel } from '../../src/spec/suite.js';
import { UsageError } from '../../src/errors.js';
import { FIXTURE_KERNELS, tempDir } from '../helpers/fixtures.js';
import { missing } from '../helpers/require.js';

const kernel = loadKernel(join(FIXTURE_KERNELS, 'scale_rows'));
const probes = probeToolchains();

describe.each(['yowasp', 'clang', 'emcc'])('the %s WASM toolchain', (kind) => {
  const probe = probes.find((p) => p.kind === kind)!;
  describe.skipIf(missing(`${kind} WASM toolchain (${probe.reason})`, !!probe.found))('when present', () => {
    it('builds a kernel that passes the sandbox check, and caches the build by content', async () => {
      const workDir = tempDir();
      const session = ScreenSession.open({ workDir, cc: kind, pairs: 9, sampleMs: 1 });
      try {
        const source = readFileSync(join(kernel.dir, 'candidates', 'same.c'), 'utf8');
        const r = await session.screenCandidate(kernel, { name: 'same', source }, { bench: false });
        expect(r.check.status).toBe('pass');
        expect(r.toolchain).toContain(kind === 'yowasp' ? '@yowasp/clang' : kind);
      } finally {
        await session.close();
      }
      // the same compiler, screen-model flags, x86 headers and max/min rewrite as the session's build; without the
      // headers (or with other header text, or without the rewrite where the model has it) it is another build
      const cacheDir = join(workDir, '.kbench', 'cache');
      const { flags, intrinsics, branchlessMinMax } = session.model;
      const build = async (options: Partial<ConstructorParameters<typeof WasmCompiler>[1]>) => {
        const compiler = new WasmCompiler(resolveToolchain(kind), { cacheDir, flags, branchlessMinMax, ...options });
        try {
          return await compiler.compile(kernel.spec, readFileSync(join(kernel.dir, 'candidates', 'same.c'), 'utf8'), 'same.c');
        } finally {
          await compiler.close();
        }
      };
      expect(await build({ intrinsics })).toMatchObject({ ok: true, cached: true });
      expect(await build({})).toMatchObject({ ok: true, cached: false });
      const edited = { ...intrinsics!, files: { ...intrinsics!.files, 'x86/immintrin.h': `${intrinsics!.files['x86/immintrin.h']}\n` } };
      expect(await build({ intrinsics: edited })).toMatchObject({ ok: true, cached: false });
      if (branchlessMinMax) expect(await build({ intrinsics, branchlessMinMax: false })).toMatchObject({ ok: true, cached: false });
    });
  });
});

describe('choosing a toolchain', () => {
  it('refuses an unknown --cc with exit-2 usage error', () => {
    expect(() => resolveToolchain('gcc')).toThrow(UsageError);
    expect(() => resolveToolchain('gcc')).toThrow("--cc: unknown compiler 'gcc' (choose emcc, clang, yowasp)");
  });

  it('always finds yowasp, so a fresh machine can screen', () => {
    expect(probes.find((p) => p.kind === 'yowasp')!.found).not.toBeNull();
  });
});
