/**
 * What the state machines' Lambda tasks do. No SDK here: the store, the providers and the teardown scheduler come in
 * as ports. Each function is safe to run twice for the same input (Step Functions retries a task whose Lambda timed
 * out or crashed), and every error it throws is one of ./errors.ts, so Retry / Catch can match it by name.
 */
import {
  backoffOf,
  decideWait,
  horizonEnd,
  isCapacityShortage,
  isMinimumNotMet,
  parseQuotaMessage,
  quotaCanNeverFit,
  quotaTooLowMessage,
  type QuotaFacts,
  type WaitReason,
} from './capacity';
import { decideAfterShortage, isDetourTarget, remainingAfter, type ZoneLookup } from './az-hints';
import { durationSeconds } from './duration';
import { reservedOffersPatch, type ReservedOfferDeps } from './offers';
import {
  ClusterFailedError,
  ClusterNotFoundError,
  InsufficientCapacityError,
  ProviderThrottledError,
  ProviderUnavailableError,
  ProvisioningTimeoutError,
  QuotaTooLowError,
  RecordConflictError,
  RequestCancelledError,
  ResourceInUseError,
  ResourceLimitExceededError,
  RetryHorizonExceededError,
  describeError,
  isRetryable,
} from './errors';
import {
  DETAIL_TYPES,
  announceWaiting,
  clusterEventDetail,
  eventEntry,
  type DetailType,
  type EventEntry,
  type EventPublisher,
} from './events';
import type { ClusterDescription, ClusterLocation, ClusterProvider, ClusterRef, CreatedCluster, ExistingCluster } from './provider';
import type { ProviderName, ProvisionRequest } from './request';
import { mayTry, type OfferingClaim, type OfferingMemory } from './offerings';
import { clusterNameOfPlacement, instanceTypesOf, offeringKey, shortOfferings, whereOf, type Placement } from './placements';
import { capacityAnswered, gotCapacity, instancesLaunched, leaveQueuesOf, turnPollWait, windowMax } from './queue-turn';
import { clusterToCreate, holds } from './strategy';
import type { AttemptLogEntry, ClusterRecord, ClusterStatus, ClusterStore, DiscardedCluster, RecordedError, RecordPatch } from './store';
import { wakeRequest, type TaskWaker } from './wake';

export interface TeardownScheduler {
  /** Arranges for the delete workflow of `requestId` to start at `at` (idempotent per requestId). */
  scheduleDeletion(requestId: string, at: Date): Promise<void>;
}

export interface WorkflowDeps {
  store: ClusterStore;
  provider(name: ProviderName): ClusterProvider;
  eventBusName: string;
  /** Puts the completion events on the bus (recordOutcome announces what it records). */
  events?: EventPublisher;
  teardown?: TeardownScheduler;
  now?: () => Date;
  /** Source of the backoff's jitter (tests pass a fixed one). */
  random?: () => number;
  /** The shared memory of short offerings; without it every placement is always tried. */
  offerings?: OfferingMemory;
  /** Wakes a parked workflow (the next request in an offering's queue); without it each waits out its backoff. */
  waker?: TaskWaker;
  /**
   * The regions whose HyperPod events reach the deployment's default bus (its own, and those wired with a forwarding
   * rule: docs/deploy.md); a cluster elsewhere is polled every HYPERPOD_WAITS.unwiredRegionSeconds. Without it, every
   * region counts as wired.
   */
  eventRegions?: readonly string[];
  /** Training-plan offerings suggested to a request that waits long for capacity (./offers.ts); without it none. */
  reserved?: ReservedOfferDeps;
  /** Subnet -> Availability Zone (EC2), for the zones a shortage names (./az-hints.ts); without it the order stands. */
  zones?: ZoneLookup;
  /** Something went wrong that does not change the outcome (logged at ERROR by the handlers). */
  onWarning?: (message: string, details: Record<string, unknown>) => void;
}

/**
 * The capacity backoff as the state machine hands it to the tasks (statemachines/definitions.js applies the
 * deployment's settings to it): full jitter from IntervalSeconds, times BackoffRate per failure, capped at
 * MaxDelaySeconds, at most MaxAttempts create attempts; the request's retry horizon ends it sooner.
 */
export interface RetryPolicy {
  IntervalSeconds: number;
  BackoffRate: number;
  MaxDelaySeconds: number;
  MaxAttempts: number;
  /** How long an offering found short is remembered as short for every request (the shared memory). Default 600. */
  ShortOfferingSeconds?: number;
  /** How long one request may hold the probe of an offering whose memory ran out. Default 1800. */
  ProbeLeaseSeconds?: number;
  /**
   * With the waiters queue: the request first in an offering's queue probes it this often (whatever its own backoff),
   * and the memory of a shortage lasts no longer. One probe per offering per interval, however many wait behind.
   */
  QueueProbeSeconds?: number;
  /** With the waiters queue: how many waiters may try an offering together at most after its creates succeed. Default 16. */
  QueueWindowMax?: number;
}

const DEFAULT_SHORT_OFFERING_SECONDS = 600;
const DEFAULT_PROBE_LEASE_SECONDS = 1800;

