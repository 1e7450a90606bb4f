/**
 * Parked workflows and what wakes them. Instead of a Wait state, the provision workflow waits in a callback task
 * (`lambda:invoke.waitForTaskToken`, statemachines/provision-cluster.asl.json): `park` records the task token on the
 * request, and the workflow goes on when someone returns the token (SendTaskSuccess) or the task's timeout — the poll
 * interval or the backoff — passes. Two things wake it:
 *   - a state change of its cluster: HyperPod's EventBridge event (`onClusterStateChange`, the clusterEvent function),
 *     or the reconciler's ListClusters seeing a status the record does not know;
 *   - a probe that found capacity for the offering the request waits on (the waiters, in submit order).
 * Waking is at least once and harmless: the woken workflow asks the provider once (DescribeCluster) before it records
 * anything, so a duplicate or out-of-order event costs one poll, never a second READY.
 *
 * A wake that comes while the workflow is not parked (it is polling, or has not parked yet) is kept as `wakeAt`: the
 * next park returns at once when `wakeAt` is later than the workflow's last look at the provider (`checkedAt`). Each
 * side writes first and reads second, so one of them always sees the other.
 */
import { isCapacityShortage } from './capacity';
import { RecordConflictError, RecordNotFoundError } from './errors';
import type { ClusterRecord, ClusterStatus, ClusterStore } from './store';

/** Returns a parked workflow's task token to Step Functions. */
export interface TaskWaker {
  /** False when the token is no longer waited on (the task timed out or was woken already). */
  wake(token: string): Promise<boolean>;
}

export interface WakeDeps {
  store: ClusterStore;
  waker: TaskWaker;
  now?: () => Date;
  /** Something was ignored or could not be done (logged by the handler). */
  onNotice?: (message: string, details: Record<string, unknown>) => void;
}

/** Statuses in which a provision workflow may park. */
const PARKING: readonly ClusterStatus[] = ['ACCEPTED', 'CREATING', 'WAITING_FOR_CAPACITY'];

export interface ParkInput {
  requestId: string;
  taskToken: string;
  purpose: 'poll' | 'retry';
  waitSeconds: number;
}

const nowOf = (deps: { now?: () => Date }) => (deps.now ?? (() => new Date()))();

/** A wake asked for after the workflow last looked at the provider. */
const wakePending = (record: ClusterRecord): boolean =>
  record.wakeAt !== undefined && (record.checkedAt === undefined || record.wakeAt > record.checkedAt);

/**
 * Records the token of the workflow's wait. Returns `woken: true` when a wake was already pending (it returned the
 * token itself) and when the request left the statuses that park (a DELETE cancelled it: the workflow must look now).
 */
export const park = async (deps: WakeDeps, input: ParkInput): Promise<{ woken: boolean }> => {
  const now = nowOf(deps);
  let record: ClusterRecord;
  try {
    // One conditional write, answered with the record as it stands after it: a wake that came before the write is
    // seen in it, one that comes after it finds the token.
    record = await deps.store.update(
      input.requestId,
      {
        parked: {
          token: input.taskToken,
          purpose: input.purpose,
          at: now.toISOString(),
          until: new Date(now.getTime() + input.waitSeconds * 1000).toISOString(),
        },
      },
      PARKING,
    );
  } catch (err) {
    if (!(err instanceof RecordConflictError)) throw err;
    // A DELETE cancelled it (or it ended): the workflow must look now.
    await deps.waker.wake(input.taskToken);
    return { woken: true };
  }
  if (wakePending(record)) {
    await deps.waker.wake(input.taskToken);
    return { woken: true };
  }
  return { woken: false };
};

/**
 * Wakes the request's parked workflow, or leaves the wake pending for its next park. True when a token was returned.
 * With `only`, a workflow parked for something else (or not waiting for capacity) is left alone: a queue's turn wakes
 * a request waiting for capacity, never one polling its cluster.
 */
export const wakeRequest = async (deps: WakeDeps, requestId: string, why: string, only?: 'retry'): Promise<boolean> => {
  const at = nowOf(deps).toISOString();
  if (only === 'retry') {
    const current = await deps.store.get(requestId);
    if (current?.status !== 'WAITING_FOR_CAPACITY' || current.parked?.purpose !== 'retry') return false;
  }
  let record: ClusterRecord;
  try {
    record = await deps.store.update(requestId, { wakeAt: at }, PARKING);
  } catch (err) {
    // Not parkable any more (READY, FAILED, DELETING...): nothing waits.
    if (err instanceof RecordConflictError || err instanceof RecordNotFoundError) return false;
    throw err;
  }
  if (!record.parked) return false;
  const woken = await deps.waker.wake(record.parked.token);
  deps.onNotice?.(woken ? 'Woke the workflow' : 'The workflow was not parked: the wake is kept for its next park', {
    requestId,
    why,
    purpose: record.parked.purpose,
  });
  return woken;
};

/** A HyperPod cluster state change, as EventBridge delivers it (`detail`; other members are ignored). */
export interface ClusterStateChange {
  ClusterArn?: string;
  ClusterName?: string;
  ClusterStatus?: string;
}

