// The upstream variant inside native runs (kbench run --upstream): the kernel's adapter and the cached ggml build
// of this machine, for writeBundle, and what the results record about it.
import type { UpstreamInfo } from '../ledger/records.js';
import type { BundleUpstream } from '../remote/bundle.js';
import type { Kernel } from '../spec/suite.js';
import { buildGgml } from './build.js';
import { UPSTREAM_C_DIR, upstreamAdapterPath } from './harness.js';
import { resolveUpstream } from './source.js';

export async function upstreamBundle(kernel: Kernel, spec: string | boolean, copies: number, log?: (line: string) => void): Promise<{ bundle: BundleUpstream; info: UpstreamInfo }> {
  const adapterPath = upstreamAdapterPath(kernel)!;
  const source = await resolveUpstream(spec, { log });
  const build = await buildGgml(source, { log });
  const graph = kernel.spec.upstream!.call !== 'direct';
  return {
    bundle: { adapterPath, helperDir: UPSTREAM_C_DIR, includeDirs: build.includeDirs, libs: [...build.libs, ...(build.ldflags ?? [])], graph, copies },
    info: { origin: build.origin, commit: source.commit, flags: build.flags, call: kernel.spec.upstream!.call, how: kernel.spec.upstream!.how, copies: graph ? copies : 1 },
  };
}

/** A llama.cpp checkout on a remote host: run.sh builds ggml there (cached on the host) and reports its commit. */
export function hostUpstreamBundle(kernel: Kernel, dir: string, copies: number, flags: string): { bundle: BundleUpstream; info: UpstreamInfo } {
  const adapterPath = upstreamAdapterPath(kernel)!;
  const graph = kernel.spec.upstream!.call !== 'direct';
  return {
    bundle: { adapterPath, helperDir: UPSTREAM_C_DIR, includeDirs: [], libs: [], graph, copies, hostSource: dir },
    info: { origin: `host:${dir}`, commit: 'unknown', flags: `GGML_NATIVE=OFF, host build (kernels: ${flags})`, call: kernel.spec.upstream!.call, how: kernel.spec.upstream!.how, copies: graph ? copies : 1 },
  };
}
