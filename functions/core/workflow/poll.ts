/** The wait loop of both workflows: provision waits for READY, delete waits for the cluster to be gone. */
import { isCapacityShortage, isMinimumNotMet } from '../capacity';
import { remainingAfter } from '../az-hints';
import {
  ClusterFailedError,
  ClusterNotFoundError,
  ProviderThrottledError,
  ProviderUnavailableError,
  ProvisioningTimeoutError,
  describeError,
} from '../errors';
import type { ClusterDescription } from '../provider';
import type { ProviderName } from '../request';
import { shortOfferings, type Placement } from '../placements';
import { capacityAnswered, gotCapacity, instancesLaunched, turnPollWait, windowMax } from '../queue-turn';
import type { ClusterRecord, ClusterStatus, DiscardedCluster, RecordedError } from '../store';
import { nextPlacement } from './capacity-wait';
import { CANCELLED_STATUSES, clock, iso, queueProbe, type RetryPolicy, type WorkflowDeps } from './deps';
import { startDiscard } from './discard';
import { answersLater, leaveQueues, mayHaveQueued, queueOn, shortUntil } from './queue';
import { discardedFailure, isDiscarded, offeringsOf, placementAt, placementsOfRecord, providerOf, refOf } from './record';

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
    await gotCapacity(deps, landedOn, windowMax(input.capacityRetry), record.createdAt);
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
  await deps.offerings?.narrow?.(offeringsOf(placement), clock(deps));
  await queueOn(deps, record, offeringsOf(placement), clock(deps));
  const wait = await nextPlacement(deps, record, {
    policy: input.capacityRetry,
    err: { name: 'InsufficientCapacityError', message },
    reason: 'capacity',
    patch: { discardedClusters: discarded },
  });
  return { state: 'RETRY', providerStatus: description.providerStatus, waitSeconds: wait.waitSeconds };
};
