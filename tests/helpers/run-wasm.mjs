// Runs a kernel module built for the scale_rows fixture signature (x, y, n, rows, ith, nth) once, in this process
// (started by the test with the sandbox's V8 flags): stdin {wasm: base64, x: number[], n, rows}, stdout y's f32 bits.
import { readFileSync } from 'node:fs';

const { wasm, x, n, rows } = JSON.parse(readFileSync(0, 'utf8'));
const memory = new WebAssembly.Memory({ initial: 64, maximum: 1024 });
const { exports } = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(wasm, 'base64')), { env: { memory } });
const base = (exports.kb_heap_base() + 63) & ~63;
const xAt = base, yAt = xAt + 4 * x.length + 64, argsAt = yAt + 4 * n * rows + 64;
new Float32Array(memory.buffer, xAt, x.length).set(x);
new Uint32Array(memory.buffer, argsAt, 6).set([xAt, yAt, n, rows, 0, 1]);
exports.kb_call(argsAt);
process.stdout.write(JSON.stringify(Array.from(new Uint32Array(memory.buffer, yAt, n * rows))));
