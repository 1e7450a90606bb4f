/**
 * The create step of the provision workflow. No SDK here: the store, the providers and the teardown scheduler come in
 * as ports. Each function is safe to run twice for the same input (Step Functions retries a task whose Lambda timed
 * out or crashed), and every error it throws is one of ./errors.ts, so Retry / Catch can match it by name.
 */
import { horizonEnd, parseQuotaMessage, quotaCanNeverFit } from '../capacity';
import { isDetourTarget, remainingAfter } from '../az-hints';
import {
  InsufficientCapacityError,
  RecordConflictError,
  ResourceInUseError,
  ResourceLimitExceededError,
  describeError,
  isRetryable,
} from '../errors';
import type { ClusterProvider, CreatedCluster } from '../provider';
import { mayTry, type OfferingClaim } from '../offerings';
import { clusterNameOfPlacement, whereOf } from '../placements';
import { clusterToCreate, holds } from '../strategy';
import type { AttemptLogEntry, ClusterRecord } from '../store';
import { wakeRequest } from '../wake';
import { nextPlacement, quotaNeverFits, reasonOf, waitAfterFailure } from './capacity-wait';
import {
  CANCELLED_STATUSES,
  CREATE_STATUSES,
  DEFAULT_PROBE_LEASE_SECONDS,
  clock,
  iso,
  type CreateResult,
  type RetryPolicy,
  type WorkflowDeps,
} from './deps';
import { cleanUp, discardCancelled, findOwn } from './discard';
import { allOfferings, answersLater, leaveQueues, queueOn, shortUntil } from './queue';
import {
  isDiscarded,
  landedAt,
  locationOf,
  locationOfPlacement,
  logEntry,
  logged,
  offeringsOf,
  pendingCleanup,
  placementAt,
  placementsOfRecord,
  requestOf,
  sameLocation,
} from './record';

/** While a discarded cluster is being deleted, its deletion is checked this often before the next create. */
export const CLEANUP_POLL_SECONDS = 20;

/**
 * One step of the create loop of the provision workflow. Answers CREATED (the cluster exists at the provider, or was
 * adopted), WAIT (the record says why and until when; the state machine waits `waitSeconds` and calls again) or
 * CANCELLED (a DELETE cancelled the request). Throws only terminal errors (QuotaTooLowError, RetryHorizonExceededError,
 * the provider's terminal ones) and the store's.
 *
 * Before calling the provider it records the attempt (and, once, createRequestedAt and the horizon) with a write that
 * holds only while the request may still create: after a cancel no create is sent. If the Lambda dies after the
 * provider created the cluster, the next attempt answers ResourceInUse, finds the cluster and adopts it only on proof:
 * it is the one recorded, or the provider says this deployment's request created it (HyperPod's tags, TIR's owner
 * marker: ExistingCluster.ownerRequestId). A cluster of our name without that proof is a name clash (the request waits
 * with reason name-in-use). A cluster this request discarded is never adopted, and must be gone before the next create
 * (the name is reused).
 */
export const createCluster = async (
  deps: WorkflowDeps,
  input: { requestId: string; capacityRetry: RetryPolicy },
): Promise<CreateResult> => {
  try {
    return await createOnce(deps, input);
  } catch (err) {
    if (!(err instanceof RecordConflictError)) throw err;
    return afterConcurrentRun(deps, input.requestId, err);
  }
};

/**
 * The record moved under this attempt. A cancel is answered CANCELLED. Otherwise another run of this same task moved
 * it: Step Functions retried a task that timed out while its first run was still writing (a Lambda that outlived its
 * state's timeout, a write that landed after its answer was lost). That run's decision stands: CREATED for the
 * cluster it recorded, or WAIT until the attempt it scheduled (at least a second, then this task decides afresh).
 */
