import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
export const FIXTURE_KERNELS = join(FIXTURES, 'kernels');
export const HOSTILE = join(FIXTURES, 'hostile');
export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(REPO, 'bin', 'kbench.js');

export function tempDir(prefix = 'kbench-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
