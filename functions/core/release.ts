/**
 * What follows a recorded request, without reading a request body (so without the request validator, which the
 * bundles of the functions that only release, cancel or delete do not carry): starting its provisioning (a scheduled
 * request's release), and its deletion or cancellation. ./submit.ts records requests and re-exports these.
 */
import { RecordConflictError, RecordNotFoundError } from './errors';
import type { Planner } from './plan';
import type { DeploymentPolicy } from './policy';
import { CANCELLABLE, DELETABLE, type ClusterRecord, type ClusterStore } from './store';

export interface WorkflowStarter {
  /**
   * Starts the provision workflow of `requestId`, named `requestId` (or `executionName`, when the reconciler resumes
   * it); an existing execution of that name is `alreadyStarted`.
   */
  startProvisioning(requestId: string, executionName?: string): Promise<{ executionArn: string; alreadyStarted: boolean }>;
  /** Starts the delete workflow named `executionName`. */
  startDeletion(requestId: string, executionName: string): Promise<{ executionArn: string; alreadyStarted: boolean }>;
  /** Stops the provision workflow `executionArn` (a cancel); one that has already ended is not an error. */
  stopProvisioning?(executionArn: string, cause: string): Promise<void>;
}

export interface ProvisionScheduler {
  /** A one-time schedule that submits the recorded request at `at` (idempotent per requestId). */
  scheduleProvisioning(requestId: string, at: Date): Promise<void>;
}

export interface SubmitDeps {
  store: ClusterStore;
  starter: WorkflowStarter;
  scheduler?: ProvisionScheduler;
  /** Region for sagemaker requests that name none: the deployment's. */
  defaultRegion: string;
  /** The deployment's allow-lists (roles, lifecycle buckets, regions); absent: nothing beyond the contract is checked. */
  policy?: DeploymentPolicy;
  now?: () => Date;
  /** The pre-flight plan (functions/core/plan.ts): run before anything is recorded when a request asks (`preflight`). */
  planner?: Planner;
  /** The deployment's default for a request that does not say `preflight` (setting PREFLIGHT_DEFAULT). */
  preflightByDefault?: boolean;
}

export const startProvisioning = async (deps: SubmitDeps, record: ClusterRecord): Promise<ClusterRecord> => {
  const { executionArn } = await deps.starter.startProvisioning(record.requestId);
  if (record.executionArn === executionArn) return record;
  try {
    return await deps.store.update(record.requestId, { executionArn }, ['ACCEPTED', 'CREATING', 'WAITING_FOR_CAPACITY', 'READY', 'FAILED']);
  } catch (err) {
    // The workflow may already have moved the record on (e.g. DELETED); the start itself succeeded.
    if (err instanceof RecordConflictError) return (await deps.store.get(record.requestId)) ?? record;
    throw err;
  }
};

/** A scheduled request's time has come (one-time schedule): SCHEDULED -> ACCEPTED, then start. */
export const releaseScheduled = async (deps: SubmitDeps, requestId: string): Promise<ClusterRecord> => {
  const record = await deps.store.require(requestId);
  if (record.status === 'SCHEDULED') {
    const accepted = await deps.store.transition(
      requestId,
      'ACCEPTED',
      {},
      { reason: 'scheduled time reached', expectFrom: ['SCHEDULED'] },
    );
    return startProvisioning(deps, accepted);
  }
  if (record.status === 'ACCEPTED') return startProvisioning(deps, record);
  return record; // a double firing after the start: nothing to do
};

/**
 * Starts the deletion of a request's cluster: READY or FAILED -> DELETING, then the delete workflow. A repeat while
 * DELETING starts the same execution again (idempotent), so a failed start is healed by asking again. A SCHEDULED
 * request is cancelled (-> DELETED) without a workflow. A request still being provisioned (ACCEPTED, CREATING,
 * WAITING_FOR_CAPACITY) is cancelled: the conditional move to DELETING stops every later create attempt (each one
 * claims the record while it may still create), the provision workflow is stopped, and the delete workflow deletes any
 * cluster the request made and ends it DELETED with reason `cancelled`.
 * Throws RecordNotFoundError (also for a record `mayDelete` refuses), or RecordConflictError when the cluster is already
 * deleted.
 */
export const requestDeletion = async (
  deps: SubmitDeps,
  requestId: string,
  reason = 'delete requested',
  /** Whether the caller may delete this record (functions/core/access.ts); one it may not is answered as unknown. */
  mayDelete: (record: ClusterRecord) => boolean = () => true,
): Promise<ClusterRecord> => {
  const record = await deps.store.get(requestId);
  if (!record || !mayDelete(record)) throw new RecordNotFoundError(`No cluster request ${requestId}`);
  const at = (deps.now ?? (() => new Date()))().toISOString();
  if (record.status === 'SCHEDULED') {
    // Not started yet: cancelling is the whole delete. The schedule still fires, finds DELETED and does nothing.
    return deps.store.transition(
      requestId,
      'DELETED',
      { deletedAt: at, cancelledAt: at },
      { reason: 'cancelled before its start time', expectFrom: ['SCHEDULED'] },
    );
  }
  let deleting = record;
  if (CANCELLABLE.includes(record.status)) {
    deleting = await deps.store.transition(
      requestId,
      'DELETING',
      { deleteRequestedAt: at, cancelledAt: at },
      { reason: 'cancelled', expectFrom: CANCELLABLE },
    );
    if (record.executionArn) await deps.starter.stopProvisioning?.(record.executionArn, 'cancelled by a DELETE');
  } else if (record.status !== 'DELETING') {
    if (!DELETABLE.includes(record.status)) {
      throw new RecordConflictError(`Cluster of ${requestId} is ${record.status}; it cannot be deleted again`);
    }
    deleting = await deps.store.transition(requestId, 'DELETING', { deleteRequestedAt: at }, { reason, expectFrom: DELETABLE });
  }
  const round = deleting.history.filter((h) => h.to === 'DELETING' && h.from !== 'DELETING').length;
  const { executionArn } = await deps.starter.startDeletion(requestId, `${requestId}-delete-${round}`);
  if (deleting.deleteExecutionArn === executionArn) return deleting;
  return deps.store.update(requestId, { deleteExecutionArn: executionArn }, ['DELETING', 'DELETED', 'FAILED']);
};
