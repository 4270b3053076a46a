// The one writer of runs: run-start with the machine's facts, results with their sources, the stages' own events,
// run-end with the machine's load. Screen, native run, promote and the agent all record through it, so every
// ledger opens and closes the same way; reports, resume, calibration and run lists are folds over what it wrote.
import { Ledger } from './ledger.js';
import { loadSnapshot, machineFacts } from './machine.js';
import { LEDGER_SCHEMA, type RecordedEvent, type RunEndEvent, type RunKind, type TargetResult } from './records.js';

export class RunRecorder {
  readonly ledger: Ledger;

  /** `onRecord` sees every event after it is on disk (the agent folds them into its state and shows them). */
  constructor(
    dir: string,
    private readonly onRecord: (event: RecordedEvent) => void = () => {},
  ) {
    this.ledger = new Ledger(dir);
  }

  get dir(): string {
    return this.ledger.dir;
  }

  /** Opens the run (an agent appends one again on every --resume); `machine` adds facts such as the toolchain. */
  start(kind: RunKind, id: string, opts: { argv?: string[]; machine?: Record<string, unknown>; kernelsDir?: string } = {}): void {
    this.event({ type: 'run-start', schema: LEDGER_SCHEMA, kind, id, at: now(), argv: opts.argv, ...(opts.kernelsDir ? { kernelsDir: opts.kernelsDir } : {}), machine: machineFacts(opts.machine) });
  }

  /** One candidate on one target; an agent names the hypothesis it belongs to. */
  result(result: TargetResult, hypothesis?: string): void {
    this.event({ type: 'result', at: now(), result, ...(hypothesis !== undefined ? { hypothesis } : {}) });
  }

  /** The candidate's source as it was built, beside the ledger (promote and reports read it back). */
  source(kernel: string, candidate: string, text: string): void {
    this.ledger.writeFile(`sources/${kernel}/${candidate}.c`, text);
  }

  event(event: RecordedEvent): void {
    this.ledger.append(event);
    this.onRecord(event);
  }

  /** Closes the run with how it ended and how busy the machine was by then. */
  end(status: RunEndEvent['status'], reason?: string): void {
    this.event({ type: 'run-end', at: now(), machine: { load: loadSnapshot() }, status, ...(reason !== undefined ? { reason } : {}) });
  }

  /** Writes a file into the run folder atomically. */
  writeFile(relPath: string, content: string | Uint8Array): string {
    return this.ledger.writeFile(relPath, content);
  }
}

function now(): string {
  return new Date().toISOString();
}
