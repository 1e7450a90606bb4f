/**
 * What the state machines' Lambda tasks do. No SDK here: the store, the providers and the teardown scheduler come in
 * as ports. Each function is safe to run twice for the same input (Step Functions retries a task whose Lambda timed
 * out or crashed), and every error it throws is one of ./errors.ts, so Retry / Catch can match it by name.
 */
import {
  ClusterFailedError,
  ClusterNotFoundError,
  ProvisioningTimeoutError,
  RecordConflictError,
  ResourceInUseError,
  ResourceLimitExceededError,
  describeError,
  isRetryable,
} from './errors';
import { DETAIL_TYPES, clusterEventDetail, eventEntry, type EventEntry } from './events';
import type { ClusterLocation, ClusterProvider, ClusterRef } from './provider';
import type { ProviderName, ProvisionRequest } from './request';
import type { ClusterRecord, ClusterStatus, ClusterStore, RecordedError } from './store';
import { durationSeconds } from './validate';

export interface TeardownScheduler {
  /** Arranges for the delete workflow of `requestId` to start at `at` (idempotent per requestId). */
  scheduleDeletion(requestId: string, at: Date): Promise<void>;
}

export interface WorkflowDeps {
  store: ClusterStore;
  provider(name: ProviderName): ClusterProvider;
  eventBusName: string;
  teardown?: TeardownScheduler;
  now?: () => Date;
  /** Something went wrong that does not change the outcome (logged at ERROR by the handlers). */
  onWarning?: (message: string, details: Record<string, unknown>) => void;
}

/** The capacity retrier of CreateCluster, handed to the task so it can say when the next attempt comes. */
export interface RetryPolicy {
  IntervalSeconds: number;
  BackoffRate: number;
  MaxDelaySeconds: number;
  MaxAttempts: number;
}

const iso = (deps: WorkflowDeps): string => (deps.now ?? (() => new Date()))().toISOString();

export const locationOf = (record: ClusterRecord): ClusterLocation =>
  record.provider === 'sagemaker'
    ? { provider: 'sagemaker', region: record.region ?? '' }
    : {
        provider: 'tir',
        projectId: record.projectId ?? 0,
        location: record.location ?? '',
        ...(record.activeIam !== undefined ? { activeIam: record.activeIam } : {}),
      };

const refOf = (record: ClusterRecord): ClusterRef => ({
  location: locationOf(record),
  clusterName: record.clusterName,
  ...(record.providerId ? { providerId: record.providerId } : {}),
});

/**
 * The latest moment the next attempt can start: Step Functions waits min(MaxDelay, Interval * Rate^(n-1)) after the
 * n-th failure, scaled down by full jitter. Counting every failed attempt (not only capacity ones) can only raise the
 * ceiling, so the time stays an upper bound.
 */
export const nextAttemptCeiling = (policy: RetryPolicy, failedAttempts: number, now: Date): Date => {
  const delay = Math.min(policy.MaxDelaySeconds, policy.IntervalSeconds * policy.BackoffRate ** Math.max(0, failedAttempts - 1));
  return new Date(now.getTime() + delay * 1000);
};

const CREATE_STATUSES: readonly ClusterStatus[] = ['ACCEPTED', 'CREATING', 'WAITING_FOR_CAPACITY'];

export interface CreateResult {
  providerId: string;
  clusterName: string;
  adopted: boolean;
}

/**
 * Creates the cluster of `requestId`, or adopts the one this request already made.
 *
 * Before calling the provider it records the attempt (and, once, createRequestedAt): if the Lambda dies after the
 * provider created the cluster, the next attempt answers ResourceInUse, finds the cluster and adopts it. HyperPod
 * proves ownership by the `provisioner:request-id` tag. TIR has no tags: a cluster is ours if it is the one recorded,
 * or if it has our name and appeared after our first create request (see README, "Exactly one cluster").
 */
