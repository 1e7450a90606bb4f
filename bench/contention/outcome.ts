/** What one strategy did in one scenario, and the figures drawn from it. */
import type { ProviderOp } from './provider';

export interface RequestOutcome {
  requestId: string;
  /** Submit order. */
  index: number;
  submittedMs: number;
  /** When a create got capacity. */
  servedMs?: number;
  /** When the capacity it took had come free. */
  freedMs?: number;
  /** When the create that got the capacity was sent (the refuse kind: servedMs; HyperPod: a launch delay before). */
  createdMs?: number;
  /** When the record went READY (this project's policies only). */
  readyMs?: number;
  /** When it stopped waiting: served, or given up. */
  endMs: number;
  /** Served within its horizon. */
  inHorizon: boolean;
  /** Still waiting when the run ended, after its horizon: it never gave up. */
  pastHorizon?: boolean;
  /** Create attempts the request made (this project: the record's `attempts`). */
  attempts?: number;
  /** When its horizon ended (this project: the record's `retryUntil`, set at its first create attempt). */
  horizonEndMs?: number;
}

export interface WorkflowCosts {
  transitions: number;
  invocations: number;
  gbSeconds: number;
  readRequests: number;
  writeRequests: number;
  rru: number;
  wru: number;
  events: number;
  usd: number;
  /** Times each state of the ASL was entered (the paths taken). */
  states: Record<string, number>;
}

export interface StrategyRun {
  strategy: string;
  label: string;
  outcomes: RequestOutcome[];
  calls: Record<ProviderOp, number>;
  /** Requests that held two live clusters at once. */
  doubles: number;
  /** Requests with more than one cluster created (over their whole life). */
  multiClusters: number;
  /** Clusters that rolled back for capacity (the HyperPod kind: each an accepted create that found no capacity). */
  rolledBack?: number;
  /** Of those, the ones created while the offering's window let several waiters try together. */
  windowRolledBack?: number;
  /** The widest window an offering's queue reached. */
  widestWindow?: number;
  /** The run stopped because the code under test kept working at one instant (virtual time stood still). */
  livelock?: { atMs: number; message: string; requestIds: string[] };
  /** This project's policies only: the workflow's own cost, totals over the scenario. */
  workflow?: WorkflowCosts;
}

/** Time to capacity of a served request, seconds: from when capacity it took was free (or it was submitted) to the create. */
export const ttcSeconds = (o: RequestOutcome): number | undefined =>
  o.servedMs === undefined ? undefined : (o.servedMs - Math.max(o.freedMs ?? o.submittedMs, o.submittedMs)) / 1000;

/**
 * Served requests that overtook an earlier request of the same offering still waiting at that moment (every request of
 * a scenario asks for the same placements, so all are of the same offering).
 */
export const orderViolations = (outcomes: RequestOutcome[]): number => {
  let violations = 0;
  for (const r of outcomes) {
    if (r.servedMs === undefined) continue;
    const at = r.servedMs;
    if (outcomes.some((o) => o.index < r.index && (o.servedMs === undefined || o.servedMs > at) && o.endMs > at && o.submittedMs <= at))
      violations += 1;
  }
  return violations;
};
