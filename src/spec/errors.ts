// Kept for the files that import errors from here; the one error module is src/errors.ts.
export { UsageError, SpecError, AbortError } from '../errors.js';