/** The queue's probe interval, when the policy sets one. */
const queueProbe = (policy: RetryPolicy): number | undefined =>
  policy.QueueProbeSeconds !== undefined && policy.QueueProbeSeconds > 0 ? policy.QueueProbeSeconds : undefined;

const clock = (deps: Pick<WorkflowDeps, 'now'>): Date => (deps.now ?? (() => new Date()))();
const iso = (deps: Pick<WorkflowDeps, 'now'>): string => clock(deps).toISOString();

/**
 * Every placement of the record (the request's own, then its alternatives); a record without alternatives has one,
 * made from its own fields.
 */
export const placementsOfRecord = (record: ClusterRecord): Placement[] => {
  if (record.placements && record.placements.length > 0) return record.placements;
  const cluster = requestOf(record).cluster;
  return [
    record.provider === 'sagemaker'
      ? { provider: 'sagemaker', region: record.region ?? '', cluster: cluster as Placement['cluster'] & { ClusterName: string } }
      : {
          provider: 'tir',
          projectId: record.projectId ?? 0,
          location: record.location ?? '',
          ...(record.activeIam !== undefined ? { activeIam: record.activeIam } : {}),
          cluster: cluster as Extract<Placement, { provider: 'tir' }>['cluster'],
        },
  ] as Placement[];
};

/** The placement the record is at now (where its cluster is, or is being created). */
const placementAt = (record: ClusterRecord, index = record.placement ?? 0): Placement => {
  const all = placementsOfRecord(record);
  return all[Math.min(index, all.length - 1)]!;
};

const locationOfPlacement = (p: Placement): ClusterLocation =>
  p.provider === 'sagemaker'
    ? { provider: 'sagemaker', region: p.region }
    : { provider: 'tir', projectId: p.projectId, location: p.location, ...(p.activeIam !== undefined ? { activeIam: p.activeIam } : {}) };

export const locationOf = (record: ClusterRecord): ClusterLocation => locationOfPlacement(placementAt(record));

/** The provider the record's cluster is at now. */
const providerOf = (record: ClusterRecord): ProviderName => placementAt(record).provider;

const refOf = (record: ClusterRecord, providerId = record.providerId, index = record.placement ?? 0): ClusterRef => ({
  location: locationOfPlacement(placementAt(record, index)),
  clusterName: clusterNameOfPlacement(placementAt(record, index)),
  ...(providerId ? { providerId } : {}),
});

/** Offering keys of a placement: every instance type it asks for. */
const offeringsOf = (p: Placement): string[] => instanceTypesOf(p).map((t) => offeringKey(p, t));

const ATTEMPT_LOG_LIMIT = 50;

/** The attempt log with `entries` added (the newest ATTEMPT_LOG_LIMIT kept). */
const logged = (record: ClusterRecord, ...entries: AttemptLogEntry[]): AttemptLogEntry[] =>
  [...(record.attemptLog ?? []), ...entries].slice(-ATTEMPT_LOG_LIMIT);

const logEntry = (
  deps: WorkflowDeps,
  record: ClusterRecord,
  index: number,
  outcome: AttemptLogEntry['outcome'],
  reason: string,
): AttemptLogEntry => ({
  at: iso(deps),
  placement: index,
  where: whereOf(placementAt(record, index)),
  outcome,
  reason,
});

const CREATE_STATUSES: readonly ClusterStatus[] = ['ACCEPTED', 'CREATING', 'WAITING_FOR_CAPACITY'];
/** A record in these statuses was cancelled (or deleted) under a running provision workflow: it stops. */
const CANCELLED_STATUSES: readonly ClusterStatus[] = ['DELETING', 'DELETED'];

/** While a discarded cluster is being deleted, its deletion is checked this often before the next create. */
export const CLEANUP_POLL_SECONDS = 20;

export type CreateResult =
  | { action: 'CREATED'; providerId: string; clusterName: string; adopted: boolean }
  | { action: 'WAIT'; waitSeconds: number; reason: WaitReason | 'cleanup' }
  | { action: 'CANCELLED' };

const requestOf = (record: ClusterRecord): ProvisionRequest & { retry?: { for?: string; until?: string } } =>
  record.request as unknown as ProvisionRequest & { retry?: { for?: string; until?: string } };

const isDiscarded = (record: ClusterRecord, providerId: string | undefined): boolean =>
  providerId !== undefined && (record.discardedClusters ?? []).some((d) => d.providerId === providerId);

/** The record's own cluster as it was when this request gave it up (a FAILED description), if it did. */
const discardedFailure = (record: ClusterRecord): ClusterDescription | undefined => {
  const entry = (record.discardedClusters ?? []).find((d) => d.providerId === record.providerId);
  if (!entry || record.providerId === undefined) return undefined;
  const message = entry.message ?? (entry.reason === 'capacity' ? 'Insufficient capacity' : undefined);
  return {
    providerId: record.providerId,
    clusterName: record.clusterName,
    state: 'FAILED',
    providerStatus: record.providerStatus ?? 'Failed',
    ...(message ? { message } : {}),
    nodes: { current: 0, target: record.nodes?.target ?? 0 },
  };
};

