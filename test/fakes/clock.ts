/** A clock a test moves by hand: `now` for WorkflowDeps / SubmitDeps, `advance` between steps. */
export interface TestClock {
  now: () => Date;
  /** Moves the clock forward by `seconds`. */
  advance(seconds: number): void;
  /** Sets the clock to an ISO time. */
  set(iso: string): void;
  iso(): string;
}

export const testClock = (start = '2026-03-02T09:00:00.000Z'): TestClock => {
  let at = Date.parse(start);
  if (Number.isNaN(at)) throw new RangeError(`not a time: ${start}`);
  return {
    now: () => new Date(at),
    advance(seconds) {
      at += seconds * 1000;
    },
    set(iso) {
      at = Date.parse(iso);
    },
    iso: () => new Date(at).toISOString(),
  };
};
