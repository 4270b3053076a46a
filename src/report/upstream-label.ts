// Which upstream a "vs upstream" figure is against, in one wording for the terminal and both reports.
import type { UpstreamInfo } from '../ledger/records.js';

/**
 * Commit, origin, flags and how ggml was called. A graph holds at most as many copies of the op as fit in one timing
 * batch (remote/judge.ts), so the shapes where it held fewer than asked are named with their count.
 */
export function upstreamLabel(u: UpstreamInfo, shapes: readonly { shape: string; upstreamCopies?: number }[] = []): string {
  const fewer = [...new Map(shapes.filter((s) => s.upstreamCopies !== undefined && s.upstreamCopies < u.copies).map((s) => [s.shape, s.upstreamCopies])).entries()];
  const capped = fewer.length ? ` (${fewer.map(([shape, n]) => `${n} on ${shape}`).join(', ')}: a timing batch holds no more)` : '';
  return `ggml ${u.commit.slice(0, 12)} (${u.origin}), ${u.flags}, ${u.call === 'graph' ? `graph of ${u.copies} ops${capped}` : 'direct call'} — ${u.how}`;
}