/** The discarded cluster still to be deleted before a new create, if any. */
const pendingCleanup = (record: ClusterRecord): DiscardedCluster | undefined =>
  (record.discardedClusters ?? []).find((d) => d.goneAt === undefined);

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
    const claims = await deps.offerings.claim(
      offeringsOf(placements[index]!),
      record.requestId,
      now,
      input.capacityRetry.ProbeLeaseSeconds ?? DEFAULT_PROBE_LEASE_SECONDS,
      record.acceptedAt,
    );
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
    return waitAfterFailure(
      deps,
      record,
      input.capacityRetry,
      { name: 'InsufficientCapacityError', message: roundMessage(skips) },
      'capacity',
      undefined,
      {
        placement: 0,
        attemptLog: logged(record, ...skips),
        // A round that skipped every placement looked too: a wake that came before it is spent.
        checkedAt: now.toISOString(),
      },
    );
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
      return waitAfterFailure(deps, started, input.capacityRetry, { name, message: unproven }, 'name-in-use');
    }
    if (err instanceof ResourceLimitExceededError) {
      const quota = parseQuotaMessage(err.message);
      if (quota && quotaCanNeverFit(quota)) return quotaNeverFits(deps, started, input.capacityRetry, err, quota);
      return nextPlacement(deps, started, input.capacityRetry, err, 'quota', quota);
    }
    if (err instanceof InsufficientCapacityError) {
      await deps.offerings?.remember(offeringsOf(placement), shortUntil(now, input.capacityRetry, started), err.message);
      await queueOn(deps, started, offeringsOf(placement), now);
      return nextPlacement(deps, started, input.capacityRetry, err, 'capacity');
    }
    if (isRetryable(err)) return waitAfterFailure(deps, started, input.capacityRetry, describeError(err), reasonOf(err));
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

/**
 * Puts the request in the queues of the offerings it found short (its place: its acceptedAt), until its horizon. It
 * leaves them when it ends (recordOutcome), READY or not.
 */
const queueOn = async (deps: WorkflowDeps, record: ClusterRecord, keys: readonly string[], now: Date): Promise<void> => {
  if (!deps.offerings?.enqueue) return;
  const until = record.retryUntil ?? horizonEnd(requestOf(record).retry, now).toISOString();
  await deps.offerings.enqueue(keys, { requestId: record.requestId, acceptedAt: record.acceptedAt, until });
};

