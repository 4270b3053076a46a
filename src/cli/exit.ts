// Commands return their exit code; main reads it here after commander has run the action (commander drops an
// action's return value). Errors are not codes: they propagate to main, which maps them with exitCodeOf.
import { EXIT } from '../errors.js';

let lastExitCode: number = EXIT.ok;

/** Wraps a command's action so the code it returns (or 0) becomes the CLI's exit code. */
export function exits<A extends unknown[]>(action: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    lastExitCode = (await action(...args)) ?? EXIT.ok;
  };
}

/** The code the last action returned; `reset` before parsing so one main() call never sees another's. */
export function takeExitCode(reset = false): number {
  const code = lastExitCode;
  lastExitCode = EXIT.ok;
  return reset ? EXIT.ok : code;
}
