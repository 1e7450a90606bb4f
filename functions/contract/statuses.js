// @ts-check
/**
 * The statuses of a provisioning record, what each means, and the legal moves between them. The store checks every
 * write against TRANSITIONS; the OpenAPI document, the list filter and the docs tables are generated from here.
 */
export const STATUSES = /** @type {const} */ ([
  'SCHEDULED',
  'ACCEPTED',
  'CREATING',
  'WAITING_FOR_CAPACITY',
  'READY',
  'FAILED',
  'DELETING',
  'DELETED',
]);

/** @typedef {typeof STATUSES[number]} ClusterStatus */

/** @type {Readonly<Record<ClusterStatus, string>>} */
export const STATUS_MEANINGS = {
  SCHEDULED: 'Accepted with a `startAt` in the future; the schedule will start the workflow.',
  ACCEPTED: 'Accepted; the provision workflow is starting.',
  CREATING: 'The provider accepted the create; waiting for the cluster to be usable.',
  WAITING_FOR_CAPACITY: 'Short of capacity or quota (`lastError.reason`); the next create comes at `lastError.nextAttemptAt`.',
  READY: 'The cluster is usable: InService and every group at its minimum.',
  FAILED: 'Creation or deletion failed (`lastError` says why); a failed delete can be asked for again.',
  DELETING: 'A delete (or a cancel) is under way at the provider.',
  DELETED: 'The cluster is gone, or the request was cancelled (`cancelledAt`).',
};

/**
 * Legal transitions: from -> the statuses it may move to. A self-transition re-enters a status with new facts (another
 * failed attempt while waiting; CREATING again after adoption). DELETING from ACCEPTED, CREATING and
 * WAITING_FOR_CAPACITY is a cancel. A failed cluster may still exist at the provider, so FAILED may be deleted; a failed
 * delete is recorded as FAILED so it can be asked for again.
 * @type {Readonly<Record<ClusterStatus, readonly ClusterStatus[]>>}
 */
export const TRANSITIONS = {
  SCHEDULED: ['ACCEPTED', 'DELETED'],
  ACCEPTED: ['CREATING', 'WAITING_FOR_CAPACITY', 'FAILED', 'DELETING'],
  CREATING: ['CREATING', 'WAITING_FOR_CAPACITY', 'READY', 'FAILED', 'DELETING'],
  WAITING_FOR_CAPACITY: ['WAITING_FOR_CAPACITY', 'CREATING', 'FAILED', 'DELETING'],
  READY: ['DELETING'],
  FAILED: ['DELETING'],
  DELETING: ['DELETING', 'DELETED', 'FAILED'],
  DELETED: [],
};

/** Statuses from which a delete may start. @type {readonly ClusterStatus[]} */
export const DELETABLE = ['READY', 'FAILED'];

/** Statuses from which a DELETE cancels the provisioning: its retries stop and any cluster it made is deleted. @type {readonly ClusterStatus[]} */
export const CANCELLABLE = ['ACCEPTED', 'CREATING', 'WAITING_FOR_CAPACITY'];

/** Why a request waits in WAITING_FOR_CAPACITY (`lastError.reason`). */
export const WAIT_REASONS = /** @type {const} */ (['capacity', 'quota', 'name-in-use', 'transient']);

/** @typedef {typeof WAIT_REASONS[number]} WaitReason */

/** @type {Readonly<Record<WaitReason, string>>} */
export const WAIT_REASON_MEANINGS = {
  capacity: 'The provider has no capacity for the instance type (a cluster rolled back for it, or a refused create).',
  quota: 'The account quota is used by other clusters; it fits once they release instances.',
  'name-in-use': "A cluster that is not this request's holds the name.",
  transient: 'The provider throttled or was unavailable at create.',
};
