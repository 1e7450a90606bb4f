/**
 * After a failed create attempt: the next placement at once, or the record waits for capacity (the backoff, the
 * queue's probe interval, the retry horizon), with its reason and the reserved-capacity offers.
 */
import { backoffOf, decideWait, type QuotaFacts, type WaitReason } from '../capacity';
import { decideAfterShortage } from '../az-hints';
import { durationSeconds } from '../duration';
import { reservedOffersPatch } from '../offers';
import {
  InsufficientCapacityError,
  ProviderThrottledError,
  ProviderUnavailableError,
  QuotaTooLowError,
  ResourceInUseError,
  ResourceLimitExceededError,
  RetryHorizonExceededError,
} from '../errors';
import { announceWaiting } from '../events';
import { quotaTooLowMessage } from '../capacity';
import { whereOf } from '../placements';
import type { ClusterRecord, RecordedError, RecordPatch } from '../store';
import { clock, iso, queueProbe, type CreateResult, type RetryPolicy, type WorkflowDeps } from './deps';
import { isFirstInAQueue } from './queue';
import { horizonOf, logEntry, logged, placementAt, placementsOfRecord } from './record';

/** A failed create attempt, as the capacity wait takes it. */
export interface FailedAttempt {
  policy: RetryPolicy;
  err: { name: string; message: string };
  reason: WaitReason;
  quota?: QuotaFacts;
  /** Written with the wait. */
  patch?: RecordPatch;
}

/** The record's lastError for a failed create attempt that the request waits on (or gives up after). */
export const waitError = (
  record: ClusterRecord,
  err: { name: string; message: string },
  reason: WaitReason,
  now: Date,
  nextAttemptAt: Date | undefined,
  quota?: QuotaFacts,
): RecordedError => ({
  name: err.name,
  message: err.message,
  at: now.toISOString(),
  attempt: record.attempts,
  operation: 'create',
  reason,
  ...(quota ? { quota } : {}),
  ...(nextAttemptAt ? { nextAttemptAt: nextAttemptAt.toISOString() } : {}),
});

/**
 * A placement refused for capacity (or a quota that other clusters hold): try the next one at once, or, when this was
 * the last, end the round with a backoff and start again from the first.
 */
export const nextPlacement = async (
  deps: WorkflowDeps,
  record: ClusterRecord,
  attempt: FailedAttempt,
): Promise<CreateResult & { action: 'WAIT' }> => {
  const { err, reason, quota } = attempt;
  let patch = attempt.patch ?? {};
  const index = record.placement ?? 0;
  const placements = placementsOfRecord(record);
  // A shortage naming the zones with capacity: kept on the record, and a later placement with a subnet there goes next.
  const zone = await decideAfterShortage(deps.zones, {
    placements,
    index,
    rounds: record.rounds ?? 0,
    excluded: record.excludedPlacements ?? [],
    ...(record.zoneHint ? { previous: record.zoneHint } : {}),
    message: reason === 'capacity' ? err.message : '',
    at: iso(deps),
  });
  if (zone.hint) patch = { ...patch, zoneHint: zone.hint };
  const why = zone.why ? `${err.message} (${zone.why})` : err.message;
  const entry = logEntry(deps, record, index, reason === 'quota' ? 'quota' : 'short', why);
  const next = zone.next;
  if (next === undefined) {
    return waitAfterFailure(deps, record, { ...attempt, patch: { ...patch, placement: 0, attemptLog: logged(record, entry) } });
  }
  const now = clock(deps);
  const lastError = waitError(record, err, reason, now, new Date(now.getTime() + 1000), quota);
  const offers = await offersOf(deps, record, now);
  const waiting = await deps.store.transition(
    record.requestId,
    'WAITING_FOR_CAPACITY',
    { ...patch, ...offers, lastError, placement: next, attemptLog: logged(record, entry) },
    {
      reason: `attempt ${record.attempts} at ${whereOf(placements[index]!)} short (${reason}): trying ${whereOf(placements[next]!)}`,
      expectFrom: [record.status],
    },
  );
  await announceWaiting(deps, record, waiting, now.toISOString());
  return { action: 'WAIT', waitSeconds: 1, reason };
};

