// Runs bundles on this machine (hosts 'local' and 'qemu-aarch64'): the bundle folder is the working directory.
import type { HostConfig } from '../config/config.js';
import { spawnCollect, supervise, type ExecOptions, type ExecResult, type Executor } from './executor.js';

export class LocalExecutor implements Executor {
  constructor(readonly host: HostConfig) {}

  runBundle(bundleDir: string, command: string, _collect: string, opts: ExecOptions): Promise<ExecResult> {
    return supervise(spawnCollect('sh', ['-c', command], { cwd: bundleDir, onOutput: opts.onOutput }), this.host.name, 'the run', opts);
  }

  exec(command: string, opts: ExecOptions): Promise<ExecResult> {
    return supervise(spawnCollect('sh', ['-c', command], { onOutput: opts.onOutput }), this.host.name, command, opts);
  }

  async close(): Promise<void> {}
}
