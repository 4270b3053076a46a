// Numeric option parsers for commander: each turns a bad value into one UsageError (exit 2) naming the flag.
import { UsageError } from '../errors.js';

function numberOption(flag: string, ok: (n: number) => boolean, expectation: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!ok(n)) throw new UsageError(`${flag}: expected ${expectation}, got '${v}'`);
    return n;
  };
}

export const nonNegative = (flag: string) => numberOption(flag, (n) => Number.isFinite(n) && n >= 0, 'a non-negative number');

export const integer = (flag: string, min: number) => numberOption(flag, (n) => Number.isInteger(n) && n >= min, `a whole number ≥ ${min}`);

/** Seeds are 32-bit: inputs and the bootstrap hash them as unsigned 32-bit integers. */
export const seed = (flag: string) => numberOption(flag, (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff, 'a whole number in [0, 4294967295]');

export const fraction = (flag: string) => numberOption(flag, (n) => Number.isFinite(n) && n >= 0 && n < 1, 'a fraction in [0, 1)');

export const positive = (flag: string, whole: boolean) =>
  numberOption(flag, (n) => Number.isFinite(n) && n > 0 && (!whole || Number.isInteger(n)), `a positive ${whole ? 'integer' : 'number'}`);

export const wholeMinutes = (flag: string) => numberOption(flag, (n) => Number.isInteger(n) && n >= 1, 'whole minutes ≥ 1');

/** A comma-separated list of whole numbers ≥ 0 (llama-bench depths): "0,4096". */
export const wholeList = (flag: string) => (v: string): number[] => {
  const parts = v.split(',').map((x) => x.trim());
  if (parts.some((x) => !/^\d+$/.test(x))) throw new UsageError(`${flag}: expected whole numbers ≥ 0 separated by commas, got '${v}'`);
  return parts.map(Number);
};