/** Statuses that change what the workflow does next; others (Creating, Updating) do not wake it. */
export const DECISIVE_STATUSES: ReadonlySet<string> = new Set(['InService', 'Failed', 'RollingBack', 'Deleting']);

/**
 * A HyperPod state-change event: finds the request whose cluster it is (among the records being created) and wakes
 * its workflow. An event for a cluster no request is creating is ignored (and said so).
 */
export const onClusterStateChange = async (
  deps: WakeDeps,
  detail: ClusterStateChange,
): Promise<{ requestId?: string; woken: boolean; ignored?: string }> => {
  if (!detail.ClusterArn || !detail.ClusterStatus) return { woken: false, ignored: 'no ClusterArn or ClusterStatus' };
  if (!DECISIVE_STATUSES.has(detail.ClusterStatus)) return { woken: false, ignored: `status ${detail.ClusterStatus} changes nothing` };
  const record = await findCreating(deps.store, detail.ClusterArn);
  if (!record) {
    deps.onNotice?.('State change of a cluster no request is creating: ignored', {
      clusterArn: detail.ClusterArn,
      clusterStatus: detail.ClusterStatus,
    });
    return { woken: false, ignored: 'no request is creating this cluster' };
  }
  const woken = await wakeRequest(deps, record.requestId, `cluster ${detail.ClusterStatus}`);
  return { requestId: record.requestId, woken };
};

/**
 * A HyperPod Cluster Event (detail-type `SageMaker HyperPod Cluster Event`, clusters in `NodeProvisioningMode:
 * Continuous`), as EventBridge delivers its `detail`: the record nests in `EventDetails` (HyperPod "cluster events
 * reference"); an instance's failure text is in `EventDetails.EventDetails.EventMetadata.Instance.FailureMessage`.
 */
export interface ClusterEventDetail {
  EventDetails?: {
    EventId?: string;
    ClusterArn?: string;
    ClusterName?: string;
    InstanceGroupName?: string;
    ResourceType?: string;
    EventLevel?: string;
    Description?: string;
    EventDetails?: { EventMetadata?: Record<string, { FailureMessage?: unknown } | undefined> };
  };
}

/** The failure text of a Cluster Event: a metadata entry's FailureMessage, else its Description. */
export const clusterEventMessage = (detail: ClusterEventDetail): string | undefined => {
  const record = detail.EventDetails;
  for (const entry of Object.values(record?.EventDetails?.EventMetadata ?? {})) {
    if (entry && typeof entry.FailureMessage === 'string' && entry.FailureMessage !== '') return entry.FailureMessage;
  }
  return typeof record?.Description === 'string' ? record.Description : undefined;
};

/**
 * A HyperPod Cluster Event: wakes the workflow creating that cluster (it describes the cluster again: instances may have
 * come, READY may be reached). An `Error`-level event in insufficient-capacity wording is a shortage: recorded on the
 * record as a capacity wait (lastError, reason `capacity`) before the wake, so the woken workflow may move on to the
 * request's next placement (functions/core/workflow/poll.ts, pollCluster). An event of a cluster no request is creating is
 * ignored.
 */
export const onClusterEvent = async (
  deps: WakeDeps,
  detail: ClusterEventDetail,
): Promise<{ requestId?: string; woken: boolean; shortage?: boolean; ignored?: string }> => {
  const arn = detail.EventDetails?.ClusterArn;
  if (typeof arn !== 'string' || arn === '') return { woken: false, ignored: 'no EventDetails.ClusterArn' };
  const record = await findCreating(deps.store, arn);
  if (!record) {
    deps.onNotice?.('Cluster event of a cluster no request is creating: ignored', { clusterArn: arn });
    return { woken: false, ignored: 'no request is creating this cluster' };
  }
  const message = clusterEventMessage(detail);
  const shortage = detail.EventDetails?.EventLevel === 'Error' && isCapacityShortage(message);
  if (shortage) {
    try {
      await deps.store.update(
        record.requestId,
        {
          lastError: {
            name: 'InsufficientCapacityError',
            message: message as string,
            at: nowOf(deps).toISOString(),
            operation: 'wait',
            reason: 'capacity',
            ...(record.attempts > 0 ? { attempt: record.attempts } : {}),
          },
        },
        ['CREATING'],
      );
    } catch (err) {
      // It left CREATING meanwhile (READY, cancelled, rolled back): the shortage no longer matters.
      if (err instanceof RecordConflictError || err instanceof RecordNotFoundError)
        return { requestId: record.requestId, woken: false, shortage };
      throw err;
    }
  }
  const woken = await wakeRequest(deps, record.requestId, shortage ? 'cluster event: capacity shortage' : 'cluster event');
  return { requestId: record.requestId, woken, shortage };
};

/**
 * The record creating the cluster `providerId`. Records being created are few (CREATING is a passing status), so they
 * are read from the status index rather than from an index of their own.
 */
export const findCreating = async (store: ClusterStore, providerId: string): Promise<ClusterRecord | undefined> => {
  let cursor: string | undefined;
  do {
    const page = await store.list({ status: 'CREATING', limit: 100, ...(cursor ? { cursor } : {}) });
    const match = page.items.find((r) => r.providerId === providerId);
    if (match) return match;
    cursor = page.cursor;
  } while (cursor);
  return undefined;
};
