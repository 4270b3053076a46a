// The documented `kbench screen --json` shape (docs/screen-schema.md): versioned, one entry per candidate.
import type { ScreenRun } from './run.js';

export const SCREEN_SCHEMA = 'kbench.screen/1';

export function screenRunJson(run: ScreenRun, reports: { markdownPath: string; htmlPath: string }) {
  return {
    schema: SCREEN_SCHEMA,
    id: run.id,
    dir: run.dir,
    toolchain: run.toolchain,
    interrupted: run.interrupted,
    reports,
    results: run.results,
  };
}