const afterConcurrentRun = async (deps: WorkflowDeps, requestId: string, conflict: RecordConflictError): Promise<CreateResult> => {
  const record = await deps.store.require(requestId);
  if (CANCELLED_STATUSES.includes(record.status)) return { action: 'CANCELLED' };
  if (record.providerId && record.status === 'CREATING' && !isDiscarded(record, record.providerId))
    return { action: 'CREATED', providerId: record.providerId, clusterName: clusterNameOfPlacement(placementAt(record)), adopted: false };
  if (!CREATE_STATUSES.includes(record.status)) throw conflict;
  const next = Date.parse(record.lastError?.nextAttemptAt ?? '');
  const waitSeconds = Number.isFinite(next) ? Math.max(1, Math.ceil((next - clock(deps).getTime()) / 1000)) : 1;
  return { action: 'WAIT', waitSeconds, reason: record.lastError?.reason ?? 'transient' };
};

const createOnce = async (deps: WorkflowDeps, input: { requestId: string; capacityRetry: RetryPolicy }): Promise<CreateResult> => {
  let record = await deps.store.require(input.requestId);
  if (CANCELLED_STATUSES.includes(record.status)) return { action: 'CANCELLED' };
  if (record.providerId && record.status === 'CREATING' && !isDiscarded(record, record.providerId)) {
    // A retry of this task after the create was already recorded: nothing to do.
    return { action: 'CREATED', providerId: record.providerId, clusterName: clusterNameOfPlacement(placementAt(record)), adopted: false };
  }
  if (!CREATE_STATUSES.includes(record.status)) {
    throw new RecordConflictError(`Cannot create the cluster of ${record.requestId}: it is ${record.status}`);
  }
  // A discarded cluster at the place of the next create must be gone first: its name is reused there.
  const pending = pendingCleanup(record);
  if (pending && sameLocation(locationOfPlacement(placementAt(record, pending.placement ?? 0)), locationOf(record))) {
    if (!(await cleanUp(deps, record, pending))) {
      // It looked: a wake that came before is spent (else the park would return at once, again and again).
      if (record.wakeAt !== undefined) await deps.store.update(record.requestId, { checkedAt: iso(deps) }, CREATE_STATUSES);
      return { action: 'WAIT', waitSeconds: CLEANUP_POLL_SECONDS, reason: 'cleanup' };
    }
    record = await deps.store.update(
      record.requestId,
      { discardedClusters: (record.discardedClusters ?? []).map((d) => (d === pending ? { ...d, goneAt: iso(deps) } : d)) },
      CREATE_STATUSES,
    );
  }

  const now = clock(deps);
  if (!record.retryUntil) {
    // The horizon starts with the first round, whether it calls a provider or skips every placement the memory
    // knows short: a request that never gets to call must still end at its horizon.
    record = await deps.store.update(
      record.requestId,
      {
        createRequestedAt: record.createRequestedAt ?? now.toISOString(),
        retryUntil: horizonEnd(requestOf(record).retry, now).toISOString(),
      },
      CREATE_STATUSES,
    );
  }
  const placements = placementsOfRecord(record);
  // Skip, without a provider call, every placement whose offering is remembered short by any request (or probed by
  // another one), and every placement whose quota can never fit.
  let index = record.placement ?? 0;
  const skips: AttemptLogEntry[] = [];
  const rounds = record.rounds ?? 0;
  for (; index < placements.length; index = remainingAfter(record.zoneHint, rounds, index, placements.length, [])[0] ?? placements.length) {
    if ((record.excludedPlacements ?? []).includes(index)) continue;
    // A held cluster waits at HyperPod (no memory, no queue); a detour to the zone EC2 named is tried whatever the memory says.
    if (!deps.offerings || holds(requestOf(record)) || isDetourTarget(record.zoneHint, rounds, index)) break;
    // A provider that answers the capacity question after the create (HyperPod): the first attempt queues first, so
    // requests that arrive together try in the offering's window, not all at once.
    if (record.attempts === 0 && answersLater(deps, placements[index]!)) await queueOn(deps, record, offeringsOf(placements[index]!), now);
    const claimNow = () =>
      deps.offerings!.claim(
        offeringsOf(placements[index]!),
        record.requestId,
        now,
        input.capacityRetry.ProbeLeaseSeconds ?? DEFAULT_PROBE_LEASE_SECONDS,
        record.acceptedAt,
      );
    let claims = await claimNow();
    // A head that no longer waits (its request ended, or was deleted, and a crash came before it left the queue) would
    // hold everyone behind it until its horizon: it is taken out, and the claim asked again.
    if (!mayTry(claims) && (await dropGoneHeads(deps, claims))) claims = await claimNow();
    if (mayTry(claims)) break;
    skips.push(logEntry(deps, record, index, 'skipped', describeClaims(claims)));
    await queueOn(deps, record, offeringsOf(placements[index]!), now);
    // Queued behind an earlier request on an offering nobody remembers short: it is that request's turn now.
    for (const claim of claims.values()) {
      if (claim.state === 'queued' && claim.head && deps.waker) {
        await wakeRequest(
          { store: deps.store, waker: deps.waker, now: () => clock(deps) },
          claim.head,
          'its turn on a free offering',
          'retry',
        );
      }
    }
  }
  if (index >= placements.length) {
    // Every placement is short now: the round is over; back off and start again from the first.
    return waitAfterFailure(deps, record, {
      policy: input.capacityRetry,
      err: { name: 'InsufficientCapacityError', message: roundMessage(skips) },
      reason: 'capacity',
      patch: {
        placement: 0,
        attemptLog: logged(record, ...skips),
        // A round that skipped every placement looked too: a wake that came before it is spent.
        checkedAt: now.toISOString(),
      },
    });
  }

  const attempt = record.attempts + 1;
  const started = await deps.store.update(
    record.requestId,
    {
      attempts: attempt,
      maxAttempts: input.capacityRetry.MaxAttempts,
      placement: index,
      checkedAt: now.toISOString(),
      ...(skips.length > 0 ? { attemptLog: logged(record, ...skips) } : {}),
      ...(record.createRequestedAt ? {} : { createRequestedAt: now.toISOString() }),
      ...(record.retryUntil ? {} : { retryUntil: horizonEnd(requestOf(record).retry, now).toISOString() }),
    },
    CREATE_STATUSES,
  );
  const placement = placementAt(started);
  const provider = deps.provider(placement.provider);
  let created: CreatedCluster;
  try {
    created = await provider.create({
      location: locationOfPlacement(placement),
      requestId: record.requestId,
      cluster: clusterToCreate(requestOf(started), placement),
    });
  } catch (err) {
    if (err instanceof ResourceInUseError) {
      const adopted = await adoptIfOurs(deps, provider, started);
      if (adopted) return adopted;
      // Not provably this request's (a lost create answer whose cluster the provider hands no mark back for, or
      // someone else's): neither adopted nor deleted; the record says so while the request waits.
      const { name, message } = describeError(err);
      const unproven = `${message} (a cluster of this name exists that this request cannot prove it created: it is neither adopted nor deleted; delete it at the provider if it is this request's, or name another cluster)`;
      return waitAfterFailure(deps, started, { policy: input.capacityRetry, err: { name, message: unproven }, reason: 'name-in-use' });
    }
    if (err instanceof ResourceLimitExceededError) {
      const quota = parseQuotaMessage(err.message);
      if (quota && quotaCanNeverFit(quota)) return quotaNeverFits(deps, started, input.capacityRetry, err, quota);
      return nextPlacement(deps, started, { policy: input.capacityRetry, err, reason: 'quota', quota });
    }
    if (err instanceof InsufficientCapacityError) {
      await deps.offerings?.remember(offeringsOf(placement), shortUntil(now, input.capacityRetry, started), err.message);
      await queueOn(deps, started, offeringsOf(placement), now);
      return nextPlacement(deps, started, { policy: input.capacityRetry, err, reason: 'capacity' });
    }
    if (isRetryable(err))
      return waitAfterFailure(deps, started, { policy: input.capacityRetry, err: describeError(err), reason: reasonOf(err) });
    throw err;
  }
  try {
    await deps.store.transition(
      record.requestId,
      'CREATING',
      {
        providerId: created.providerId,
        createdAt: iso(deps),
        landed: landedAt(placement),
        attemptLog: logged(started, logEntry(deps, started, index, 'created', `created at the provider (attempt ${attempt})`)),
      },
      {
        reason: `created at the provider (attempt ${attempt}${placements.length > 1 ? `, ${whereOf(placement)}` : ''})`,
        expectFrom: CREATE_STATUSES,
      },
    );
  } catch (err) {
    if (err instanceof RecordConflictError) return discardCancelled(deps, record.requestId, created.providerId);
    throw err;
  }
  // Created here: it no longer waits on the other placements' offerings. On this one's it keeps its place (and the
  // probe lease) until HyperPod says whether the capacity was there (READY, or a roll back); a provider that refuses a
  // create without capacity has said it already: the offering served, and the next in its queue may try at once.
  const landedOn = new Set(offeringsOf(placement));
  const known = provider.capacityKnownAtCreate === true;
  // (No window for it: the next in the queue is woken at once and answered at once.)
  if (known) await deps.offerings?.forget([...landedOn]);
  await leaveQueues(
    deps,
    started,
    allOfferings(started).filter((key) => known || !landedOn.has(key)),
  );
  return { action: 'CREATED', ...created, adopted: false };
};

