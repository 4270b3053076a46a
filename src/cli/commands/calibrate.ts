// `kbench calibrate`: how well WASM speedups predicted native ones, per host, over every run so far.
import type { Command } from 'commander';
import { calibrate } from '../../remote/calibrate.js';
import { DEFAULT_MARGIN } from '../../remote/promote.js';
import { table } from '../format.js';
import { fraction } from '../options.js';

export function register(program: Command): void {
  program
    .command('calibrate')
    .description('WASM-vs-native agreement (Spearman ρ) and the native winners the promotion margin would reject')
    .option('--margin <fraction>', 'promotion margin to evaluate', fraction('--margin'), DEFAULT_MARGIN)
    .action((o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const c = calibrate(process.cwd(), o.margin);
      if (g.json) return void process.stdout.write(JSON.stringify(c, null, 2) + '\n');
      if (!c.hosts.length) return void process.stdout.write(`no candidate has both a WASM and a timed native result yet (${c.runs} runs): run \`kbench screen\` then \`kbench promote --on <host>\`\n`);
      const rows = c.hosts.map((h) => [
        h.host,
        h.arch,
        String(h.candidates),
        String(h.points.length),
        Number.isNaN(h.spearmanRho) ? '—' : h.spearmanRho.toFixed(2),
        String(h.nativeWinners),
        String(h.rejectedWinners.length),
        h.suggestedMargin.toFixed(2),
      ]);
      process.stdout.write(table(['host', 'arch', 'candidates', 'points', 'spearman ρ', 'native winners', `rejected at ${c.marginFraction}`, 'suggested margin'], rows));
      for (const h of c.hosts) for (const r of h.rejectedWinners) process.stdout.write(`  ${h.host}: ${r.kernel}/${r.candidate} won natively but WASM said ${r.wasmBestSpeedup.toFixed(2)}×\n`);
    });
}
