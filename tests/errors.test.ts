import { describe, expect, it } from 'vitest';
import { AbortError, EXIT, exitCodeOf, HostError, isAbort, SpecError, UsageError } from '../src/errors.js';
import { main } from '../src/cli/main.js';

describe('the error model', () => {
  it('gives every error the exit code the CLI ends with', () => {
    expect(exitCodeOf(new UsageError('x'))).toBe(EXIT.usage);
    expect(exitCodeOf(new SpecError('k.json', 'shapes', 'bad'))).toBe(EXIT.usage);
    expect(exitCodeOf(new AbortError())).toBe(EXIT.aborted);
    expect(exitCodeOf(new HostError('x86a', 'lost'))).toBe(EXIT.internal);
    expect(exitCodeOf(new TypeError('bug'))).toBe(EXIT.internal);
  });

  it('keeps a host failure reason apart from the host name', () => {
    const e = new HostError('x86a', 'connection refused');
    expect(e.message).toBe('x86a: connection refused');
    expect(e.reason).toBe('connection refused');
  });

  it('knows an abort by its class or by the name a copy of it carries', () => {
    const foreign = Object.assign(new Error('cancelled'), { name: 'AbortError' });
    expect(isAbort(new AbortError())).toBe(true);
    expect(isAbort(foreign)).toBe(true);
    expect(isAbort(new Error('x'))).toBe(false);
  });

  it('maps a usage error to 2 in main, with the message and no stack', async () => {
    let stderr = '';
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => ((stderr += s), true)) as typeof process.stderr.write;
    try {
      expect(await main(['node', 'kbench', 'report', '--html', '--format', 'json'])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(stderr).toBe('kbench: choose one report format, not html and json\n');
  });
});