/** Statuses in which a request no longer waits on any offering. */
const DONE_WAITING: readonly ClusterRecord['status'][] = ['READY', 'FAILED', 'DELETING', 'DELETED'];

/** Takes out of their queues the heads of `claims` whose requests no longer wait; whether any was. */
const dropGoneHeads = async (deps: WorkflowDeps, claims: Map<string, OfferingClaim>): Promise<boolean> => {
  let dropped = false;
  for (const [key, claim] of claims) {
    if (claim.state !== 'queued' || !claim.head || !deps.offerings?.dequeue) continue;
    const head = await deps.store.get(claim.head);
    if (head && !DONE_WAITING.includes(head.status)) continue;
    await deps.offerings.dequeue([key], claim.head);
    deps.onWarning?.('Took a request that no longer waits out of an offering queue', {
      offering: key,
      head: claim.head,
      status: head?.status,
    });
    dropped = true;
  }
  return dropped;
};

const describeClaims = (claims: Map<string, OfferingClaim>): string =>
  [...claims.entries()]
    .filter(([, c]) => c.state === 'short' || c.state === 'probing' || c.state === 'queued')
    .map(([key, c]) =>
      c.state === 'short'
        ? `${key} remembered short until ${c.until}`
        : c.state === 'queued'
          ? `${key}: an earlier request (${c.head}) waits for it first`
          : `${key} is being probed by another request`,
    )
    .join('; ');

const roundMessage = (skips: AttemptLogEntry[]): string =>
  skips.length > 0 ? `Every placement is short: ${skips.map((s) => `${s.where}: ${s.reason}`).join(' | ')}` : 'Every placement is short';

const adoptIfOurs = async (deps: WorkflowDeps, provider: ClusterProvider, record: ClusterRecord): Promise<CreateResult | undefined> => {
  const found = await findOwn(provider, record);
  if (!found) return undefined;
  try {
    await deps.store.transition(
      record.requestId,
      'CREATING',
      { providerId: found.providerId, createdAt: found.createdAt ?? iso(deps) },
      {
        reason: 'adopted the cluster this request had already created',
        expectFrom: CREATE_STATUSES,
      },
    );
  } catch (err) {
    // A DELETE cancelled the request while the cluster was being adopted: it is deleted like any late create.
    if (err instanceof RecordConflictError) return discardCancelled(deps, record.requestId, found.providerId);
    throw err;
  }
  return { action: 'CREATED', providerId: found.providerId, clusterName: found.clusterName, adopted: true };
};
