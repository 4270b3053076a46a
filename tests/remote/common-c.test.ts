// The native driver and the upstream harness share remote/common/kb_common.{h,c}: the parameter table types, the
// file helpers and the clock exist there once, every native bundle ships them, and neither program keeps a copy.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMON_C_DIR, DRIVER_DIR, writeBundle } from '../../src/remote/bundle.js';
import { UPSTREAM_C_DIR } from '../../src/upstream/harness.js';
import { HostConfig } from '../../src/config/config.js';
import { toolchainFor } from '../../src/remote/hosts.js';
import { BUILTIN_KERNELS_DIR, findKernel } from '../../src/spec/suite.js';

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');
const common = read(COMMON_C_DIR, 'kb_common.h') + read(COMMON_C_DIR, 'kb_common.c');
const programs = {
  'driver/kb_driver.h': read(DRIVER_DIR, 'kb_driver.h'),
  'driver/kb_driver.c': read(DRIVER_DIR, 'kb_driver.c'),
  'upstream/kb_up_glue.h': read(UPSTREAM_C_DIR, 'kb_up_glue.h'),
  'upstream/kb_up_main.c': read(UPSTREAM_C_DIR, 'kb_up_main.c'),
};
/** a definition of each shared thing, as C spells it */
const DEFINITIONS: Record<string, RegExp> = {
  'enum kb_kind': /enum\s+kb_kind\s*\{/,
  kb_param: /\}\s*kb_param\s*;/,
  kb_arg: /\}\s*kb_arg\s*;/,
  ...Object.fromEntries(['mkdirs', 'read_file', 'write_file', 'now_ns'].map((f) => [f, new RegExp(`\\b(kb_)?${f}\\s*\\([^;{]*\\)\\s*\\{`)])),
};

describe('remote/common/kb_common', () => {
  it('defines the parameter table types, the file helpers and the clock', () => {
    for (const [name, definition] of Object.entries(DEFINITIONS)) expect(common, name).toMatch(definition);
  });

  it('is the only copy: the driver and the upstream harness include it and define none of it themselves', () => {
    expect(programs['driver/kb_driver.h']).toMatch(/^#include "kb_common\.h"/m);
    expect(programs['upstream/kb_up_glue.h']).toMatch(/^#include "kb_common\.h"/m);
    for (const [file, text] of Object.entries(programs)) {
      for (const [name, definition] of Object.entries(DEFINITIONS)) expect(text, `${file} defines ${name} itself`).not.toMatch(definition);
    }
  });

  it('leaves kb_die to each program, which reports errors on its own channel', () => {
    expect(common).not.toMatch(/kb_die\s*\([^;{]*\)\s*\{/);
    expect(programs['driver/kb_driver.c']).toMatch(/kb_die\([^;{]*\)\s*\{\s*emit\(/);
    expect(programs['upstream/kb_up_main.c']).toMatch(/kb_die\([^;{]*\)\s*\{\s*printf\(/);
  });

  it('ships in every native bundle, byte for byte', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kbench-bundle-'));
    const kernel = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm');
    const toolchain = toolchainFor(HostConfig.parse({ name: 'local', executor: 'local', arch: 'x86_64' }));
    const settings = { threads: 1, pairs: 9, processes: 1, minSampleMs: 0.5, warmupMs: 1, inputSets: 2, seed: 1, benchShapes: [], skipTiming: true, trials: 1 };
    writeBundle(dir, kernel, [], toolchain, settings, 10);
    for (const f of ['kb_common.h', 'kb_common.c']) expect(read(dir, f), f).toBe(read(COMMON_C_DIR, f));
    expect(read(dir, 'run.sh')).toMatch(/-c kb_common\.c -o obj\/common\.o/);
    expect(existsSync(join(dir, 'kb_driver.c'))).toBe(true);
  });
});
