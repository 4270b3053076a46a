// A runner that judges candidates by a marker in their source, for tests about the loop and its limits
// (the real stages are exercised in agent-loop.test.ts). A source's speed is absolute, so a candidate timed
// against a champion gets the ratio of the two: stacked wins multiply as they would on a real machine. Its
// end-to-end step (--e2e) returns whatever result the test gives it.
import type { SavedCandidate, ExperimentRunner } from '../../src/agent/runner.js';
import type { E2eResult, E2eTestResult, TargetResult } from '../../src/ledger/records.js';
import { speedVerdict } from '../../src/measure/stats.js';
import { describeE2eVerdict } from '../../src/e2e/timing.js';
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

/** One end-to-end test: `ratio` graft/reference tokens per second with a ±1% CI, judged against a 2% floor. */
export function e2eTest(label: string, ratio: number): E2eTestResult {
  const [kind, depth] = [label.startsWith('pp') ? 'pp' : 'tg', Number(/d(\d+)/.exec(label)?.[1] ?? 0)] as const;
  const interval = { estimate: ratio, lo: ratio * 0.99, hi: ratio * 1.01, level: 0.95 };
  const verdict = speedVerdict(interval, 0.02);
  return { label, kind, tokens: 32, depth, referenceNs: [1e9], graftNs: [1e9 / ratio], referenceTokensPerS: 32, graftTokensPerS: 32 * ratio, ratio: interval, verdict, noiseFloor: 0.02, summary: describeE2eVerdict(interval, verdict, 0.02) };
}

/**
 * An end-to-end result for the runner's e2e step: the logits agree (unless `logits` says otherwise), then the given
 * tests, each with an Amdahl prediction of +1%; it took 90 s on 'local'.
 */
export function fakeE2e(candidate: string, tests: E2eTestResult[], logits: Partial<E2eResult['logits']> = {}): E2eResult {
  const agree = (logits.status ?? 'agree') === 'agree';
  const predicted = { estimate: 1.01, lo: 1.005, hi: 1.015, level: 0.9 };
  return {
    kernel: 'rms_norm',
    candidate,
    sourceSha256: '0'.repeat(64),
    host: 'local',
    hostname: 'test',
    upstream: { origin: 'npm:node-llama-cpp@3.22.1', commit: 'de3ff815', flags: 'AVX2' },
    model: { path: '/models/random.gguf', generated: true },
    recipe: { file: 'ggml/src/ggml-cpu/ops.cpp', function: 'ggml_compute_forward_rms_norm_f32', env: {}, flashAttention: 'auto' },
    bench: { threads: 1, prompt: 128, gen: 32, depths: [0], rounds: 3, seed: 1 },
    logits: { status: 'agree', reason: 'top-1 identical on 48 rows; max relative difference 6.0e-4 ≤ 4.9e-3', maxRelDiff: 6e-4, tolerance: 4.9e-3, ...logits },
    ...(agree
      ? {
          timing: { status: 'timed' as const, tests, stability: { status: 'stable' as const, reasons: [] }, load: {} },
          prediction: tests.map((t) => ({
            label: t.label,
            opShape: 'decode 1x4096',
            opSpeedup: { estimate: 1.5, lo: 1.4, hi: 1.6, level: 0.95 },
            share: { estimate: 0.03, lo: 0.02, hi: 0.04, level: 0.95 },
            predicted,
            check: { gap: t.ratio.estimate / 1.01, agrees: true, summary: 'they agree' },
          })),
        }
      : {}),
    elapsedMs: 90_000,
  };
}

/** Logs `screen <candidate>` / `confirm <candidate>`, with ` vs <champion>` when timed against one. */
export function fakeRunner(log: string[] = [], e2e?: (c: SavedCandidate) => E2eResult): ExperimentRunner {
  const judge = (c: SavedCandidate, ref?: SavedCandidate, speed = speedOf) => {
    const own = speed(c.source);
    return own === null ? null : { own, ref: ref ? speed(ref.source)! : 1 };
  };
  const vs = (ref?: SavedCandidate) => (ref ? ` vs ${ref.name}` : '');
  return {
    screen: async (kernel, c, ref) => (log.push(`screen ${c.name}${vs(ref)}`), result(kernel, c, 'wasm', judge(c, ref))),
    confirm: async (kernel, c, hosts: HostConfig[], _signal, ref) => (log.push(`confirm ${c.name}${vs(ref)}`), hosts.map((h) => result(kernel, c, h.name, judge(c, ref, nativeSpeedOf)))),
    ...(e2e ? { e2e: async (_kernel: Kernel, c: SavedCandidate) => (log.push(`e2e ${c.name}`), e2e(c)) } : {}),
    close: async () => undefined,
  };
}
