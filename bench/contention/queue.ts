/**
 * The virtual clock and its event queue. Events run one at a time in the order of their time, then of their
 * scheduling (a tie keeps submit order), and each runs to completion (the in-memory ports answer without real I/O),
 * so a run is a pure function of its seed.
 */
export interface VirtualClock {
  /** Milliseconds since the epoch, virtual. */
  readonly ms: number;
  now(): Date;
}

/** The code under test kept scheduling work at one instant: virtual time stopped. */
export class LivelockError extends Error {
  override name = 'LivelockError';
}

interface Entry {
  at: number;
  seq: number;
  run: () => Promise<void> | void;
}

export class EventQueue implements VirtualClock {
  private heap: Entry[] = [];
  private seq = 0;
  private current: number;
  /** Events run so far. */
  processed = 0;

  constructor(startMs: number) {
    this.current = startMs;
  }

  get ms(): number {
    return this.current;
  }

  now(): Date {
    return new Date(this.current);
  }

  /** Runs `run` at virtual time `at` (ms); a time in the past runs now, after what is already due. */
  at(at: number, run: Entry['run']): void {
    this.push({ at: Math.max(at, this.current), seq: this.seq++, run });
  }

  after(seconds: number, run: Entry['run']): void {
    this.at(this.current + seconds * 1000, run);
  }

  /**
   * Runs every event until the queue is empty or the time passes `untilMs`. Events that keep scheduling each other
   * without the clock moving (a livelock of the code under test) stop the run with an error after `maxPerInstant`.
   */
  async drain(untilMs = Number.POSITIVE_INFINITY, maxPerInstant = 5_000): Promise<void> {
    let sameInstant = 0;
    for (;;) {
      const next = this.pop();
      if (!next) return;
      if (next.at > untilMs) {
        this.push(next);
        return;
      }
      sameInstant = next.at === this.current ? sameInstant + 1 : 0;
      if (sameInstant > maxPerInstant)
        throw new LivelockError(`${maxPerInstant} events ran at ${new Date(this.current).toISOString()} without the clock moving`);
      this.current = next.at;
      this.processed += 1;
      await next.run();
    }
  }

  private less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(entry: Entry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
