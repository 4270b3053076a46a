// kbench's one error model. Every error a user can meet carries the exit code the CLI ends with; main maps
// errors to codes in one place. A failed host is not an error of the run: it becomes data (a result with a
// `hostFailure` reason), so HostError keeps the reason apart from the host's name.

/** The base of every error kbench throws on purpose: the message is for the user, the code for the shell. */
export abstract class KbenchError extends Error {
  abstract readonly exitCode: number;
}

/** A usage or spec problem: the CLI prints the message and exits 2. */
export class UsageError extends KbenchError {
  readonly exitCode: number = 2;
}

/** One malformed spec: names the file and the field, e.g. `kernels/x/kernel.json: params[1].dtype: …`. */
export class SpecError extends UsageError {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${file}: ${field ? `${field}: ` : ''}${problem}`);
  }
}

/** Work stopped by the user (Ctrl-C) or a time limit: not a failure of what was running. */
export class AbortError extends KbenchError {
  readonly exitCode = 130;
  constructor() {
    super('cancelled');
    this.name = 'AbortError';
  }
}

/** The host could not be used (unreachable, lost, refused, timed out): the candidate was not judged. */
export class HostError extends KbenchError {
  readonly exitCode = 1;
  constructor(
    readonly host: string,
    /** what went wrong, without the host's name: what a host-failure result records */
    readonly reason: string,
  ) {
    super(`${host}: ${reason}`);
  }
}

/**
 * Exit codes of the CLI: 0 ran (whatever the verdicts), 1 internal failure, 2 usage or spec, 3 a named host could not
 * be used (unreachable, lacks a CPU feature, sky failed), 130 stopped.
 */
export const EXIT = { ok: 0, internal: 1, usage: 2, host: 3, aborted: 130 } as const;

/** True for a cancellation, whichever copy of AbortError (a worker's, a re-export's) threw it. */
export function isAbort(e: unknown): boolean {
  return e instanceof AbortError || (e instanceof Error && e.name === 'AbortError');
}

/** The exit code an error ends the CLI with; anything not a KbenchError is an internal failure. */
export function exitCodeOf(e: unknown): number {
  if (isAbort(e)) return EXIT.aborted;
  return e instanceof KbenchError ? e.exitCode : EXIT.internal;
}
