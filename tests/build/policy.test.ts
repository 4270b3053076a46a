// The include policy through the real toolchains: every fixture in tests/fixtures/hostile/include-*.c slips past
// the textual scan, so each refusal below comes from what the preprocessor reported (kb_policy.awk). The fixtures
// hold only the attack; a working kernel is appended so nothing else would stop the build.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasmCompiler } from '../../src/build/compiler.js';
import { scrubDiagnostics } from '../../src/build/diagnostics.js';
import { refuseSource } from '../../src/build/policy.js';
import { screenModel } from '../../src/build/screen-target.js';
import { probeToolchains, resolveToolchain } from '../../src/build/toolchain.js';
import { HostConfig } from '../../src/config/config.js';
import type { TargetResult } from '../../src/ledger/records.js';
import { toolchainFor } from '../../src/remote/hosts.js';
import { runNative } from '../../src/remote/native.js';
import { BUILTIN_KERNELS_DIR, findKernel, loadKernel } from '../../src/spec/suite.js';
import { FIXTURE_KERNELS, HOSTILE, tempDir } from '../helpers/fixtures.js';
import { hasCommand, missing } from '../helpers/require.js';

const kernel = loadKernel(join(FIXTURE_KERNELS, 'scale_rows'));
const honest = readFileSync(join(kernel.dir, 'candidates', 'same.c'), 'utf8');
const attack = (name: string) => readFileSync(join(HOSTILE, `${name}.c`), 'utf8');
const ATTACKS = readdirSync(HOSTILE).filter((f) => f.startsWith('include-')).map((f) => f.replace(/\.c$/, ''));
const POLICY = /refused by the include policy: /;
const NOT_ALLOWED = /, which is neither an allowed header nor in the compiler's own include directories/;

/** A host file with a unique token on a line that is not C, so a compiler that reads it must complain about it. */
function secretFile(): { path: string; token: string } {
  const token = `kbench_secret_${process.pid}_${Date.now()}`;
  const path = join(tempDir(), 'secret.h');
  writeFileSync(path, `int fine;\n${token} is not C ${token}\n`);
  return { path, token };
}
const secret = secretFile();
/** Ways to make a compiler read the secret file: a hidden include, and #line (gcc quotes the named file's lines). */
const secretAttacks = {
  'include-secret': `/*\n*/ #include "${secret.path}"\n`,
  'line-secret': `#line 1 "${secret.path}"\nint fine;\nint x = ;\n`,
};

describe('the textual scan is only a first pass', () => {
  it.each(ATTACKS)('misses %s, which the preprocessor check below refuses', (name) => {
    expect(refuseSource(attack(name) + honest)).toBeNull();
  });
});

const probes = probeToolchains();

