import { describe, expect, it } from 'vitest';
import { scrubDiagnostics, trimDiagnostics } from '../../src/build/diagnostics.js';
import { refuseSource } from '../../src/build/policy.js';

describe('compiler diagnostics are trimmed to what a person needs', () => {
  it("drops emcc's echo of the clang command line and renames the internal file", () => {
    const raw = [
      "kernel.c:1:26: error: use of undeclared identifier 'y'",
      'void f(float *x){ x[0] = y; }',
      '                         ^',
      '1 error generated.',
      "emcc: error: '/usr/bin/clang-14 -target wasm32-unknown-emscripten -O3 -c kernel.c -o e.o' failed (returned 1)",
    ].join('\n');
    const out = trimDiagnostics(raw, { 'kernel.c': 'mine.c' });
    expect(out).toBe("mine.c:1:26: error: use of undeclared identifier 'y'\nvoid f(float *x){ x[0] = y; }\n                         ^\n1 error generated.");
  });

  it('caps an avalanche of errors', () => {
    const raw = Array.from({ length: 100 }, (_, i) => `kernel.c:${i}:1: error: bad`).join('\n');
    const lines = trimDiagnostics(raw, { 'kernel.c': 'kernel.c' }).split('\n');
    expect(lines).toHaveLength(31);
    expect(lines[30]).toBe('… 70 more lines');
  });
});

describe('diagnostics never quote a file other than the candidate or kbench\'s own', () => {
  it('drops a diagnostic located elsewhere with its source lines, and the include chain leading to it', () => {
    const raw = [
      'In file included from kernel.c:2:',
      '/home/me/.ssh/id_rsa:1:1: error: unknown type name \'BEGIN\'',
      '    1 | -----BEGIN OPENSSH PRIVATE KEY-----',
      '      | ^',
      "kernel.c:5:3: warning: unused variable 'x'",
      '    5 |   int x;',
      'include/kb_simd.h:40:1: note: candidate function not viable',
      '/tmp/x.h: In function \'f\':',
      '/tmp/x.h:3:1: error: secret line',
      'wasm-ld: error: kernel.o: undefined symbol: expf',
    ].join('\n');
    expect(scrubDiagnostics(raw, ['kernel.c'])).toBe(
      ["kernel.c:5:3: warning: unused variable 'x'", '    5 |   int x;', 'include/kb_simd.h:40:1: note: candidate function not viable', 'wasm-ld: error: kernel.o: undefined symbol: expf'].join('\n'),
    );
  });
});

describe('the include policy keeps host files out of a build', () => {
  it.each([
    ['#include "/etc/passwd"', /#include "\/etc\/passwd" is not allowed/],
    ['#include <stdio.h>', /#include <stdio\.h> is not allowed/],
    ['#include "../secret.h"', /not allowed/],
    ['#define F "/etc/passwd"\n#include F', /line 2: computed #include is not allowed/],
    ['#embed "/etc/passwd"', /#embed is not allowed/],
    ['%:include "/etc/passwd"', /not allowed/],
    ['#inc\\\nlude "/etc/passwd"', /not allowed/],
    ['#if __has_include("/etc/passwd")\n#endif', /line 1: .*__has_include/],
  ])('refuses %j', (source, reason) => {
    expect(refuseSource(source)).toMatch(reason);
  });

  it('allows the C headers kernels need and kb_simd.h', () => {
    expect(refuseSource('#include <math.h>\n#include <immintrin.h>\n#include "kb_simd.h"\n/* #include "/etc/passwd" */')).toBeNull();
  });
});
