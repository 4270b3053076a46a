// The documented `kbench screen --json` shape (docs/screen-schema.md): versioned, one entry per candidate.
import type { ScreenRun } from './run.js';
import type { Stability } from '../measure/stability.js';
import type { ScreenFloors } from '../measure/memory-floor.js';

export const SCREEN_SCHEMA = 'kbench.screen/1';

export function screenRunJson(
  run: ScreenRun,
  reports: { markdownPath: string; htmlPath: string },
  judged: { stability: Stability; results: (ScreenRun['results'][number] & { stability?: Stability })[] },
  floors?: ScreenFloors,
) {
  return {
    schema: SCREEN_SCHEMA,
    id: run.id,
    dir: run.dir,
    toolchain: run.toolchain,
    interrupted: run.interrupted,
    reports,
    stability: judged.stability,
    results: judged.results,
    ...(floors && { memoryFloor: floors }),
  };
}
