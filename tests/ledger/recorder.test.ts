import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunRecorder } from '../../src/ledger/recorder.js';
import type { RecordedEvent } from '../../src/ledger/records.js';
import { targetResult } from '../helpers/results.js';

describe('the run recorder', () => {
  it('opens every run with the machine facts and closes it with the load, whatever its kind', () => {
    const seen: RecordedEvent[] = [];
    const recorder = new RunRecorder(mkdtempSync(join(tmpdir(), 'kbench-rec-')), (e) => seen.push(e));
    recorder.start('agent', 'r1', { argv: ['agent', 'k'] });
    recorder.result(targetResult(), 'h1');
    recorder.end('done');
    const events = recorder.ledger.read();
    expect(events.map((e) => e.type)).toEqual(['run-start', 'result', 'run-end']);
    expect(seen).toEqual(events);
    const [start, result, end] = events;
    if (start.type !== 'run-start' || result.type !== 'result' || end.type !== 'run-end') throw new Error('unexpected events');
    expect(start).toMatchObject({ kind: 'agent', id: 'r1', argv: ['agent', 'k'] });
    expect(start.machine?.cpus).toBeGreaterThan(0);
    expect(start.machine?.load?.cpus).toBeGreaterThan(0);
    expect(result.hypothesis).toBe('h1');
    expect(end.machine?.load?.loadAvg1).toEqual(expect.any(Number));
    expect(end.reason).toBeUndefined();
  });
});
