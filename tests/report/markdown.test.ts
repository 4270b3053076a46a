import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadReportModel } from '../../src/report/model.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { AGENT_RUN, SCREEN_RUN } from './fixtures.js';

// Set UPDATE_GOLDEN=1 to rewrite the golden files after an intended change; review the diff before committing.
function expectGolden(name: string, text: string): void {
  const file = fileURLToPath(new URL(`./golden/${name}`, import.meta.url));
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

describe('the Markdown report', () => {
  it('of a screen run matches its golden file', () => {
    expectGolden('screen-rms_norm.md', renderMarkdown(loadReportModel(SCREEN_RUN)));
  });

  it('of an agent run matches its golden file', () => {
    expectGolden('agent-rms_norm.md', renderMarkdown(loadReportModel(AGENT_RUN)));
  });

  it('escapes pipes so a failure reason cannot break the table', () => {
    const md = renderMarkdown(loadReportModel(SCREEN_RUN));
    const row = md.split('\n').find((l) => l.includes('| bad_tail |'))!;
    expect(row).toContain('\\|a-b\\|');
    expect(row.split(/(?<!\\)\|/).length).toBe(7);
  });
});
