// Prompt text lives in prompts/ (one place, reviewable as text); this only loads and fills it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const PROMPTS_DIR = fileURLToPath(new URL('../../prompts', import.meta.url));

export function loadPrompt(file: string): string {
  return readFileSync(join(PROMPTS_DIR, file), 'utf8');
}

/** Replaces {{name}} placeholders; a placeholder without a value is a bug in the caller, so it throws. */
export function renderPrompt(file: string, vars: Record<string, string | number>): string {
  return loadPrompt(file).replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!(name in vars)) throw new Error(`prompts/${file}: no value for {{${name}}}`);
    return String(vars[name]);
  });
}

/** Tool descriptions by tool name (prompts/tools.json). */
export function toolDescriptions(): Record<string, string> {
  return JSON.parse(loadPrompt('tools.json')) as Record<string, string>;
}
