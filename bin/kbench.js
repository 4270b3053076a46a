#!/usr/bin/env node
import { main } from '../dist/cli/main.js';
// A reader that closed the pipe (`kbench list | head -3`) wants no more output: stop quietly, as Unix tools do,
// instead of dying on an unhandled EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
process.exitCode = await main(process.argv);
