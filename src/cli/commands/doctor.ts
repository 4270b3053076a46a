import type { Command } from 'commander';
import { runDoctor } from '../../doctor/doctor.js';
import { table, jsonOutput } from '../format.js';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('which compilers and tools were found, CPU features, Node version')
    .addHelpText('after', '\nExamples:\n  kbench doctor\n  kbench doctor --json')
    .action((_o, cmd: Command) => {
      const report = runDoctor();
      if (cmd.optsWithGlobals().json) return void process.stdout.write(jsonOutput('doctor', report));
      const out = [
        `node ${report.node} on ${report.platform}/${report.arch}, ${report.cores} × ${report.cpuModel}`,
        `CPU features: ${report.cpuFeatures.join(' ') || 'none of interest found'}`,
        '',
        'WASM compilers (first found wins; --cc forces one):',
        table(['compiler', 'status'], report.wasmToolchains.map((t) => [t.kind, t.found ? `found: ${t.found.description}` : `missing: ${t.reason}`])),
        `kbench screen uses: ${report.wasmDefault}`,
        '',
        'Native stage and reports:',
        table(['tool', 'status'], report.tools.map((t) => [t.name, t.found ? t.detail : 'not found'])),
      ];
      process.stdout.write(out.join('\n'));
    });
}
