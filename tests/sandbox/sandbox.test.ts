// The sandbox host is a separate process that Ctrl-C (sent to the process group) or the OOM killer may have ended
// already: closing must not throw (it used to, with ERR_IPC_DISCONNECTED) and must not wait long.
import { describe, expect, it } from 'vitest';
import { Sandbox } from '../../src/sandbox/sandbox.js';
import type { SandboxJob } from '../../src/sandbox/jobs.js';
import { loadKernel } from '../../src/spec/suite.js';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { FIXTURE_KERNELS, tempDir } from '../helpers/fixtures.js';

const spec = loadKernel(join(FIXTURE_KERNELS, 'scale_rows')).spec;
// not a WASM module: the compile stage never lets one through, so failing on it is kbench's own error
const job: SandboxJob = { kind: 'check', spec, reference: new Uint8Array(8), candidate: new Uint8Array(8), seed: 1, maxMemoryBytes: 1 << 24 };
const hostOf = (s: Sandbox) => (s as unknown as { child?: { pid: number; exitCode: number | null; signalCode: string | null } }).child;

describe('Sandbox', () => {
  it('a job that kbench itself cannot run is a harness-error', async () => {
    const sandbox = new Sandbox();
    try {
      const reply = await sandbox.run(job, 10_000);
      expect(reply).toMatchObject({ kind: 'check', verdict: { status: 'harness-error', message: expect.stringMatching(/^CompileError: /) } });
    } finally {
      await sandbox.close();
    }
  });

  it('closes a host that already died, at once and without throwing, and starts a new one for the next job', async () => {
    const sandbox = new Sandbox();
    await sandbox.run(job, 10_000);
    const host = hostOf(sandbox)!;
    process.kill(host.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    expect(host.signalCode).toBe('SIGKILL');
    const started = performance.now();
    await sandbox.close();
    await sandbox.close();
    expect(performance.now() - started).toBeLessThan(500);
    expect((await sandbox.run(job, 10_000)).kind).toBe('check');
    const second = hostOf(sandbox)!.pid;
    expect(second).not.toBe(host.pid);
    await sandbox.close();
    expect(() => process.kill(second, 0)).toThrow(/ESRCH/); // close waited until the host was gone
  });

  it('a host started with --cpu-prof (scripts/bench-sandbox.mjs --profile) is let exit on close, so it writes its profiles', async () => {
    const dir = tempDir();
    const sandbox = new Sandbox(['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    await sandbox.run(job, 10_000);
    const host = hostOf(sandbox)!;
    await sandbox.close();
    expect(host.signalCode).toBeNull();
    // the host's main thread and its job worker
    expect(readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).length).toBeGreaterThanOrEqual(2);
  });
});
