import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ledger, LEDGER_FILE, readLedger } from '../../src/ledger/ledger.js';
import { LEDGER_SCHEMA, toLedgerEvent } from '../../src/ledger/records.js';
import { buildReportModel } from '../../src/report/model.js';

const dir = () => mkdtempSync(join(tmpdir(), 'kbench-ledger-'));

describe('the ledger', () => {
  it('reads back what it appended, one event per line', () => {
    const ledger = new Ledger(dir());
    ledger.append({ type: 'run-start', schema: LEDGER_SCHEMA, kind: 'screen', id: 'r1', at: '2026-01-01T00:00:00.000Z' });
    ledger.append({ type: 'run-end', at: '2026-01-01T00:00:01.000Z', status: 'done' });
    expect(ledger.read().map((e) => e.type)).toEqual(['run-start', 'run-end']);
    expect(readFileSync(ledger.file, 'utf8').split('\n')).toHaveLength(3);
  });

  it('maps a type it does not know to one unknown event that keeps the line', () => {
    const e = toLedgerEvent({ type: 'note', at: 't', text: 'hello' });
    expect(e).toEqual({ type: 'unknown', at: 't', originalType: 'note', fields: { type: 'note', at: 't', text: 'hello' } });
    expect(toLedgerEvent({ at: 't' })).toMatchObject({ type: 'unknown', originalType: '(none)' });
    expect(toLedgerEvent({ type: 'verdict', at: 't' }).type).toBe('verdict');
  });

  it('drops a torn last line on read and cuts it before appending more', () => {
    const d = dir();
    const file = join(d, LEDGER_FILE);
    writeFileSync(file, JSON.stringify({ type: 'run-end', at: 'a', status: 'done' }) + '\n{"type":"res');
    expect(readLedger(file)).toHaveLength(1);
    const ledger = new Ledger(d);
    ledger.append({ type: 'stop', at: 'b', reason: 'budget' });
    expect(ledger.read().map((e) => e.type)).toEqual(['run-end', 'stop']);
  });

  it('refuses a corrupt line that is not the last', () => {
    const file = join(dir(), LEDGER_FILE);
    writeFileSync(file, '{bad\n');
    appendFileSync(file, JSON.stringify({ type: 'stop', at: 'b', reason: 'x' }) + '\n');
    expect(() => readLedger(file)).toThrow(/:1: corrupt ledger line/);
  });

  it('shows promote-end in no report as an event it does not know, but counts unknown types', () => {
    const model = buildReportModel([
      { type: 'run-start', schema: LEDGER_SCHEMA, kind: 'screen', id: 'r', at: 'a' },
      { type: 'promote-end', at: 'b', status: 'done', hosts: ['local'] },
      toLedgerEvent({ type: 'note', at: 'c' }),
    ]);
    expect(model.otherEvents).toEqual({ note: 1 });
  });
});
