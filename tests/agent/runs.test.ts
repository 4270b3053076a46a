import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listRuns } from '../../src/agent/runs.js';

const FIXTURES = join(__dirname, '..', 'fixtures', 'ledgers');

describe('kbench runs', () => {
  it('summarizes agent and screen runs from their ledgers, and a run that died without an end', () => {
    const workDir = mkdtempSync(join(tmpdir(), 'kbench-runs-'));
    const runs = join(workDir, '.kbench', 'runs');
    cpSync(join(FIXTURES, 'agent-rms_norm'), join(runs, 'a-agent'), { recursive: true });
    cpSync(join(FIXTURES, 'screen-rms_norm'), join(runs, 'b-screen'), { recursive: true });
    mkdirSync(join(runs, 'c-dead'));
    writeFileSync(
      join(runs, 'c-dead', 'ledger.jsonl'),
      '{"type":"run-start","schema":"kbench.ledger/1","kind":"agent","id":"c-dead","at":"2026-11-27T08:00:00.000Z"}\n{"type":"cost","at":"2026-11-27T08:00:01.000Z","category":"tokens","costUsd":0.5,"totalUsd":0.5,"usage":{"input_tokens":1,"output_tokens":1}}\n{"type":"verd',
    );
    const [agent, screen, dead] = listRuns(workDir);
    expect(agent).toMatchObject({ id: 'a-agent', kind: 'agent', kernel: 'rms_norm', status: 'done', experiments: 3, landed: 1, bestSpeedup: 1.52 });
    // tokens 0.184 + 0.097, hosts 0.0041 + 0.0011
    expect(agent.costUsd).toBeCloseTo(0.2862, 10);
    expect(screen).toMatchObject({ id: 'b-screen', kind: 'screen', kernel: 'rms_norm', landed: null, costUsd: 0 });
    expect(screen.bestSpeedup).toBeGreaterThan(1);
    expect(dead).toMatchObject({ id: 'c-dead', kind: 'agent', status: 'unfinished', experiments: 0, costUsd: 0.5 });
  });

  it('is empty without a runs folder', () => {
    expect(listRuns(mkdtempSync(join(tmpdir(), 'kbench-runs-')))).toEqual([]);
  });
});