/** The quota of this placement is below the request: skip it for good, and fail only when no placement is left. */
export const quotaNeverFits = async (
  deps: WorkflowDeps,
  record: ClusterRecord,
  policy: RetryPolicy,
  err: Error,
  quota: QuotaFacts,
): Promise<CreateResult> => {
  const index = record.placement ?? 0;
  const placement = placementAt(record, index);
  const message = quotaTooLowMessage(quota, placement.provider === 'sagemaker' ? placement.region : undefined);
  const excluded = [...(record.excludedPlacements ?? []), index];
  const left = placementsOfRecord(record).some((_, i) => !excluded.includes(i));
  if (!left)
    throw new QuotaTooLowError(placementsOfRecord(record).length > 1 ? `${message} No other placement is left.` : message, { cause: err });
  return nextPlacement(
    deps,
    { ...record, excludedPlacements: excluded },
    {
      policy,
      err: { name: 'QuotaTooLowError', message: `${message} Skipping ${whereOf(placement)}.` },
      reason: 'quota',
      quota,
      patch: { excludedPlacements: excluded },
    },
  );
};

export const reasonOf = (err: unknown): WaitReason =>
  err instanceof InsufficientCapacityError
    ? 'capacity'
    : err instanceof ResourceLimitExceededError
      ? 'quota'
      : err instanceof ResourceInUseError
        ? 'name-in-use'
        : err instanceof ProviderThrottledError || err instanceof ProviderUnavailableError
          ? 'transient'
          : 'capacity';

/**
 * After a failed attempt (refused at create, or rolled back for capacity): record the wait and answer WAIT, or throw
 * RetryHorizonExceededError when the horizon (or the attempt budget) is spent.
 */
export const waitAfterFailure = async (
  deps: WorkflowDeps,
  record: ClusterRecord,
  attempt: FailedAttempt,
): Promise<CreateResult & { action: 'WAIT' }> => {
  const { policy, err, reason, quota } = attempt;
  const patch = attempt.patch ?? {};
  const now = clock(deps);
  // The backoff grows by round (a round tries every placement once); the attempt budget counts every create.
  const rounds = (record.rounds ?? 0) + 1;
  const decision = decideWait(
    backoffOf(policy),
    { failures: rounds, attempts: record.attempts, now, ...horizonOf(record, now) },
    deps.random,
  );
  if (decision.retry && reason === 'capacity') {
    // First in a queue: this request probes for everyone behind it, at the queue's interval.
    const probe = queueProbe(policy);
    if (probe !== undefined && probe < decision.waitSeconds && (await isFirstInAQueue(deps, record, now))) {
      decision.waitSeconds = Math.max(1, Math.ceil(probe));
      decision.nextAttemptAt = new Date(now.getTime() + decision.waitSeconds * 1000);
    }
  }
  const lastError = waitError(record, err, reason, now, decision.retry ? decision.nextAttemptAt : undefined, quota);
  if (!decision.retry) {
    await deps.store.update(record.requestId, { lastError, ...patch }, [record.status]);
    throw new RetryHorizonExceededError(`Gave up after ${record.attempts} attempt(s): ${decision.why}. Last: ${err.name}: ${err.message}`);
  }
  const what =
    reason === 'quota' && quota ? `quota '${quota.name}' (${quota.usage} of ${quota.limit} used, ${quota.delta} more needed)` : reason;
  const offers = await offersOf(deps, record, now);
  const waiting = await deps.store.transition(
    record.requestId,
    'WAITING_FOR_CAPACITY',
    { lastError, rounds, ...patch, ...offers },
    {
      reason: `attempt ${record.attempts} waits for ${what}: ${err.name}`,
      expectFrom: [record.status],
    },
  );
  await announceWaiting(deps, record, waiting, now.toISOString());
  return { action: 'WAIT', waitSeconds: decision.waitSeconds, reason };
};

/** Reserved-capacity suggestions for a request that has waited long enough (./offers.ts), as a record patch. */
export const offersOf = (deps: WorkflowDeps, record: ClusterRecord, now: Date) =>
  reservedOffersPatch(
    deps.reserved,
    {
      history: record.history,
      placements: placementsOfRecord(record),
      ...(record.reservedOffers ? { last: record.reservedOffers } : {}),
      now,
      horizon: horizonOf(record, now).horizon,
      ...(record.deleteAfter ? { deleteAfterSeconds: durationSeconds(record.deleteAfter) ?? 0 } : {}),
    },
    deps.onWarning,
  );
