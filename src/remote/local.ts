// Runs bundles on this machine (hosts 'local' and 'qemu-aarch64'): the bundle folder is the working directory.
import { mkdirSync } from 'node:fs';
import type { HostConfig } from '../config/config.js';
import { HostError, spawnCollect, spawnPipe, supervise, type ExecOptions, type ExecResult, type Executor } from './executor.js';

export class LocalExecutor implements Executor {
  constructor(readonly host: HostConfig) {}

  runBundle(bundleDir: string, command: string, _collect: string, opts: ExecOptions): Promise<ExecResult> {
    return supervise(spawnCollect('sh', ['-c', command], { cwd: bundleDir, onOutput: opts.onOutput }), this.host.name, 'the run', opts);
  }

  exec(command: string, opts: ExecOptions): Promise<ExecResult> {
    return supervise(spawnCollect('sh', ['-c', command], { onOutput: opts.onOutput }), this.host.name, command, opts);
  }

  async upload(localDir: string, entries: string[], remoteDir: string, opts: ExecOptions): Promise<void> {
    mkdirSync(remoteDir, { recursive: true });
    const copy = await supervise(spawnPipe(['tar', ['-c', '-C', localDir, '--', ...entries]], ['tar', ['-x', '-C', remoteDir]], 'consumer'), this.host.name, 'copying files', opts);
    if (copy.exitCode !== 0) throw new HostError(this.host.name, `could not copy ${entries.join(' ')} into ${remoteDir}: ${copy.stderr.trim().split('\n').pop()}`);
  }

  async close(): Promise<void> {}
}
