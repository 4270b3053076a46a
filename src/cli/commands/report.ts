// `kbench report [run]`: render a run's ledger as Markdown (default), HTML, JSON or Google Benchmark JSON.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { isReportFormat, loadReportModel, renderReport, REPORT_FORMATS, resolveRunDir, type ReportFormat } from '../../report/index.js';
import { UsageError } from '../../errors.js';

function pickFormat(o: { html?: boolean; md?: boolean; format?: string }, json: boolean): ReportFormat {
  const chosen = [o.html && 'html', o.md && 'md', o.format, json && 'json'].filter(Boolean) as string[];
  if (new Set(chosen).size > 1) throw new UsageError(`choose one report format, not ${chosen.join(' and ')}`);
  const format = chosen[0] ?? 'md';
  if (!isReportFormat(format)) throw new UsageError(`--format: unknown format '${format}' (one of ${REPORT_FORMATS.join(', ')})`);
  return format;
}

export function register(program: Command): void {
  program
    .command('report [run]')
    .description('render a run (an id under .kbench/runs, or a run folder; default: the latest) as Markdown, HTML or JSON')
    .option('--md', 'Markdown tables for a pull request (the default)')
    .option('--html', 'one self-contained HTML page with charts')
    .option('--format <format>', `md | html | json (schema kbench.report/1) | gbench (Google Benchmark JSON)`)
    .option('--out <file>', 'write to this file instead of stdout')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  kbench report                                   latest run as Markdown',
        '  kbench report --html --out report.html          latest run as an HTML page',
        '  kbench report 20261127-061530-3fa2 --format json',
        '  kbench report --format gbench --out a.json      for google/benchmark tools/compare.py',
        "  (then google/benchmark's tools/compare.py benchmarks a.json b.json)",
      ].join('\n'),
    )
    .action((run: string | undefined, o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const format = pickFormat(o, !!g.json);
      const runDir = resolveRunDir(process.cwd(), run);
      const text = renderReport(loadReportModel(runDir), format);
      if (!o.out) return void process.stdout.write(text);
      const out = resolve(o.out);
      writeFileSync(out, text);
      process.stderr.write(`wrote ${out}\n`);
    });
}
