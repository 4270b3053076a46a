// Runs a WASI command module (argv[2]) to completion with its output on this process's stdout; started by a test
// with the sandbox's V8 flags, so relaxed SIMD runs as the screen runs it.
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

const wasi = new WASI({ version: 'preview1', args: [], env: {}, returnOnExit: true });
const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(process.argv[2])), wasi.getImportObject());
process.exitCode = wasi.start(instance);
