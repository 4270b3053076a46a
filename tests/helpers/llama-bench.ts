// Where tests find a llama-bench built from the pinned upstream: $KBENCH_LLAMA_BENCH, a path to the binary. The e2e
// build (kbench's cached reference build) is the place to look once it exists; until then a test without one skips.
import { accessSync, constants } from 'node:fs';
import { missing } from './require.js';

/** The llama-bench binary to test against, or null. */
export function findLlamaBench(): string | null {
  const path = process.env.KBENCH_LLAMA_BENCH;
  if (!path) return null;
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return null;
  }
}

/** '' when a llama-bench is available, else the skip reason (a failure under KBENCH_REQUIRE_ALL). */
export function llamaBenchMissing(): string {
  return missing('llama-bench of the pinned upstream (set KBENCH_LLAMA_BENCH to the binary)', findLlamaBench() !== null);
}