// '+ x86 headers': the avx2 screen model, whose build defines __AVX2__ & co. and resolves <immintrin.h> to kbench's
// WASM headers; a refusal there must stay a refusal, never fall back to the plain build.
describe.each([['yowasp', ''], ['yowasp', ' + x86 headers'], ['clang', ''], ['emcc', '']] as const)('the %s%s WASM build', (kind, variant) => {
  const probe = probes.find((p) => p.kind === kind)!;
  describe.skipIf(missing(`${kind} WASM toolchain (${probe.reason})`, !!probe.found))('when present', () => {
    let compiler: WasmCompiler;
    beforeAll(() => {
      const toolchain = resolveToolchain(kind);
      const model = screenModel('avx2', toolchain);
      compiler = new WasmCompiler(toolchain, { cacheDir: join(tempDir(), 'cache'), ...(variant ? { flags: model.flags, intrinsics: model.intrinsics } : {}) });
    });
    afterAll(() => compiler.close());

    async function refusal(name: string, source: string): Promise<string> {
      const r = await compiler.compile(kernel.spec, source + honest, `${name}.c`);
      expect(r.ok).toBe(false);
      return r.ok ? '' : r.diagnostic;
    }

    // yowasp's compiler sees only the files kbench gives it: a host path is simply not found there.
    const hostFile = kind === 'yowasp' ? /fatal error: '\/etc\/passwd' file not found/ : new RegExp(`${POLICY.source}reads /etc/passwd${NOT_ALLOWED.source}`);
    // clang 14 (Debian's clang and emcc) does not know #embed at all
    const embed = kind === 'yowasp' ? new RegExp(`${POLICY.source}reads /kb_wasm\\.c`) : /error: invalid preprocessing directive/;
    const expected: Record<string, RegExp> = {
      'include-comment-hidden': new RegExp(`${POLICY.source}reads kb_wasm\\.c${NOT_ALLOWED.source}`),
      'include-computed': hostFile,
      'include-has-include': new RegExp(`${POLICY.source}reads kb_wasm\\.c`),
      'include-stdio': new RegExp(`${POLICY.source}includes /\\S+/stdio\\.h; a candidate may include only "kb_simd.h" and <math\\.h>`),
      'include-embed': embed,
      'include-line': new RegExp(`${POLICY.source}#line names another file \\(/etc/passwd\\)`),
      'include-incbin': new RegExp(`${POLICY.source}assembler directive in a string literal: ".*\\\\n\\.incbin "/etc/passwd`),
      'include-incbin-macro': new RegExp(`${POLICY.source}assembler directive in a string literal: "\\.inc"`),
      'include-section': new RegExp(`${POLICY.source}assembler directive in a string literal: ".*\\\\n\\\\t\\.include "/etc/passwd`),
      'include-raw-string': new RegExp(`${POLICY.source}raw string literal: R"\\(x"`),
      'include-pragma-section': new RegExp(`${POLICY.source}assembler directive in a string literal: "\\.text\\\\n\\.incbin "/etc/passwd"`),
      'include-digit-separator': new RegExp(`${POLICY.source}assembler directive in a string literal: "\\.incbin "/etc/passwd"`),
    };
    it.each(ATTACKS)('refuses %s with a reason naming what was refused', async (name) => {
      expect(await refusal(name, attack(name))).toMatch(expected[name]);
    });

    it.each(Object.entries(secretAttacks))('never quotes the file %s makes the compiler read', async (name, source) => {
      const diagnostic = await refusal(name, source);
      expect(diagnostic).toMatch(kind === 'yowasp' && name === 'include-secret' ? /file not found/ : POLICY);
      expect(diagnostic).not.toContain(secret.token);
    });

    it("keeps the candidate's own compile errors, which pass the policy", async () => {
      const r = await compiler.compile(kernel.spec, readFileSync(join(HOSTILE, 'compile_error.c'), 'utf8'), 'compile_error.c');
      expect(r.ok ? 'built' : r.diagnostic).toMatch(/^compile_error\.c:3:\d+: error: use of undeclared identifier 'undefined_variable'/);
    });

    const x86 = variant ? '<immintrin.h>, <x86intrin.h>, ' : '';
    it(`builds a candidate using <math.h>, <wasm_simd128.h>, <stdint.h>, ${x86}and "kb_simd.h"`, async () => {
      const x86Includes = variant ? '#include <immintrin.h>\n#include <x86intrin.h>\n' : '';
      const source = `#include <math.h>\n#include <stdint.h>\n#include <wasm_simd128.h>\n${x86Includes}#include "kb_simd.h"\n${honest}`;
      const r = await compiler.compile(kernel.spec, source, 'allowed.c');
      expect(r.ok ? 'built' : r.diagnostic).toBe('built');
      if (r.ok) expect(r.note).toBeUndefined();
    });
  });
});

describe.skipIf(missing('a C compiler (cc)', hasCommand('cc')))('diagnostics of a compiler made to read another file', () => {
  // Run without the policy, so the compiler really prints the file; the scrub alone must keep it out.
  it.each(Object.entries(secretAttacks))('%s: cc quotes the secret, the scrubbed diagnostic does not', (_name, source) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'kernel.c'), `${source}${honest}`);
    let raw = '';
    try {
      execFileSync('cc', ['-c', 'kernel.c', '-o', 'kernel.o'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      raw = String((e as { stderr: Buffer }).stderr);
    }
    expect(raw).toContain(secret.token);
    const scrubbed = scrubDiagnostics(raw, ['kernel.c']);
    expect(scrubbed).not.toContain(secret.token);
  });
});

