import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderJson } from '../../src/report/json.js';
import { loadReportModel } from '../../src/report/model.js';
import { AGENT_RUN, SCREEN_RUN } from './fixtures.js';

const SCHEMA_DOC = readFileSync(fileURLToPath(new URL('../../docs/report-schema.md', import.meta.url)), 'utf8');

function keysOf(value: unknown, skip: Set<string>, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => keysOf(v, skip, into));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      into.add(k);
      if (!skip.has(k)) keysOf(v, skip, into);
    }
  return into;
}

describe('the JSON report', () => {
  it('names its schema version', () => {
    expect(JSON.parse(renderJson(loadReportModel(SCREEN_RUN))).schema).toBe('kbench.report/1');
  });

  it('documents every field it writes in docs/report-schema.md', () => {
    // machine and otherEvents pass through whatever the ledger holds; their keys are not part of the schema.
    const keys = keysOf(JSON.parse(renderJson(loadReportModel(AGENT_RUN))), new Set(['machine', 'otherEvents']));
    const undocumented = [...keys].filter((k) => !SCHEMA_DOC.includes(`\`${k}\``));
    expect(undocumented).toEqual([]);
  });
});
