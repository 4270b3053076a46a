// The hard stops of a run: dollars, experiments, minutes, and the user's Ctrl-C. One object answers "may we
// start more work?" with the reason when not, so every stop is explained in the report.

export interface Limits {
  budgetUsd: number;
  maxExperiments: number;
  maxMinutes: number;
}

export const DEFAULT_LIMITS: Limits = { budgetUsd: 5, maxExperiments: 20, maxMinutes: 120 };

/** The abort reason of the run's stop signal when the time limit fired it (rather than the user's Ctrl-C). */
export const TIME_LIMIT = Symbol('time limit');

export class Budget {
  spentUsd: number;
  private readonly startedMs: number;
  private stopped: string | null = null;

  constructor(
    readonly limits: Limits,
    spentUsd: number,
    private readonly nowMs: () => number,
    private readonly signal?: AbortSignal,
  ) {
    this.spentUsd = spentUsd;
    this.startedMs = nowMs();
  }

  add(costUsd: number): number {
    this.spentUsd += costUsd;
    return this.spentUsd;
  }

  /** Stops the run for a reason found elsewhere (an API error, no hypotheses); the first reason wins. */
  stop(reason: string): void {
    this.stopped ??= reason;
  }

  /** Why no new request or experiment may start, or null. Checked before each API request. */
  stopReason(): string | null {
    if (this.stopped) return this.stopped;
    // The time limit also fires the signal (to stop work in flight) and says so in its reason: its timer may fire a
    // millisecond before this clock agrees.
    const minutes = (this.nowMs() - this.startedMs) / 60_000;
    if (minutes >= this.limits.maxMinutes || (this.signal?.aborted && this.signal.reason === TIME_LIMIT))
      return (this.stopped = `time limit reached: ${this.limits.maxMinutes} min`);
    if (this.signal?.aborted) return (this.stopped = 'interrupted (Ctrl-C)');
    if (this.spentUsd >= this.limits.budgetUsd)
      return (this.stopped = `budget reached: $${this.spentUsd.toFixed(4)} spent of $${this.limits.budgetUsd.toFixed(2)}`);
    return null;
  }
}
