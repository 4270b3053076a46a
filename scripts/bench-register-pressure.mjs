#!/usr/bin/env node
// Whether src/build/register-pressure.ts counts what V8 spills. Synthetic kernels keep N v128 accumulators live
// around one loop (acc_j += splat(w[i]) * load: two temporaries besides them), built by yowasp clang -O3 as the
// screen builds; each is compiled by V8 under the sandbox's flags (TurboFan, node --print-wasm-code) and the xmm
// moves to and from stack slots in its loop are counted: spills and reloads, per iteration. Extra arguments are
// .wasm files (e.g. a screen's cached builds, .kbench/cache/wasm/*.wasm), shown with their worst loop.
// Usage: npm run bench:regs [-- --counts 10,12,13,14,15,16,18,24] [-- file.wasm …]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { counts: { type: 'string', default: '10,12,13,14,15,16,18,24' }, compile: { type: 'string' } },
});

// Child mode: compile the module (eagerly: --no-wasm-lazy-compilation), so V8 prints every function's code.
if (values.compile) {
  new WebAssembly.Module(readFileSync(values.compile));
  process.exit(0);
}

const { loopPressure, allocatableFloatRegisters } = await import('../dist/build/register-pressure.js');
const { SANDBOX_EXEC_ARGV } = await import('../dist/sandbox/sandbox.js');

function accumulators(n) {
  const r = [...Array(n).keys()];
  return `#include <wasm_simd128.h>
void acc(const float *x, const float *w, float *out, int len) {
  ${r.map((j) => `v128_t a${j} = wasm_f32x4_splat(0.0f);`).join(' ')}
  for (int i = 0; i < len; i++) {
    v128_t b = wasm_f32x4_splat(w[i]);
    const float *p = x + (long)i * ${4 * n};
    ${r.map((j) => `a${j} = wasm_f32x4_relaxed_madd(b, wasm_v128_load(p + ${4 * j}), a${j});`).join('\n    ')}
  }
  ${r.map((j) => `wasm_v128_store(out + ${4 * j}, a${j});`).join(' ')}
}`;
}

/** Per innermost loop of V8's x64 code (a backward jump's range holding no other and no call, which only the
 * out-of-line stack check makes), its instructions and its xmm accesses to stack slots. */
function v8Loops(wasm, dir) {
  const path = join(dir, 'module.wasm');
  writeFileSync(path, wasm);
  const text = execFileSync(process.execPath, [...SANDBOX_EXEC_ARGV, '--no-wasm-lazy-compilation', '--print-wasm-code', fileURLToPath(import.meta.url), '--compile', path], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const loops = [];
  for (const block of text.split('--- WebAssembly code ---').slice(1)) {
    const ins = [...block.matchAll(/^0x[0-9a-f]+\s+([0-9a-f]+)\s+[0-9a-f]+\s+(.*)$/gm)].map((m) => ({ offset: parseInt(m[1], 16), text: m[2] }));
    const ranges = [];
    for (const [i, x] of ins.entries()) {
      const to = /^j\w+ .*<\+0x([0-9a-f]+)>/.exec(x.text);
      if (to && parseInt(to[1], 16) <= x.offset) ranges.push([ins.findIndex((y) => y.offset === parseInt(to[1], 16)), i]);
    }
    for (const [a, b] of ranges) {
      if (ranges.some(([c, d]) => c >= a && d <= b && (c > a || d < b))) continue;
      const body = ins.slice(a, b + 1);
      if (body.some((x) => x.text.startsWith('call')) || !body.some((x) => x.text.includes('xmm'))) continue;
      loops.push({ instructions: body.length, stackAccesses: body.filter((x) => /xmm/.test(x.text) && /\[(rbp|rsp)[+-]/.test(x.text)).length });
    }
  }
  return loops;
}

if (process.arch !== 'x64') throw new Error('bench-register-pressure reads V8 x64 code: run it on an x86-64 host');
const dir = mkdtempSync(join(tmpdir(), 'kbench-bench-regs-'));
try {
  const { commands } = await import('@yowasp/clang');
  const loads = [loadavg()[0]];
  console.log(`V8 ${process.versions.v8} allocates ${allocatableFloatRegisters()} xmm registers; estimate = values live around the worst innermost loop`);
  console.log(`${'kernel'.padEnd(34)} ${'estimate'.padStart(8)}  V8: instructions, xmm stack accesses per loop (worst first)`);
  const rows = [];
  for (const n of values.counts.split(',').map(Number)) {
    const out = await commands.clang(['--target=wasm32-wasip1', '-O3', '-msimd128', '-mrelaxed-simd', '-nostartfiles', '-Wl,--no-entry', '-Wl,--export=acc', '-o', 'k.wasm', 'k.c'], { 'k.c': accumulators(n) }, { stdout: null, stderr: null, fetchProgress: () => {} });
    rows.push([`${n} accumulators`, out['k.wasm']]);
  }
  for (const file of positionals) rows.push([file.split('/').pop(), new Uint8Array(readFileSync(file))]);
  for (const [name, wasm] of rows) {
    const p = loopPressure(wasm);
    const loops = v8Loops(wasm, dir).sort((x, y) => y.stackAccesses - x.stackAccesses);
    const estimate = p.status === 'ok' ? String(p.liveValues) : p.reason;
    console.log(`${name.padEnd(34)} ${estimate.padStart(8)}  ${loops.slice(0, 4).map((l) => `${l.instructions}: ${l.stackAccesses}`).join(', ')}`);
  }
  loads.push(loadavg()[0]);
  console.log(`load ${loads.map((l) => l.toFixed(1)).join(' → ')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
