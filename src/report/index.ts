// Report formats by name, and the call that leaves report.md and report.html behind once a run has ended.
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LEDGER_FILE, listRunFolders, runsDir } from '../ledger/ledger.js';
import { UsageError } from '../errors.js';
import { renderGbench } from './gbench.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderMarkdown } from './markdown.js';
import { loadReportModel, type ReportModel, type ResultRow } from './model.js';
import type { Stability } from '../measure/stability.js';

export type ReportFormat = 'md' | 'html' | 'json' | 'gbench';

export const RENDERERS: Record<ReportFormat, (model: ReportModel) => string> = {
  md: renderMarkdown,
  html: renderHtml,
  json: renderJson,
  gbench: renderGbench,
};

export const REPORT_FORMATS = Object.keys(RENDERERS) as ReportFormat[];

export function isReportFormat(name: string): name is ReportFormat {
  return name in RENDERERS;
}

export function renderReport(model: ReportModel, format: ReportFormat): string {
  return RENDERERS[format](model);
}

export const REPORT_FILES: Record<ReportFormat, string> = { md: 'report.md', html: 'report.html', json: 'report.json', gbench: 'report.gbench.json' };

/** Writes one report into a run folder atomically (temp file, then rename) and returns its path. */
export function writeRunReport(runDir: string, format: ReportFormat, model: ReportModel = loadReportModel(runDir)): string {
  const path = join(runDir, REPORT_FILES[format]);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, RENDERERS[format](model));
  renameSync(tmp, path);
  return path;
}

/**
 * Writes report.md and report.html into a run folder, once, at the edge: the CLI after a screen, native run or
 * promotion, and the agent after its run-end event, so the reports show how the run ended. Stages never render.
 */
export function writeRunReports(runDir: string): RunReports {
  const model = loadReportModel(runDir);
  const byResult = new Map(model.results.map((r) => [resultKey(r), r.stability]));
  return {
    markdownPath: writeRunReport(runDir, 'md', model),
    htmlPath: writeRunReport(runDir, 'html', model),
    stability: { run: model.run.stability, of: (r) => byResult.get(resultKey(r)) },
  };
}

export interface RunReports {
  markdownPath: string;
  htmlPath: string;
  /** what the run's evidence says (see measure/stability.ts), for the CLI to flag: the run's, and one result's */
  stability: { run: Stability; of(r: ResultKey): Stability | undefined };
}

type ResultKey = Pick<ResultRow, 'kernel' | 'candidate' | 'target'>;
const resultKey = (r: ResultKey) => `${r.kernel}\0${r.candidate}\0${r.target}`;

/** The newest run folder under .kbench/runs (run ids sort by time). */
export function latestRunDir(workDir: string): string {
  const latest = listRunFolders(workDir).at(-1);
  if (!latest) throw new UsageError(`no runs in ${runsDir(workDir)} yet (run \`kbench screen <kernel>\` first)`);
  return latest.dir;
}

/** A run id (a folder under .kbench/runs), a run folder, or a ledger.jsonl path; none means the latest run. */
export function resolveRunDir(workDir: string, run?: string): string {
  if (!run) return latestRunDir(workDir);
  const byId = join(runsDir(workDir), run);
  if (existsSync(join(byId, LEDGER_FILE))) return byId;
  const asPath = resolve(workDir, run);
  if (existsSync(asPath)) return asPath;
  throw new UsageError(`no run '${run}': neither a run id in ${runsDir(workDir)} nor a run folder`);
}

export { loadReportModel, buildReportModel, REPORT_SCHEMA, type ReportModel } from './model.js';
export { buildGbench, type GbenchReport } from './gbench.js';