export const createCluster = async (
  deps: WorkflowDeps,
  input: { requestId: string; capacityRetry: RetryPolicy },
): Promise<CreateResult> => {
  const record = await deps.store.require(input.requestId);
  if (record.providerId && record.status !== 'ACCEPTED' && record.status !== 'WAITING_FOR_CAPACITY') {
    // A retry of this task after the create was already recorded: nothing to do.
    return { providerId: record.providerId, clusterName: record.clusterName, adopted: false };
  }
  if (!CREATE_STATUSES.includes(record.status)) {
    throw new RecordConflictError(`Cannot create the cluster of ${record.requestId}: it is ${record.status}`);
  }
  const attempt = record.attempts + 1;
  const startedAt = iso(deps);
  const started = await deps.store.update(
    record.requestId,
    {
      attempts: attempt,
      maxAttempts: input.capacityRetry.MaxAttempts + 1,
      ...(record.createRequestedAt ? {} : { createRequestedAt: startedAt }),
    },
    CREATE_STATUSES,
  );
  const provider = deps.provider(record.provider);
  const request = record.request as unknown as ProvisionRequest;
  try {
    const created = await provider.create({ location: locationOf(record), requestId: record.requestId, cluster: request.cluster });
    await deps.store.transition(record.requestId, 'CREATING', { providerId: created.providerId, createdAt: iso(deps) }, {
      reason: `created at the provider (attempt ${attempt})`,
    });
    return { ...created, adopted: false };
  } catch (err) {
    if (err instanceof ResourceInUseError) {
      const adopted = await adoptIfOurs(deps, provider, started);
      if (adopted) return adopted;
    }
    if (isRetryable(err)) await recordFailedAttempt(deps, started, err, input.capacityRetry);
    throw err;
  }
};

/**
 * Whether a cluster created at `createdAt` (provider clock) can be the answer to our create requested at
 * `requestedAt`. No clock-skew margin: adopting someone else's cluster is worse than failing loudly. When the
 * provider reports whole seconds, our time is truncated to the second too.
 */
export const createdSince = (createdAt: string, requestedAt: string): boolean => {
  const created = Date.parse(createdAt);
  const requested = Date.parse(requestedAt);
  const wholeSeconds = created % 1000 === 0;
  return created >= (wholeSeconds ? Math.floor(requested / 1000) * 1000 : requested);
};

const adoptIfOurs = async (deps: WorkflowDeps, provider: ClusterProvider, record: ClusterRecord): Promise<CreateResult | undefined> => {
  const found = await provider.findByName(locationOf(record), record.clusterName);
  if (!found) return undefined;
  const ours =
    found.ownerRequestId === record.requestId ||
    (record.providerId !== undefined && found.providerId === record.providerId) ||
    (record.provider === 'tir' &&
      record.createRequestedAt !== undefined &&
      record.attempts > 1 &&
      found.createdAt !== undefined &&
      createdSince(found.createdAt, record.createRequestedAt));
  if (!ours) return undefined;
  await deps.store.transition(record.requestId, 'CREATING', { providerId: found.providerId, createdAt: found.createdAt ?? iso(deps) }, {
    reason: 'adopted the cluster this request had already created',
  });
  return { providerId: found.providerId, clusterName: found.clusterName, adopted: true };
};

const recordFailedAttempt = async (deps: WorkflowDeps, record: ClusterRecord, err: unknown, policy: RetryPolicy): Promise<void> => {
  const now = (deps.now ?? (() => new Date()))();
  const { name, message } = describeError(err);
  const lastAttempt = record.attempts >= policy.MaxAttempts + 1;
  const lastError: RecordedError = {
    name,
    message,
    at: now.toISOString(),
    attempt: record.attempts,
    operation: 'create',
    ...(lastAttempt ? {} : { nextAttemptAt: nextAttemptCeiling(policy, record.attempts, now).toISOString() }),
  };
  const capacity = err instanceof ResourceLimitExceededError || err instanceof ResourceInUseError;
  await deps.store.transition(record.requestId, 'WAITING_FOR_CAPACITY', { lastError }, {
    reason: `attempt ${record.attempts} failed: ${name}${capacity ? '' : ' (transient)'}`,
  });
};

export interface PollInput {
  requestId: string;
  operation: 'provision' | 'delete';
  lastWaitSeconds: number;
  maxWaitSeconds: number;
  deadlineSeconds: number;
}

export interface PollResult {
  state: 'CREATING' | 'READY' | 'DELETING' | 'DELETED';
  providerStatus: string;
  /** Seconds until the next poll: grows by half each round, up to maxWaitSeconds. */
  waitSeconds: number;
}