describe.skipIf(missing('a C compiler (cc)', hasCommand('cc')))('native builds on local', () => {
  const rms = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm');
  const baseline = readFileSync(rms.baselinePath, 'utf8');
  const intrinsics = process.arch === 'x64' ? '<immintrin.h>' : '<arm_neon.h>';
  const sources: Record<string, string> = {
    ...secretAttacks,
    computed: attack('include-computed'),
    stdio: attack('include-stdio'),
    line: attack('include-line'),
    incbin: attack('include-incbin'),
    incbin_macro: attack('include-incbin-macro'),
    section: attack('include-section'),
    raw_string: attack('include-raw-string'),
    digit_separator: attack('include-digit-separator'),
    pragma_section: attack('include-pragma-section'),
    allowed: `#include <math.h>\n#include ${intrinsics}\n#include "kb_simd.h"\n`,
  };
  let results: Map<string, TargetResult>;

  it('runs every candidate through the policy on the host', async () => {
    const dir = join(tempDir(), 'candidates');
    mkdirSync(dir);
    const candidates = Object.entries(sources).map(([name, text]) => {
      writeFileSync(join(dir, `${name}.c`), text + baseline);
      return { name, path: join(dir, `${name}.c`) };
    });
    const local = HostConfig.parse({ name: 'local', executor: 'local', arch: process.arch === 'arm64' ? 'aarch64' : 'x86_64' });
    const list = await runNative(rms, candidates, local, { skipTiming: true, trials: 1 });
    results = new Map(list.map((r) => [r.candidate, r]));
    expect(list.map((r) => r.hostFailure)).toEqual(candidates.map(() => undefined));
  }, 180_000);

  const diagnostic = (name: string) => {
    const check = results.get(name)!.check;
    expect(check.status).toBe('compile-error');
    return check.status === 'compile-error' ? check.diagnostic : '';
  };

  it.each([
    ['include-secret', new RegExp(`^candidates/include-secret\\.c: ${POLICY.source}reads ${secret.path}${NOT_ALLOWED.source}`)],
    ['line-secret', new RegExp(`${POLICY.source}#line names another file \\(${secret.path}\\)`)],
    ['computed', new RegExp(`${POLICY.source}reads /etc/passwd`)],
    ['stdio', new RegExp(`${POLICY.source}includes /\\S+/stdio\\.h; a candidate may include only`)],
    ['line', /#line names another file \(\/etc\/passwd\)/],
    ['incbin', /assembler directive in a string literal: ".*\\n\.incbin "\/etc\/passwd/],
    ['incbin_macro', /assembler directive in a string literal: "\.inc"/],
    ['section', /assembler directive in a string literal: ".*\\n\\t\.include "\/etc\/passwd/],
    ['raw_string', /raw string literal: R"\(x"/],
    ['pragma_section', /assembler directive in a string literal: "\.text\\n\.incbin "\/etc\/passwd"/],
    ['digit_separator', /assembler directive in a string literal: "\.incbin "\/etc\/passwd"/],
  ])('refuses %s as a compile error naming what was refused', (name, reason) => {
    expect(diagnostic(name)).toMatch(reason);
  });

  it('never returns the content of a file a candidate made the compiler read', () => {
    for (const name of Object.keys(secretAttacks)) expect(diagnostic(name)).not.toContain(secret.token);
    expect(diagnostic('computed')).not.toMatch(/root:/);
  });

  it(`builds and passes a candidate using <math.h>, ${intrinsics} and "kb_simd.h"`, () => {
    expect(results.get('allowed')!.check.status).toBe('pass');
  });
});

const qemu = HostConfig.parse({ name: 'qemu-aarch64', executor: 'qemu-aarch64', arch: 'aarch64' });
const hasQemu = hasCommand('qemu-aarch64') && hasCommand(toolchainFor(qemu).cc);

describe.skipIf(missing('qemu-aarch64 and aarch64-linux-gnu-gcc', hasQemu))('native builds with a cross compiler', () => {
  it('builds <arm_neon.h> and "kb_simd.h" from the cross sysroot and refuses .incbin', async () => {
    const rms = findKernel(BUILTIN_KERNELS_DIR, 'rms_norm');
    const dir = tempDir();
    const candidates = Object.entries({ allowed: '#include <math.h>\n#include <arm_neon.h>\n#include "kb_simd.h"\n', incbin: attack('include-incbin') }).map(([name, text]) => {
      writeFileSync(join(dir, `${name}.c`), text + readFileSync(rms.baselinePath, 'utf8'));
      return { name, path: join(dir, `${name}.c`) };
    });
    const [allowed, incbin] = await runNative(rms, candidates, qemu, { skipTiming: true, trials: 1 });
    expect(allowed.check.status).toBe('pass');
    expect(incbin.check).toMatchObject({ status: 'compile-error', diagnostic: expect.stringMatching(/refused by the include policy: assembler directive/) });
  }, 300_000);
});
