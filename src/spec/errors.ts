/** A usage or spec problem: the CLI prints the message and exits 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
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
export class AbortError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'AbortError';
  }
}
