// Where tests find a llama-bench built from the pinned upstream: $KBENCH_LLAMA_BENCH (a path to the binary), else
// kbench's own cached reference build (src/e2e/build.ts), built here when cmake is installed and the pinned source
// is fetched (or CI may fetch it). Without cmake the tests skip, which KBENCH_REQUIRE_ALL turns into a failure.
import { accessSync, constants } from 'node:fs';
import { buildReference } from '../../src/e2e/build.js';
import { fetchedUpstream, fetchUpstream } from '../../src/upstream/source.js';
import { hasCommand, missing, REQUIRE_ALL } from './require.js';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why the reference build cannot be made here, or ''. */
function buildMissing(): string {
  const tools = missing('cmake with a C and C++ compiler (for the llama-bench of the pinned upstream)', hasCommand('cmake') && hasCommand('c++') && hasCommand('cc'));
  if (tools) return tools;
  const fetchAllowed = Boolean(process.env.CI) || REQUIRE_ALL || fetchedUpstream() !== null;
  return fetchAllowed ? '' : missing('the pinned upstream source (run `kbench upstream fetch`)', false);
}

/** The llama-bench binary to test against (the cached reference build, made first if need be), or null. */
export async function findLlamaBench(): Promise<string | null> {
  const path = process.env.KBENCH_LLAMA_BENCH;
  if (path) return executable(path) ? path : null;
  if (buildMissing()) return null;
  const ref = await buildReference(await fetchUpstream());
  return executable(ref.llamaBench) ? ref.llamaBench : null;
}

/** '' when a llama-bench can be had, else the skip reason (a failure under KBENCH_REQUIRE_ALL). */
export function llamaBenchMissing(): string {
  const path = process.env.KBENCH_LLAMA_BENCH;
  if (path) return missing(`the llama-bench at KBENCH_LLAMA_BENCH=${path}`, executable(path));
  return buildMissing();
}