/** One round of the wait loop: provision waits for READY, delete waits for the cluster to be gone. */
export const pollCluster = async (deps: WorkflowDeps, input: PollInput): Promise<PollResult> => {
  const record = await deps.store.require(input.requestId);
  const now = (deps.now ?? (() => new Date()))();
  const since = input.operation === 'provision' ? (record.createdAt ?? record.acceptedAt) : (record.deleteRequestedAt ?? record.updatedAt);
  const elapsed = (now.getTime() - Date.parse(since)) / 1000;
  const waitSeconds = Math.min(input.maxWaitSeconds, Math.max(1, Math.ceil(input.lastWaitSeconds * 1.5)));

  let description;
  try {
    description = await deps.provider(record.provider).describe(refOf(record));
  } catch (err) {
    if (input.operation === 'delete' && err instanceof ClusterNotFoundError) {
      return { state: 'DELETED', providerStatus: 'NotFound', waitSeconds };
    }
    throw err;
  }
  const whileIn: ClusterStatus[] = input.operation === 'provision' ? ['CREATING'] : ['DELETING'];
  await deps.store.update(record.requestId, { providerStatus: description.providerStatus, nodes: description.nodes }, whileIn);

  if (input.operation === 'provision') {
    if (description.state === 'FAILED') {
      throw new ClusterFailedError(description.message ?? `The provider reports the cluster as ${description.providerStatus}`, {
        providerCode: description.providerStatus,
      });
    }
    if (description.state === 'DELETING' || description.state === 'DELETED') {
      throw new ClusterFailedError(`The cluster is being deleted at the provider (${description.providerStatus})`, {
        providerCode: description.providerStatus,
      });
    }
    if (description.state === 'READY') return { state: 'READY', providerStatus: description.providerStatus, waitSeconds };
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
    waitSeconds,
  };
};

/** Start of the delete workflow's work: mark DELETING (idempotent) and ask the provider to delete. */
export const deleteCluster = async (deps: WorkflowDeps, input: { requestId: string }): Promise<{ gone: boolean }> => {
  const record = await deps.store.require(input.requestId);
  if (record.status === 'DELETED') return { gone: true };
  const deleting =
    record.status === 'DELETING'
      ? record
      : await deps.store.transition(record.requestId, 'DELETING', { deleteRequestedAt: iso(deps) }, { reason: 'delete requested' });
  if (!deleting.providerId) return { gone: true }; // never created at the provider
  try {
    await deps.provider(record.provider).delete(refOf(deleting));
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

/** Records how a workflow ended and returns the event entry that announces it. Safe to repeat. */
export const recordOutcome = async (
  deps: WorkflowDeps,
  input: { requestId: string; outcome: Outcome; error?: CaughtError },
): Promise<OutcomeResult> => {
  const at = iso(deps);
  const current = await deps.store.require(input.requestId);
  let record: ClusterRecord;
  let detailType;
  switch (input.outcome) {
    case 'READY':
      record = current.status === 'READY' ? current : await deps.store.transition(input.requestId, 'READY', { readyAt: at }, { reason: 'cluster ready' });
      if (record.deleteAfter && deps.teardown) record = await scheduleTeardown(deps, record, at);
      detailType = DETAIL_TYPES.ready;
      break;
    case 'DELETED':
      record = current.status === 'DELETED' ? current : await deps.store.transition(input.requestId, 'DELETED', { deletedAt: at }, { reason: 'cluster gone' });
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
        ...(current.lastError?.attempt !== undefined && input.outcome === 'FAILED' ? { attempt: current.lastError.attempt } : {}),
      };
      record =
        current.status === 'FAILED'
          ? current
          : await deps.store.transition(input.requestId, 'FAILED', { failedAt: at, lastError }, { reason: `${lastError.name}: ${lastError.message}` });
      detailType = input.outcome === 'FAILED' ? DETAIL_TYPES.failed : DETAIL_TYPES.deleteFailed;
      break;
    }
  }
  const detail = clusterEventDetail(record, at);
  const cause = record.lastError && record.status === 'FAILED' ? `${record.lastError.name}: ${record.lastError.message}` : record.status;
  return { event: eventEntry(deps.eventBusName, detailType, detail), cause };
};
