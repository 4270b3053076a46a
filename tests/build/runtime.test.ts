// The WASM runtime (wasm/kb_wasm.c, kb_wasm.h) is C read at build time: a changed runtime must be a new build, not
// a module cached from the old one.
import { appendFileSync, cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WASM_RUNTIME_DIR, WasmCompiler } from '../../src/build/compiler.js';
import { resolveToolchain } from '../../src/build/toolchain.js';
import { loadKernel } from '../../src/spec/suite.js';
import { FIXTURE_KERNELS, tempDir } from '../helpers/fixtures.js';

const kernel = loadKernel(join(FIXTURE_KERNELS, 'scale_rows'));
const source = readFileSync(join(kernel.dir, 'candidates', 'same.c'), 'utf8');
const dir = tempDir();
const runtimeDir = join(dir, 'wasm');
cpSync(WASM_RUNTIME_DIR, runtimeDir, { recursive: true });
const compiler = new WasmCompiler(resolveToolchain('yowasp'), { cacheDir: join(dir, 'cache'), runtimeDir });
afterAll(() => compiler.close());

describe('the WASM runtime', () => {
  it('is part of the build cache key: the same source after a runtime edit is built again', async () => {
    const first = await compiler.compile(kernel.spec, source, 'same.c');
    const again = await compiler.compile(kernel.spec, source, 'same.c');
    expect([first.ok && first.cached, again.ok && again.cached]).toEqual([false, true]);
    for (const file of ['kb_wasm.c', 'kb_wasm.h']) {
      appendFileSync(join(runtimeDir, file), `/* edited: ${file} */\n`);
      const edited = await compiler.compile(kernel.spec, source, 'same.c');
      expect(edited.ok && edited.cached, file).toBe(false);
    }
  });

  it("takes the protocol's poison from the generated kb_protocol.h, as the native driver does, with no copy of its own", () => {
    const runtime = readFileSync(join(WASM_RUNTIME_DIR, 'kb_wasm.c'), 'utf8');
    expect(runtime).toMatch(/^#include "kb_protocol\.h"$/m);
    for (const name of ['KB_POISON_FIRST', 'KB_POISON_ONE_PER_CALL']) expect(runtime).toMatch(new RegExp(`\\b${name}\\b`));
    expect(runtime).not.toMatch(/#\s*define\s+KB_|0xff\b/i);
  });
});