/** Whether the request is the earliest live waiter of any offering it waits on. */
const isFirstInAQueue = async (deps: WorkflowDeps, record: ClusterRecord, now: Date): Promise<boolean> => {
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
const mayHaveQueued = (record: ClusterRecord, deps?: Pick<WorkflowDeps, 'provider'>): boolean =>
  (record.rounds ?? 0) > 0 ||
  (record.attemptLog ?? []).some((e) => e.outcome === 'short' || e.outcome === 'skipped') ||
  (deps !== undefined && record.attempts > 0 && !holds(requestOf(record)) && placementsOfRecord(record).some((p) => answersLater(deps, p)));

/** Whether the placement's provider accepts a create before it knows the capacity is there (HyperPod). */
const answersLater = (deps: Pick<WorkflowDeps, 'provider'>, p: Placement): boolean =>
  deps.provider(p.provider).capacityKnownAtCreate !== true;

/** Every offering of every placement of the request. */
const allOfferings = (record: ClusterRecord): string[] => [...new Set(placementsOfRecord(record).flatMap(offeringsOf))];

/**
 * The request ended (READY, failed, deleted, cancelled): it leaves every queue, and the request now first in each is
 * woken, so capacity goes to the next in submit order without waiting out its backoff. A woken request that finds the
 * offering still short parks again without a provider call.
 */
const leaveQueues = async (deps: WorkflowDeps, record: ClusterRecord, keys: readonly string[] = allOfferings(record)): Promise<void> => {
  if (!mayHaveQueued(record, deps)) return;
  await leaveQueuesOf({ ...deps, now: () => clock(deps) }, record.requestId, keys);
};

const sameLocation = (a: ClusterLocation, b: ClusterLocation): boolean =>
  a.provider === 'sagemaker' && b.provider === 'sagemaker'
    ? a.region === b.region
    : a.provider === 'tir' && b.provider === 'tir' && a.projectId === b.projectId && a.location === b.location;

/**
 * Until when an offering found short is remembered: as long as the backoff this request would wait after this round
 * (30 s, 60 s, … without jitter), up to ShortOfferingSeconds. A lone request so retries as early as its own backoff
 * says; many requests waiting on one offering share one probe per memory period.
 */
const shortUntil = (now: Date, policy: RetryPolicy, record: ClusterRecord): Date => {
  const backoff = policy.IntervalSeconds * policy.BackoffRate ** (record.rounds ?? 0);
  const memory = Math.min(backoff, policy.ShortOfferingSeconds ?? DEFAULT_SHORT_OFFERING_SECONDS);
  return new Date(now.getTime() + Math.min(memory, queueProbe(policy) ?? memory) * 1000);
};

const landedAt = (p: Placement): ClusterRecord['landed'] =>
  p.provider === 'sagemaker'
    ? { provider: 'sagemaker', region: p.region }
    : { provider: 'tir', projectId: p.projectId, location: p.location };

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

/** The record's lastError for a failed create attempt that the request waits on (or gives up after). */
const waitError = (
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
const nextPlacement = async (
  deps: WorkflowDeps,
  record: ClusterRecord,
  policy: RetryPolicy,
  err: { name: string; message: string },
  reason: WaitReason,
  quota?: QuotaFacts,
  patch: RecordPatch = {},
): Promise<CreateResult & { action: 'WAIT' }> => {
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
    return waitAfterFailure(deps, record, policy, err, reason, quota, { ...patch, placement: 0, attemptLog: logged(record, entry) });
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
const quotaNeverFits = async (
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
    policy,
    { name: 'QuotaTooLowError', message: `${message} Skipping ${whereOf(placement)}.` },
    'quota',
    quota,
    {
      excludedPlacements: excluded,
    },
  );
};

const reasonOf = (err: unknown): WaitReason =>
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
 * A create answered after a DELETE cancelled the request (the create was already on the wire): the cluster is
 * deleted at once and recorded, so the delete workflow waits for it too.
 */
const discardCancelled = async (deps: WorkflowDeps, requestId: string, providerId: string): Promise<CreateResult> => {
  const record = await deps.store.require(requestId);
  if (!CANCELLED_STATUSES.includes(record.status))
    throw new RecordConflictError(`The record of ${requestId} changed under the create (${record.status})`);
  try {
    await deps.provider(providerOf(record)).delete(refOf(record, providerId));
  } catch (err) {
    if (!(err instanceof ClusterNotFoundError))
      deps.onWarning?.('Could not delete a cluster created after its request was cancelled', { providerId, error: describeError(err) });
  }
  if (record.status === 'DELETING') await deps.store.update(requestId, { providerId }, ['DELETING']).catch(() => undefined);
  return { action: 'CANCELLED' };
};

/** Whether a discarded cluster is gone; starts (or repeats) its deletion while it is not. */
const cleanUp = async (deps: WorkflowDeps, record: ClusterRecord, pending: DiscardedCluster): Promise<boolean> => {
  const provider = deps.provider(placementAt(record, pending.placement ?? 0).provider);
  const ref = refOf(record, pending.providerId, pending.placement ?? 0);
  let description: ClusterDescription;
  try {
    description = await provider.describe(ref);
  } catch (err) {
    if (err instanceof ClusterNotFoundError) return true;
    throw err;
  }
  if (description.state === 'DELETED') return true;
  if (description.state !== 'DELETING') await startDiscard(deps, provider, ref);
  return false;
};

/** Asks the provider to delete a cluster we give up; a refusal is logged and the cleanup step asks again. */
const startDiscard = async (deps: WorkflowDeps, provider: ClusterProvider, ref: ClusterRef): Promise<void> => {
  try {
    await provider.delete(ref);
  } catch (err) {
    if (err instanceof ClusterNotFoundError) return;
    deps.onWarning?.('Could not start deleting a discarded cluster (asked again before the next create)', {
      providerId: ref.providerId,
      error: describeError(err),
    });
  }
};

/** The horizon of a record: set at its first attempt. */
const horizonOf = (record: ClusterRecord, now: Date): { horizon: Date; horizonSeconds: number } => {
  const horizon = record.retryUntil ? new Date(record.retryUntil) : horizonEnd(requestOf(record).retry, now);
  const from = Date.parse(record.createRequestedAt ?? now.toISOString());
  return { horizon, horizonSeconds: Math.max(1, (horizon.getTime() - from) / 1000) };
};

/**
 * After a failed attempt (refused at create, or rolled back for capacity): record the wait and answer WAIT, or throw
 * RetryHorizonExceededError when the horizon (or the attempt budget) is spent.
 */
const waitAfterFailure = async (
  deps: WorkflowDeps,
  record: ClusterRecord,
  policy: RetryPolicy,
  err: { name: string; message: string },
  reason: WaitReason,
  quota?: QuotaFacts,
  patch: RecordPatch = {},
): Promise<CreateResult & { action: 'WAIT' }> => {
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
const offersOf = (deps: WorkflowDeps, record: ClusterRecord, now: Date) =>
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

/** The cluster of the request's name when it is provably this request's (and not one it discarded). */
const findOwn = async (provider: ClusterProvider, record: ClusterRecord): Promise<ExistingCluster | undefined> => {
  const found = await provider.findByName(locationOf(record), clusterNameOfPlacement(placementAt(record)));
  if (!found || isDiscarded(record, found.providerId)) return undefined;
  const ours = found.ownerRequestId === record.requestId || (record.providerId !== undefined && found.providerId === record.providerId);
  return ours ? found : undefined;
};

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

export interface PollInput {
  requestId: string;
  operation: 'provision' | 'delete';
  lastWaitSeconds: number;
  maxWaitSeconds: number;
  deadlineSeconds: number;
  /**
   * Provision only, for providers that announce their clusters' state changes (HyperPod's EventBridge events wake the
   * parked workflow): the longest wait between two polls; the wait never runs past the deadline. Without it, polls
   * follow the growing interval.
   */
  eventWaitSeconds?: number;
  /** Provision only, for providers without events (TIR): the longest wait between two polls. */
  noEventMaxWaitSeconds?: number;
  /** Provision only: the capacity backoff, for a cluster that rolled back for capacity. */
  capacityRetry?: RetryPolicy;
}

/** Whether the provider announces its clusters' state changes (so the workflow waits for an event, not a poll). */
const ANNOUNCES_STATE_CHANGES: Record<ProviderName, boolean> = { sagemaker: true, tir: false };

/**
 * What the wait for a HyperPod cluster relies on, in one place (docs/providers.md lists them with their sources).
 *  - `belowMinimumSeconds`: in `NodeProvisioningMode: Continuous` the cluster is InService while its groups are still
 *    short, and no state-change event fires as instances are added ("clusters and instance groups remain InService
 *    while scaling"): such a cluster is described again at least this often.
 *  - `unwiredRegionSeconds`: EventBridge events are regional; a cluster in a region whose events are not forwarded to
 *    the deployment's default bus (deps.eventRegions) is polled at least this often.
 *  - `minimumRollbackSeconds`: "If this threshold isn't met within 3 hours, the instance group rolls back"
 *    (MinInstanceCount, CreateCluster API reference); a request with a minimum waits past it by `rollbackMarginSeconds`
 *    (an assumption: how long the roll back takes to show), so a minimum not met ends as a shortage, not a timeout.
 */
export const HYPERPOD_WAITS = {
  belowMinimumSeconds: 300,
  unwiredRegionSeconds: 60,
  minimumRollbackSeconds: 3 * 3600,
  rollbackMarginSeconds: 1800,
} as const;

/** Whether a HyperPod placement asks for a minimum (MinInstanceCount) in any of its groups. */
const hasMinimum = (p: Placement): boolean =>
  p.provider === 'sagemaker' &&
  ((p.cluster as { InstanceGroups?: Array<{ MinInstanceCount?: unknown }> }).InstanceGroups ?? []).some(
    (g) => g.MinInstanceCount !== undefined,
  );

/** The provision deadline of the record: past HyperPod's rollback window when a group has a minimum. */
const deadlineOf = (record: ClusterRecord, input: PollInput): number =>
  input.operation === 'provision' && hasMinimum(placementAt(record))
    ? Math.max(input.deadlineSeconds, HYPERPOD_WAITS.minimumRollbackSeconds + HYPERPOD_WAITS.rollbackMarginSeconds)
    : input.deadlineSeconds;

/** The wait before the next poll of a provisioning: to the deadline when events wake it, else the growing interval. */
const nextPollWait = (input: PollInput, provider: ProviderName, elapsedSeconds: number): number => {
  const grown = Math.max(1, Math.ceil(input.lastWaitSeconds * 1.5));
  if (input.operation !== 'provision') return Math.min(input.maxWaitSeconds, grown);
  if (ANNOUNCES_STATE_CHANGES[provider] && input.eventWaitSeconds) {
    const toDeadline = Math.ceil(input.deadlineSeconds - elapsedSeconds) + 1;
    return Math.max(1, Math.min(input.eventWaitSeconds, toDeadline));
  }
  return Math.min(ANNOUNCES_STATE_CHANGES[provider] ? input.maxWaitSeconds : (input.noEventMaxWaitSeconds ?? input.maxWaitSeconds), grown);
};

export interface PollResult {
  /**
   * READY / DELETED: done. CREATING / DELETING: poll again in `waitSeconds`. RETRY: the cluster rolled back for
   * capacity; it is being deleted and the record waits, the next create comes in `waitSeconds`. CANCELLED: a DELETE
   * cancelled the request.
   */
  state: 'CREATING' | 'READY' | 'DELETING' | 'DELETED' | 'RETRY' | 'CANCELLED';
  providerStatus: string;
  /** Seconds until the next poll (grows by half each round, up to maxWaitSeconds), or until the next attempt. */
  waitSeconds: number;
}

/** One round of the wait loop: provision waits for READY, delete waits for the cluster to be gone. */
export const pollCluster = async (deps: WorkflowDeps, given: PollInput): Promise<PollResult> => {
  const record = await deps.store.require(given.requestId);
  const input: PollInput = { ...given, deadlineSeconds: deadlineOf(record, given) };
  const now = clock(deps);
  const since = input.operation === 'provision' ? (record.createdAt ?? record.acceptedAt) : (record.deleteRequestedAt ?? record.updatedAt);
  const elapsed = (now.getTime() - Date.parse(since)) / 1000;
  let waitSeconds = nextPollWait(input, providerOf(record), elapsed);
  const placement = placementAt(record);
  if (
    input.operation === 'provision' &&
    placement.provider === 'sagemaker' &&
    deps.eventRegions !== undefined &&
    !deps.eventRegions.includes(placement.region)
  ) {
    // No event of this region reaches the deployment's bus: poll.
    waitSeconds = Math.min(waitSeconds, HYPERPOD_WAITS.unwiredRegionSeconds);
  }
  if (input.operation === 'provision' && CANCELLED_STATUSES.includes(record.status)) {
    return { state: 'CANCELLED', providerStatus: record.providerStatus ?? 'Unknown', waitSeconds };
  }

  const whileIn: ClusterStatus[] = input.operation === 'provision' ? ['CREATING'] : ['DELETING'];
  const givenUp = input.operation === 'provision' ? discardedFailure(record) : undefined;
  // This step gave the cluster up already and died (or the store failed) before the record moved on: decide again
  // from what was recorded, not from the provider, which is deleting the cluster or has forgotten it.
  if (givenUp) return clusterFailed(deps, record, givenUp, input);
  let description: ClusterDescription;
  try {
    description = await deps.provider(providerOf(record)).describe(refOf(record));
  } catch (err) {
    if (input.operation === 'delete' && err instanceof ClusterNotFoundError) {
      return { state: 'DELETED', providerStatus: 'NotFound', waitSeconds };
    }
    if (!(err instanceof ProviderThrottledError || err instanceof ProviderUnavailableError) || elapsed > input.deadlineSeconds) throw err;
    // The provider did not answer (an outage, throttling): that says nothing about the cluster, which keeps its status.
    // The error is recorded (operation `wait`) and the next poll comes as planned; only the deadline ends the wait.
    const { name, message } = describeError(err);
    await deps.store.update(
      record.requestId,
      { lastError: { name, message, at: now.toISOString(), operation: 'wait' }, checkedAt: now.toISOString() },
      whileIn,
    );
    return {
      state: input.operation === 'provision' ? 'CREATING' : 'DELETING',
      providerStatus: record.providerStatus ?? 'Unknown',
      waitSeconds,
    };
  }
  // The capacity question of a HyperPod create is answered when its instances are launched: the turn passes on then.
  const heldTurn = input.operation === 'provision' && mayHaveQueued(record, deps) && answersLater(deps, placementAt(record));
  const launchedNow = heldTurn && !capacityAnswered(record) && description.state === 'CREATING' && instancesLaunched(description);
  await deps.store.update(
    record.requestId,
    {
      providerStatus: description.providerStatus,
      nodes: description.nodes,
      ...(description.groups ? { groups: description.groups } : {}),
      ...(launchedNow ? { launched: { providerId: record.providerId ?? description.providerId, at: now.toISOString() } } : {}),
      checkedAt: now.toISOString(),
    },
    whileIn,
  );
  if (launchedNow) {
    const landedOn = offeringsOf(placementAt(record));
    await gotCapacity(deps, landedOn, windowMax(input.capacityRetry));
    await leaveQueues(deps, record, landedOn);
  }

  if (input.operation === 'provision') {
    if (description.state === 'FAILED') return clusterFailed(deps, record, description, input);
    if (description.state === 'DELETING' || description.state === 'DELETED') {
      throw new ClusterFailedError(`The cluster is being deleted at the provider (${description.providerStatus})`, {
        providerCode: description.providerStatus,
      });
    }
    if (description.state === 'READY') return { state: 'READY', providerStatus: description.providerStatus, waitSeconds };
    if (providerOf(record) === 'sagemaker' && description.state === 'CREATING') {
      // A Cluster Event reported a shortage for this cluster: with another placement left, it is given up like a
      // cluster rolled back for capacity; without one, HyperPod goes on adding instances and the wait goes on.
      const shortage = reportedShortage(record);
      if (
        shortage &&
        input.capacityRetry &&
        remainingAfter(
          record.zoneHint,
          record.rounds ?? 0,
          record.placement ?? 0,
          placementsOfRecord(record).length,
          record.excludedPlacements ?? [],
        ).length > 0
      ) {
        return clusterFailed(deps, { ...record, lastError: undefined }, { ...description, message: shortage.message }, input);
      }
      // InService below its minimum (Continuous mode): nothing announces the instances still to come.
      if (description.providerStatus === 'InService') waitSeconds = Math.min(waitSeconds, HYPERPOD_WAITS.belowMinimumSeconds);
    }
  } else if (description.state === 'DELETED') {
    return { state: 'DELETED', providerStatus: description.providerStatus, waitSeconds };
  }

  if (elapsed > input.deadlineSeconds) {
    const what = input.operation === 'provision' ? 'ready' : 'deleted';
    throw new ProvisioningTimeoutError(
      `The cluster was not ${what} within ${input.deadlineSeconds} s (provider status ${description.providerStatus}, ` +
        `${description.nodes.current} of ${description.nodes.target} nodes)`,
    );
  }
  return {
    state: input.operation === 'provision' ? 'CREATING' : 'DELETING',
    providerStatus: description.providerStatus,
    waitSeconds: turnPollWait(
      record,
      waitSeconds,
      input.lastWaitSeconds,
      input.capacityRetry && queueProbe(input.capacityRetry),
      heldTurn && !launchedNow,
    ),
  };
};

/**
 * The shortage a HyperPod Cluster Event recorded on the record (functions/core/wake.ts, `onClusterEvent`) for the
 * cluster being created now, if any.
 */
const reportedShortage = (record: ClusterRecord): RecordedError | undefined => {
  const last = record.lastError;
  if (last?.reason !== 'capacity' || last.operation !== 'wait' || !record.createdAt) return undefined;
  return last.at >= record.createdAt ? last : undefined;
};

/**
 * The provider reports the cluster failed (HyperPod RollingBack / Failed). Either way it is given up and deleted (a
 * Failed cluster holds no instances but keeps its name and counts against the account's clusters). A capacity
 * shortage waits and creates again; any other failure (lifecycle script, IAM, VPC) ends the request.
 */
const clusterFailed = async (
  deps: WorkflowDeps,
  record: ClusterRecord,
  description: ClusterDescription,
  input: PollInput,
): Promise<PollResult> => {
  const message = description.message ?? `The provider reports the cluster as ${description.providerStatus}`;
  // A minimum not met within HyperPod's window is a shortage that lasted (not a lifecycle or IAM failure).
  const shortage = isCapacityShortage(description.message) || isMinimumNotMet(description.message);
  const index = record.placement ?? 0;
  const providerId = description.providerId || record.providerId || '';
  const discarded: DiscardedCluster[] = isDiscarded(record, providerId)
    ? (record.discardedClusters ?? [])
    : [
        ...(record.discardedClusters ?? []),
        {
          providerId,
          ...(record.placements ? { placement: index } : {}),
          reason: shortage ? 'capacity' : 'failed',
          at: iso(deps),
          ...(description.message ? { message: description.message } : {}),
        },
      ];
  const placement = placementAt(record, index);
  // Recorded before the delete is asked for: a retry of this step finds it given up (pollCluster) and decides the same.
  if (!isDiscarded(record, providerId)) await deps.store.update(record.requestId, { discardedClusters: discarded }, ['CREATING']);
  await startDiscard(deps, deps.provider(placement.provider), refOf(record));
  if (!shortage || !input.capacityRetry) {
    await deps.store.update(record.requestId, { discardedClusters: discarded }, ['CREATING']);
    throw new ClusterFailedError(message, { providerCode: description.providerStatus });
  }
  // The offering is short for everyone for a while; this request goes on to its next placement (or backs off).
  await deps.offerings?.remember(
    shortOfferings(placement, description.message),
    shortUntil(clock(deps), input.capacityRetry, record),
    message,
  );
  await deps.offerings?.narrow?.(offeringsOf(placement));
  await queueOn(deps, record, offeringsOf(placement), clock(deps));
  const wait = await nextPlacement(
    deps,
    record,
    input.capacityRetry,
    { name: 'InsufficientCapacityError', message },
    'capacity',
    undefined,
    {
      discardedClusters: discarded,
    },
  );
  return { state: 'RETRY', providerStatus: description.providerStatus, waitSeconds: wait.waitSeconds };
};

/** Start of the delete workflow's work: mark DELETING (idempotent) and ask the provider to delete. */
export const deleteCluster = async (deps: WorkflowDeps, input: { requestId: string }): Promise<{ gone: boolean }> => {
  const record = await deps.store.require(input.requestId);
  if (record.status === 'DELETED') return { gone: true };
  const deleting =
    record.status === 'DELETING'
      ? record
      : await deps.store.transition(record.requestId, 'DELETING', { deleteRequestedAt: iso(deps) }, { reason: 'delete requested' });
  let target = deleting;
  if (!deleting.providerId) {
    if (deleting.attempts === 0) return { gone: true }; // never asked the provider for a cluster
    // A create may have reached the provider without its answer being recorded (the Lambda died, the request was
    // cancelled): find the cluster by name, and delete it when it is provably this request's.
    const found = await findOwn(deps.provider(providerOf(deleting)), deleting);
    if (!found) return { gone: true };
    target = await deps.store.update(record.requestId, { providerId: found.providerId }, ['DELETING']);
  }
  try {
    await deps.provider(providerOf(target)).delete(refOf(target));
    return { gone: false };
  } catch (err) {
    if (err instanceof ClusterNotFoundError) return { gone: true };
    throw err;
  }
};

/** The error a Catch hands over: `{Error, Cause}`. A Lambda's Cause is a JSON string with errorMessage. */
export interface CaughtError {
  Error: string;
  Cause?: string;
}

export const causeMessage = (caught: CaughtError): string => {
  const cause = caught.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (parsed && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the cause is the message itself
  }
  return cause || caught.Error;
};

export type Outcome = 'READY' | 'FAILED' | 'DELETED' | 'DELETE_FAILED';

export interface OutcomeResult {
  event: EventEntry;
  /** For the Fail state's CausePath: a one-line reason. */
  cause: string;
}

/**
 * Schedules the deleteAfter teardown of a READY cluster. The cluster is ready whatever happens here, so a failure to
 * schedule does not fail the workflow: it is recorded as lastError (operation `teardown`) and thrown nowhere; the
 * handler logs it at ERROR. Retrying the task would be safe too, but the Ready event must not wait on the scheduler.
 */
const scheduleTeardown = async (deps: WorkflowDeps, record: ClusterRecord, at: string): Promise<ClusterRecord> => {
  const when = new Date(Date.parse(record.readyAt ?? at) + (durationSeconds(record.deleteAfter ?? '') ?? 0) * 1000);
  try {
    await deps.teardown!.scheduleDeletion(record.requestId, when);
    return record;
  } catch (err) {
    const { name, message } = describeError(err);
    deps.onWarning?.('Could not schedule the deleteAfter teardown', { error: { name, message } });
    return deps.store.update(
      record.requestId,
      { lastError: { name, message: `deleteAfter teardown not scheduled: ${message}`, at, operation: 'teardown' } },
      ['READY'],
    );
  }
};

/**
 * Records how a workflow ended, announces it on the bus (with `deps.events`) and returns the event entry. Safe to
 * repeat: the status and its pending announcement are one write, the announcement's time a second one after the put,
 * so a repeat after a crash between them announces once more and a repeat after both announces nothing.
 */
export const recordOutcome = async (
  deps: WorkflowDeps,
  input: { requestId: string; outcome: Outcome; error?: CaughtError },
): Promise<OutcomeResult> => {
  const at = iso(deps);
  const current = await deps.store.require(input.requestId);
  if ((input.outcome === 'READY' || input.outcome === 'FAILED') && current.cancelledAt && CANCELLED_STATUSES.includes(current.status)) {
    // The provisioning was cancelled under it: the delete workflow records and announces the end.
    throw new RequestCancelledError(`The provisioning of ${input.requestId} was cancelled at ${current.cancelledAt}`);
  }
  let record: ClusterRecord;
  let detailType: DetailType;
  switch (input.outcome) {
    case 'READY':
      record =
        current.status === 'READY'
          ? current
          : await deps.store.transition(
              input.requestId,
              'READY',
              { readyAt: at, announced: pending('READY', DETAIL_TYPES.ready) },
              { reason: 'cluster ready' },
            );
      if (record.deleteAfter && deps.teardown) record = await scheduleTeardown(deps, record, at);
      // Capacity was there: every request may try this offering again at once (a probe that succeeded ends here).
      // (Unless the turn passed on when its instances were launched: a shortage remembered since then stands.)
      if (!capacityAnswered(record)) {
        if (deps.provider(providerOf(record)).capacityKnownAtCreate) await deps.offerings?.forget(offeringsOf(placementAt(record)));
        else await gotCapacity(deps, offeringsOf(placementAt(record)), windowMax(undefined));
      }
      detailType = DETAIL_TYPES.ready;
      break;
    case 'DELETED':
      record =
        current.status === 'DELETED'
          ? current
          : await deps.store.transition(
              input.requestId,
              'DELETED',
              { deletedAt: at, announced: pending('DELETED', DETAIL_TYPES.deleted) },
              { reason: current.cancelledAt ? 'cancelled' : 'cluster gone' },
            );
      detailType = DETAIL_TYPES.deleted;
      break;
    case 'FAILED':
    case 'DELETE_FAILED': {
      const caught = input.error ?? { Error: 'Unknown', Cause: 'The workflow failed without an error' };
      const lastError: RecordedError = {
        name: caught.Error,
        message: causeMessage(caught),
        at,
        operation: input.outcome === 'FAILED' ? 'create' : 'delete',
        ...(input.outcome === 'FAILED' && current.attempts > 0 ? { attempt: current.attempts } : {}),
      };
      const failedType = input.outcome === 'FAILED' ? DETAIL_TYPES.failed : DETAIL_TYPES.deleteFailed;
      record =
        current.status === 'FAILED'
          ? current
          : await deps.store.transition(
              input.requestId,
              'FAILED',
              { failedAt: at, lastError, announced: pending('FAILED', failedType) },
              { reason: `${lastError.name}: ${lastError.message}` },
            );
      detailType = failedType;
      break;
    }
  }
  await leaveQueues(deps, record);
  const event = eventEntry(deps.eventBusName, detailType, clusterEventDetail(record, at));
  if (deps.events) await announce({ ...deps, events: deps.events }, record, event);
  const cause = record.lastError && record.status === 'FAILED' ? `${record.lastError.name}: ${record.lastError.message}` : record.status;
  return { event, cause };
};

const pending = (status: ClusterStatus, detailType: DetailType): ClusterRecord['announced'] => ({ status, detailType });

/** Whether the record's final status still waits for its completion event. */
export const announcementPending = (record: ClusterRecord): boolean =>
  record.announced !== undefined && record.announced.status === record.status && record.announced.at === undefined;

/**
 * Puts the completion event of the record's status on the bus and stamps the announcement, unless it was announced
 * already. `event` defaults to the one the record's pending announcement names (the reconciler's case).
 */
export const announce = async (
  deps: Pick<WorkflowDeps, 'store' | 'eventBusName' | 'now'> & { events: EventPublisher },
  record: ClusterRecord,
  event?: EventEntry,
): Promise<ClusterRecord> => {
  if (record.announced?.status === record.status && record.announced.at !== undefined) return record;
  const at = iso(deps);
  const detailType = (record.announced?.status === record.status ? record.announced.detailType : event?.DetailType) as
    | DetailType
    | undefined;
  if (!detailType) return record;
  await deps.events.publish([event ?? eventEntry(deps.eventBusName, detailType, clusterEventDetail(record, at))]);
  return deps.store.update(record.requestId, { announced: { status: record.status, detailType, at } }, [record.status]);
};
