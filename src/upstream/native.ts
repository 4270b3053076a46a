// The upstream variant inside native runs (kbench run --upstream): the kernel's adapter with the cached ggml build of
// this machine, or a llama.cpp checkout that run.sh builds on the host, for runNative (src/remote/native.ts).
import type { HostConfig } from '../config/config.js';
import { UsageError } from '../errors.js';
import { toolchainFor } from '../remote/hosts.js';
import type { NativeUpstream } from '../remote/native.js';
import type { Kernel } from '../spec/suite.js';
import { buildGgml } from './build.js';
import { UPSTREAM_C_DIR, upstreamAdapterPath } from './harness.js';
import { resolveUpstream } from './source.js';

/** ops per graph call of a graph adapter, unless the caller says otherwise */
export const DEFAULT_UPSTREAM_COPIES = 16;

/**
 * The upstream variant of `kernel` for a native run on `host`, or undefined when the kernel has no adapter.
 * `spec`: true = the pinned npm source, a path = a llama.cpp checkout (on this machine for `local`, on the host for
 * ssh hosts, where run.sh builds it). The pinned source is built on this machine only: on another host it is a
 * usage error.
 */
export async function nativeUpstream(kernel: Kernel, host: HostConfig, spec: string | true, copies = DEFAULT_UPSTREAM_COPIES, log?: (line: string) => void): Promise<NativeUpstream | undefined> {
  const adapterPath = upstreamAdapterPath(kernel);
  if (!adapterPath) return undefined;
  const call = kernel.spec.upstream!.call;
  const graph = call !== 'direct';
  const described = { call, how: kernel.spec.upstream!.how, copies: graph ? copies : 1 };
  if (host.executor !== 'local') {
    if (spec === true) throw new UsageError(`--upstream on host '${host.name}': name a llama.cpp checkout on that host (--upstream DIR, or "ggml" in kbench.config.json); the pinned npm source is built on this machine only`);
    const flags = toolchainFor(host).cflags.join(' ');
    return {
      bundle: { adapterPath, helperDir: UPSTREAM_C_DIR, includeDirs: [], libs: [], graph, copies, hostSource: spec },
      info: { origin: `host:${spec}`, commit: 'unknown', flags: `GGML_NATIVE=OFF, host build (kernels: ${flags})`, ...described },
    };
  }
  const source = await resolveUpstream(spec, { log });
  const build = await buildGgml(source, { log });
  return {
    bundle: { adapterPath, helperDir: UPSTREAM_C_DIR, includeDirs: build.includeDirs, libs: [...build.libs, ...(build.ldflags ?? [])], graph, copies },
    info: { origin: build.origin, commit: source.commit, flags: build.flags, ...described },
  };
}
