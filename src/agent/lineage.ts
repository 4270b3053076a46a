// The champion lineage: baseline → A → A+B … Each kept candidate is timed against the champion it replaces, so
// its speedup over the original baseline is the product of the steps (per target and shape), with bounds
// multiplied too. No extra timing of the original baseline is needed, and the CI is honest about its width.
import type { TargetResult } from '../ledger/records.js';
import { lightShare } from '../measure/speed-of-light.js';
import type { Interval } from '../measure/types.js';
import type { ChampionEvent, ChampionFigure } from '../ledger/agent-events.js';

/** The original baseline against itself: exactly 1, at full confidence. */
const UNIT: Interval = { estimate: 1, lo: 1, hi: 1, level: 1 };

/** Product of two independent intervals; the level by Bonferroni (the miss probabilities add). */
function multiply(a: Interval, b: Interval): Interval {
  return { estimate: a.estimate * b.estimate, lo: a.lo * b.lo, hi: a.hi * b.hi, level: Math.max(0, a.level + b.level - 1) };
}

/** The named champion's speedup over the original baseline on one target and shape (null: the baseline itself). */
function cumulativeOf(champions: ChampionEvent[], name: string | null | undefined, target: string, shape: string): Interval | undefined {
  if (!name) return UNIT;
  const c = champions.find((x) => x.candidate === name);
  return c?.figures.find((f) => f.target === target && f.shape === shape)?.cumulative;
}

/** A speedup over the reference it was timed against, turned into one over the original baseline. */
export function overBaseline(champions: ChampionEvent[], reference: string | null | undefined, target: string, shape: string, step: Interval): Interval | undefined {
  const base = cumulativeOf(champions, reference, target, shape);
  return base && multiply(base, step);
}

/**
 * The figures a new champion carries: for every trusted timing of its results (each with the champion it was
 * timed against), the step and the cumulative speedup, its time and its share of the speed of light.
 */
export function championFigures(judged: { result: TargetResult; reference: string | null }[], champions: ChampionEvent[]): ChampionFigure[] {
  return judged.flatMap(({ result, reference }) =>
    result.hostFailure
      ? []
      : result.speed
          .filter((s) => !s.suspect && !s.emulated)
          .map((s) => {
            const cumulative = overBaseline(champions, reference, result.target, s.shape, s.speedup);
            const share = lightShare(s);
            return {
              target: result.target,
              shape: s.shape,
              step: s.speedup,
              ...(cumulative ? { cumulative } : {}),
              medianNs: s.candidateMedianNs,
              ...(share !== undefined ? { lightShare: share } : {}),
            };
          }),
  );
}


/** Geometric mean of the cumulative point speedups of a champion (over all its targets and shapes). */
export function meanCumulative(c: ChampionEvent): number | undefined {
  const xs = c.figures.flatMap((f) => (f.cumulative ? [f.cumulative.estimate] : []));
  return xs.length ? Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length) : undefined;
}
