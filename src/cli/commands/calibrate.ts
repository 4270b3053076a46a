// `kbench calibrate`: how well WASM speedups predicted native ones, per host, over every run so far.
import type { Command } from 'commander';
import { calibrate, WINNER_SPEEDUP } from '../../remote/calibrate.js';
import { table, jsonOutput } from '../format.js';
import { addSetting } from '../settings.js';

export function register(program: Command): void {
  const cmd = program
    .command('calibrate')
    .description('WASM-vs-native agreement (Spearman ρ pooled and among native winners, per host and kernel), the native winners the promotion margin would reject, and WASM sessions that disagree');
  addSetting(cmd, 'margin', 'here, the margin whose rejections are counted');
  cmd
    .addHelpText(
      'after',
      [
        '',
        'Reads every run in .kbench/runs that has both a WASM and a timed native result for a candidate.',
        '',
        'Examples:',
        '  kbench calibrate                                after kbench screen and kbench promote --on <host>',
        '  kbench calibrate --margin 0.1                   what a tighter margin would have rejected',
        '  kbench calibrate --json',
      ].join('\n'),
    )
    .action((o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const c = calibrate(process.cwd(), o.margin);
      if (g.json) return void process.stdout.write(jsonOutput('calibrate', c));
      if (!c.hosts.length) return void process.stdout.write(`no candidate has both a WASM and a timed native result yet (${c.runs} runs): run \`kbench screen\` then \`kbench promote --on <host>\`\n`);
      process.stdout.write(
        `Points are (candidate, bench shape) pairs with a passing timed result both in WASM and on the host; ρ is Spearman's rank correlation of their speedups over the baseline, over every point and over the native winners (> ${WINNER_SPEEDUP}× on the host). WASM results count under the screen model they were built with (a result's toolchain): "AVX2 intrinsics" means the candidate's own __AVX2__ code ran on kbench's WASM x86 headers; a candidate using intrinsics those lack was screened as its plain build (counted under "plain builds").\n\n`,
      );
      const rho = (x: number) => (Number.isNaN(x) ? '—' : x.toFixed(2));
      const rows = c.hosts.flatMap((h) => [
        [h.host, h.arch, h.screen.replace(/^screen /, ''), 'all', `${h.candidates}${h.plainBuilds ? ` (${h.plainBuilds} plain builds)` : ''}`, String(h.points.length), rho(h.spearmanRho), rho(h.winnersRho), rho(h.predicted.winnersRho), String(h.nativeWinners), String(h.rejectedWinners.length), h.suggestedMargin.toFixed(2)],
        ...h.kernels.map((k) => ['', '', '', k.kernel, '', String(k.points), rho(k.spearmanRho), rho(k.winnersRho), rho(k.predictedWinnersRho), '', '', '']),
      ]);
      process.stdout.write(
        table(['host', 'arch', 'WASM screen model', 'kernel', 'candidates', 'points', 'spearman ρ', `ρ winners >${WINNER_SPEEDUP}×`, 'with floor', 'native winners', `rejected at ${c.marginFraction}`, 'suggested margin'], rows),
      );
      for (const h of c.hosts)
        process.stdout.write(
          h.memoryFloor
            ? `  ${h.host} vs ${h.screen}: memory floor k = ${h.memoryFloor.streamFactor.toFixed(2)} × the native time to read a call's buffers once, c = ${h.memoryFloor.floorRatio.toFixed(2)}× in WASM ("with floor": WASM times raised to c·k·read before ranking)\n`
            : `  ${h.host} vs ${h.screen}: too few timed points near a memory floor to fit one ("with floor" is the WASM ρ)\n`,
        );
      for (const h of c.hosts) for (const r of h.rejectedWinners) process.stdout.write(`  ${h.host} vs ${h.screen}: ${r.kernel}/${r.candidate} won natively but WASM said ${r.wasmBestSpeedup.toFixed(2)}×\n`);
      for (const s of c.sessions) {
        if (s.falseRejects.length) process.stdout.write(`  session ${s.run}: ${s.falseRejects.length} false reject(s): ${s.falseRejects.map((r) => `${r.kernel}/${r.candidate}`).join(', ')}\n`);
        for (const d of s.disagreements)
          process.stdout.write(`  warning: session ${s.run} timed ${d.kernel}/${d.candidate} on ${d.shape} at ${d.speedup.toFixed(2)}×, session ${d.earlierRun} at ${d.earlierSpeedup.toFixed(2)}× (same source; CIs apart)\n`);
      }
    });
}
