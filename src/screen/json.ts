// The documented `kbench screen --json` shape (docs/screen-schema.md): versioned, one entry per candidate.
import type { ScreenRun } from './run.js';

export const SCREEN_SCHEMA = 'kbench.screen/1';

export function screenRunJson(run: ScreenRun) {
  return {
    schema: SCREEN_SCHEMA,
    id: run.id,
    dir: run.dir,
    toolchain: run.toolchain,
    interrupted: run.interrupted,
    reports: run.reports,
    results: run.results,
  };
}
