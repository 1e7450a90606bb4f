/** The offering queues a request waits in, and the memory of short offerings it leaves behind. */
import { horizonEnd } from '../capacity';
import type { Placement } from '../placements';
import { leaveQueuesOf } from '../queue-turn';
import { holds } from '../strategy';
import type { ClusterRecord } from '../store';
import { DEFAULT_SHORT_OFFERING_SECONDS, clock, queueProbe, type RetryPolicy, type WorkflowDeps } from './deps';
import { offeringsOf, placementsOfRecord, requestOf } from './record';

/**
 * Puts the request in the queues of the offerings it found short (its place: its acceptedAt), until its horizon. It
 * leaves them when it ends (recordOutcome), READY or not.
 */
export const queueOn = async (deps: WorkflowDeps, record: ClusterRecord, keys: readonly string[], now: Date): Promise<void> => {
  if (!deps.offerings?.enqueue) return;
  const until = record.retryUntil ?? horizonEnd(requestOf(record).retry, now).toISOString();
  await deps.offerings.enqueue(keys, { requestId: record.requestId, acceptedAt: record.acceptedAt, until });
};

/** Whether the request is the earliest live waiter of any offering it waits on. */
export const isFirstInAQueue = async (deps: WorkflowDeps, record: ClusterRecord, now: Date): Promise<boolean> => {
  const memory = deps.offerings;
  if (!memory?.head) return false;
  for (const key of allOfferings(record)) {
    if ((await memory.head(key, now))?.requestId === record.requestId) return true;
  }
  return false;
};

/**
 * Whether the request may stand in a queue: it met a short offering (a refusal or a roll back for capacity, a skip).
 * A request that never did leaves nothing, and its READY costs no queue reads or writes.
 */
export const mayHaveQueued = (record: ClusterRecord, deps?: Pick<WorkflowDeps, 'provider'>): boolean =>
  (record.rounds ?? 0) > 0 ||
  (record.attemptLog ?? []).some((e) => e.outcome === 'short' || e.outcome === 'skipped') ||
  (deps !== undefined && record.attempts > 0 && !holds(requestOf(record)) && placementsOfRecord(record).some((p) => answersLater(deps, p)));

/** Whether the placement's provider accepts a create before it knows the capacity is there (HyperPod). */
export const answersLater = (deps: Pick<WorkflowDeps, 'provider'>, p: Placement): boolean =>
  deps.provider(p.provider).capacityKnownAtCreate !== true;

/** Every offering of every placement of the request. */
export const allOfferings = (record: ClusterRecord): string[] => [...new Set(placementsOfRecord(record).flatMap(offeringsOf))];

/**
 * The request ended (READY, failed, deleted, cancelled): it leaves every queue, and the request now first in each is
 * woken, so capacity goes to the next in submit order without waiting out its backoff. A woken request that finds the
 * offering still short parks again without a provider call.
 */
export const leaveQueues = async (
  deps: WorkflowDeps,
  record: ClusterRecord,
  keys: readonly string[] = allOfferings(record),
): Promise<void> => {
  if (!mayHaveQueued(record, deps)) return;
  await leaveQueuesOf({ ...deps, now: () => clock(deps) }, record.requestId, keys);
};

/**
 * Until when an offering found short is remembered: as long as the backoff this request would wait after this round
 * (30 s, 60 s, … without jitter), up to ShortOfferingSeconds. A lone request so retries as early as its own backoff
 * says; many requests waiting on one offering share one probe per memory period.
 */
export const shortUntil = (now: Date, policy: RetryPolicy, record: ClusterRecord): Date => {
  const backoff = policy.IntervalSeconds * policy.BackoffRate ** (record.rounds ?? 0);
  const memory = Math.min(backoff, policy.ShortOfferingSeconds ?? DEFAULT_SHORT_OFFERING_SECONDS);
  return new Date(now.getTime() + Math.min(memory, queueProbe(policy) ?? memory) * 1000);
};
