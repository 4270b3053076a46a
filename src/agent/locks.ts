// Named locks: one experiment per host at a time, one WASM screen at a time. Locks are taken in name order,
// so two experiments wanting overlapping host sets cannot deadlock.
export class NamedLocks {
  private tails = new Map<string, Promise<void>>();

  async with<T>(names: string[], fn: () => Promise<T>): Promise<T> {
    const releases: (() => void)[] = [];
    for (const name of [...new Set(names)].sort()) {
      const previous = this.tails.get(name) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((r) => (release = r));
      this.tails.set(name, previous.then(() => mine));
      await previous;
      releases.push(release);
    }
    try {
      return await fn();
    } finally {
      for (const release of releases) release();
    }
  }
}
