// Append-only JSONL ledger: written line by line as results arrive, read back tolerating a torn last line
// (a run killed mid-write must still resume).
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, renameSync, truncateSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { toLedgerEvent, type LedgerEvent, type RecordedEvent } from './records.js';

export const LEDGER_FILE = 'ledger.jsonl';

export function runsDir(workDir: string): string {
  return join(workDir, '.kbench', 'runs');
}

export interface RunFolder {
  id: string;
  dir: string;
  ledgerFile: string;
}

/** The one walker of .kbench/runs: every run folder that holds a ledger, oldest first (run ids sort by time). */
export function listRunFolders(workDir: string): RunFolder[] {
  const root = runsDir(workDir);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .sort()
    .map((id) => ({ id, dir: join(root, id), ledgerFile: join(root, id, LEDGER_FILE) }))
    .filter((run) => existsSync(run.ledgerFile));
}

/** e.g. 20261127-061530-3fa2: sortable by time, unique enough for one machine. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export class Ledger {
  readonly file: string;
  constructor(readonly dir: string) {
    this.file = join(dir, LEDGER_FILE);
    mkdirSync(dir, { recursive: true });
    dropTornTail(this.file);
  }

  append(event: RecordedEvent): void {
    appendFileSync(this.file, JSON.stringify(event) + '\n');
  }

  read(): LedgerEvent[] {
    return readLedger(this.file);
  }

  /** Writes a file in the run folder atomically (temp + rename), so readers never see half a file. */
  writeFile(relPath: string, content: string | Uint8Array): string {
    const path = join(this.dir, relPath);
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, content);
    renameSync(tmp, path);
    return path;
  }
}

/** The events of a ledger file, an unknown type as an `unknown` event; [] when there is no file. */
export function readLedger(file: string): LedgerEvent[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const events: LedgerEvent[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      events.push(toLedgerEvent(JSON.parse(line) as Record<string, unknown>));
    } catch (e) {
      // Only the last line may be torn (killed mid-append); anything else is corruption worth reporting.
      if (i !== lines.length - 1) throw new Error(`${file}:${i + 1}: corrupt ledger line (${(e as Error).message})`);
    }
  });
  return events;
}

/** A run killed mid-append leaves a line without its newline; cut it before appending more. */
function dropTornTail(file: string): void {
  if (!existsSync(file)) return;
  const text = readFileSync(file);
  if (text.length === 0 || text[text.length - 1] === 0x0a) return;
  truncateSync(file, text.lastIndexOf(0x0a) + 1);
}
