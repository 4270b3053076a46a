// Tests that need a part outside npm (sshd, qemu, chromium, emcc…) skip with a reason when it is missing;
// CI sets KBENCH_REQUIRE_ALL=1 so that a missing part fails instead of skipping.
import { execFileSync } from 'node:child_process';

export const REQUIRE_ALL = process.env.KBENCH_REQUIRE_ALL === '1';

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Returns the reason the part is missing ('' when present). Under KBENCH_REQUIRE_ALL a missing part throws,
 * so `describe.skipIf(missing(...))` turns into a failure in CI.
 */
export function missing(what: string, present: boolean): string {
  if (present) return '';
  const reason = `${what} is not installed (CI installs it; see .ci/run)`;
  if (REQUIRE_ALL) throw new Error(`KBENCH_REQUIRE_ALL=1 but ${reason}`);
  console.warn(`skipping: ${reason}`);
  return reason;
}
