// A runner that judges candidates by a marker in their source, for tests about the loop and its limits
// (the real stages are exercised in agent-loop.test.ts). A source's speed is absolute, so a candidate timed
// against a champion gets the ratio of the two: stacked wins multiply as they would on a real machine.
import type { SavedCandidate, ExperimentRunner } from '../../src/agent/runner.js';
import type { TargetResult } from '../../src/ledger/records.js';
import type { Kernel } from '../../src/spec/suite.js';
import type { HostConfig } from '../../src/config/config.js';
import { speedResult, targetResult } from '../helpers/results.js';

/** Speeds are relative to the original baseline's 1000 ns per call; `ref` is the reference's speed. */
function result(kernel: Kernel, c: SavedCandidate, target: string, speeds: { own: number; ref: number } | null): TargetResult {
  const speedup = speeds && speeds.own / speeds.ref;
  const speed =
    speeds === null || speedup === null
      ? []
      : kernel.spec.shapes.bench.map((s, i) =>
          speedResult(speedup, i, {
            shape: s.name ?? `shape ${i}`,
            baselineNs: [1000 / speeds.ref],
            candidateNs: [1000 / speeds.own],
            speedup: { estimate: speedup, lo: speedup * 0.95, hi: speedup * 1.05, level: 0.95 },
            candidateMedianNs: 1000 / speeds.own,
            baselineMedianNs: 1000 / speeds.ref,
            // streaming the buffers once takes 500 ns: the baseline is at 50% of the speed of light
            speedOfLight: { footprintBytes: 4096, readNs: 500, peakGflops: 10 },
          }),
        );
  return targetResult({
    kernel: kernel.name,
    candidate: c.name,
    target,
    toolchain: 'fake',
    check: speeds === null ? { status: 'compile-error', diagnostic: 'fake.c:1:1: error: marked broken' } : { status: 'pass', calls: 1 },
    speed,
    elapsedMs: 1800_000,
  });
}

/** The source's speed: `SPEED=<x>` → x; `FAST` → 1.5; `BROKEN` → null (compile error); anything else → 1.0. */
export function speedOf(source: string): number | null {
  const marked = /SPEED=([\d.]+)/.exec(source);
  if (marked) return Number(marked[1]);
  return source.includes('BROKEN') ? null : source.includes('FAST') ? 1.5 : 1.0;
}

/** On hosts, `NATIVE=<x>` overrides the speed (a candidate the screen likes and the hosts do not). */
function nativeSpeedOf(source: string): number | null {
  const marked = /NATIVE=([\d.]+)/.exec(source);
  return marked ? Number(marked[1]) : speedOf(source);
}

/** Logs `screen <candidate>` / `confirm <candidate>`, with ` vs <champion>` when timed against one. */
export function fakeRunner(log: string[] = []): ExperimentRunner {
  const judge = (c: SavedCandidate, ref?: SavedCandidate, speed = speedOf) => {
    const own = speed(c.source);
    return own === null ? null : { own, ref: ref ? speed(ref.source)! : 1 };
  };
  const vs = (ref?: SavedCandidate) => (ref ? ` vs ${ref.name}` : '');
  return {
    screen: async (kernel, c, ref) => (log.push(`screen ${c.name}${vs(ref)}`), result(kernel, c, 'wasm', judge(c, ref))),
    confirm: async (kernel, c, hosts: HostConfig[], _signal, ref) => (log.push(`confirm ${c.name}${vs(ref)}`), hosts.map((h) => result(kernel, c, h.name, judge(c, ref, nativeSpeedOf)))),
    close: async () => undefined,
  };
}
