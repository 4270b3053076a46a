// Closing the yowasp compiler while it still warms (a screen that ends or is interrupted within a second) used to
// terminate the worker during V8's background compile of clang's WASM: SIGSEGV of the whole process. A crash
// kills the process, so the closes run in a child process of their own.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO, tempDir } from '../helpers/fixtures.js';

// The dangerous moment moves with the machine's load, so the closes are spread over a measured warm-up.
const script = (compiler: string, cacheDir: string) => `
const { WasmCompiler } = await import(${JSON.stringify(compiler)});
const toolchain = { kind: 'yowasp', version: 'test', description: 'yowasp' };
const open = () => new WasmCompiler(toolchain, { cacheDir: ${JSON.stringify(cacheDir)} });
const first = open();
const started = performance.now();
await first.warm();
const warmMs = performance.now() - started;
await first.close();
for (const share of [0.1, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.2]) {
  const c = open();
  void c.warm().catch(() => {});
  await new Promise((r) => setTimeout(r, share * warmMs));
  await c.close();
  process.stdout.write(share + ' ');
}
`;

describe('closing a warming compiler', () => {
  it('at any point of its warm-up, ends it without crashing the process', async () => {
    const compiler = pathToFileURL(join(REPO, 'dist', 'build', 'compiler.js')).href;
    const dir = tempDir();
    writeFileSync(join(dir, 'close.mjs'), script(compiler, join(dir, 'cache')));
    const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'close.mjs')]);
    expect(stdout.trim()).toBe('0.1 0.3 0.5 0.6 0.7 0.8 0.9 1 1.2');
  }, 120_000);
});
