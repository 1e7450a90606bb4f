/**
 * The record of each provisioning, one per requestId, behind a port the core owns. The DynamoDB adapter lives in
 * functions/adapters/dynamo-store.ts. Every status change is a conditional write checked against TRANSITIONS
 * (functions/contract/statuses.js): an illegal one raises RecordConflictError and overwrites nothing.
 */
import { TRANSITIONS, type ClusterStatus } from '../contract/statuses.js';
import type { ZoneHint } from './az-hints';
import type { QuotaFacts, WaitReason } from './capacity';
import type { ReservedOffers } from './offers';
import type { Placement } from './placements';
import type { GroupDescription } from './provider';
import type { ProviderName } from './request';

export { CANCELLABLE, DELETABLE, STATUSES, TRANSITIONS } from '../contract/statuses.js';
export type { ClusterStatus } from '../contract/statuses.js';

export const canTransition = (from: ClusterStatus, to: ClusterStatus): boolean => TRANSITIONS[from].includes(to);

export interface RecordedError {
  name: string;
  message: string;
  at: string;
  /** The attempt that failed (1-based). */
  attempt?: number;
  /** When the workflow will try again at the latest (the backoff ceiling; full jitter may start it sooner). */
  nextAttemptAt?: string;
  /** `create`, `wait`, `delete` or `teardown` (the deleteAfter schedule could not be made). */
  operation?: string;
  /** Why the request waits after this error: capacity, quota, name-in-use or transient. */
  reason?: WaitReason;
  /** The account quota as ResourceLimitExceeded stated it (reason quota). */
  quota?: QuotaFacts;
}

/** A cluster this request made and gave up (rolled back for capacity, or failed): deleted before the next create. */
export interface DiscardedCluster {
  providerId: string;
  /** The placement it was at (the request's own: 0). */
  placement?: number;
  reason: 'capacity' | 'failed';
  at: string;
  /** The provider's explanation of the failure (so a retried step decides the same without asking again). */
  message?: string;
  /** When the provider no longer knew it. Until then no new cluster is created for the request. */
  goneAt?: string;
}

export interface AttemptLogEntry {
  at: string;
  /** Index into placements (0: the request's own). */
  placement: number;
  /** `sagemaker us-west-2`, `tir Delhi`. */
  where: string;
  /** created; short (refused or rolled back for capacity); quota; skipped (remembered short, probed by another); failed. */
  outcome: 'created' | 'short' | 'quota' | 'skipped' | 'failed';
  reason: string;
}

export interface HistoryEntry {
  from?: ClusterStatus;
  to: ClusterStatus;
  at: string;
  reason?: string;
}

export interface ClusterRecord {
  requestId: string;
  /**
   * Who submitted it (functions/core/access.ts): the caller's IAM principal (a role or user ARN, sessions as their
   * role) for the HTTP API; `sqs`, `eventbridge` or `schedule` for the others. Absent on records written before.
   */
  owner?: string;
  provider: ProviderName;
  /** sagemaker */
  region?: string;
  /** tir */
  projectId?: number;
  location?: string;
  activeIam?: number;
  clusterName: string;
  /** HyperPod cluster ARN or TIR cluster id. */
  providerId?: string;
  status: ClusterStatus;
  /** Create attempts made so far (successful or not). */
  attempts: number;
  /** Create attempts the workflow will make at most (the capacity policy's MaxAttempts; the horizon usually ends it first). */
  maxAttempts?: number;
  lastError?: RecordedError;
  /** Canonical hash of the request (without requestId): same id + other hash = conflict. */
  requestHash: string;
  /** The validated request (contains no secret: TIR credentials never travel in requests). */
  request: Record<string, unknown>;
  /** The provider's last reported status and node counts. */
  providerStatus?: string;
  nodes?: { current: number; target: number };
  /** Per instance group: current, target and minimum counts, and the instance types that came up. */
  groups?: GroupDescription[];
  /** The end of the retry horizon, set at the first attempt: no new attempt starts after it. */
  retryUntil?: string;
  /** Clusters this request made and discarded, oldest first. */
  discardedClusters?: DiscardedCluster[];
  /** Set when a DELETE cancelled the provisioning. */
  cancelledAt?: string;
  /** Where the request may land, the request's own first, then its alternatives (absent without alternatives). */
  placements?: Placement[];
  /** The placement the request is at now (tried, or landed on). */
  placement?: number;
  /** Rounds of attempts that ended in a backoff (a round tries every placement once). */
  rounds?: number;
  /** Placements skipped for good (their quota is below the request). */
  excludedPlacements?: number[];
  /** Where the cluster was created: provider and region, or project and location. */
  landed?: { provider: 'sagemaker'; region: string } | { provider: 'tir'; projectId: number; location: string };
  /**
   * When the provider showed the instances of cluster `providerId` launched while it was being created: the capacity
   * question was answered, and the request passed its turn in the offering's queue on.
   */
  launched?: { providerId: string; at: string };
  /** The Availability Zones EC2's last shortage message named as having capacity (./az-hints.ts). */
  zoneHint?: ZoneHint;
  /** Reserved capacity (training-plan offerings) found while the request waited: suggestions, never bought (./offers.ts). */
  reservedOffers?: ReservedOffers;
  /** Each try and skip, newest last (the last 50): the story of a request that waits or falls over. */
  attemptLog?: AttemptLogEntry[];
  scheduledFor?: string;
  deleteAfter?: string;
  /**
   * The completion event of the record's final status: `status` and `detailType` are written with the status itself,
   * `at` once the event is on the bus. A record whose announcement has no `at` is announced again (by the retried task,
   * or the reconciler when its workflow died), so every outcome is announced even after a crash between the two writes.
   */
  announced?: { status: ClusterStatus; detailType: string; at?: string };
  /**
   * The workflow waits here (a callback task): `token` is its task token, `purpose` what wakes it (`poll`: a state
   * change of the cluster; `retry`: capacity found for the offering it waits on), `until` when its timeout ends the wait.
   */
  parked?: { token: string; purpose: 'poll' | 'retry'; at: string; until: string };
  /** When the workflow last asked the provider (a poll or a create attempt). */
  checkedAt?: string;
  /** When something last asked to wake the workflow (a state-change event, a probe that found capacity). */
  wakeAt?: string;
  /** Workflows the reconciler started again after theirs had died. */
  resumes?: number;
  /** Execution ARNs of the workflows run for this record (the latest). */
  executionArn?: string;
  deleteExecutionArn?: string;
  acceptedAt: string;
  createRequestedAt?: string;
  createdAt?: string;
  readyAt?: string;
  failedAt?: string;
  deleteRequestedAt?: string;
  deletedAt?: string;
  updatedAt: string;
  history: HistoryEntry[];
}

/**
 * Fields a transition or update may set. The identity fields, status and history are the store's to change; so is
 * updatedAt (stamped on every write); provider is an index key and never changes after create.
 */
export type RecordPatch = Partial<
  Omit<ClusterRecord, 'requestId' | 'owner' | 'provider' | 'status' | 'history' | 'acceptedAt' | 'requestHash' | 'updatedAt'>
>;

export interface ListQuery {
  status?: ClusterStatus;
  provider?: ProviderName;
  /** 1..100, default 20. */
  limit?: number;
  /** Opaque cursor from the previous page. */
  cursor?: string;
  /**
   * Only the records of this owner (a non-admin caller's list). Filtered by the store before the page and its cursor
   * are made, so neither carries another owner's record.
   */
  owner?: string;
}

export interface ListPage {
  items: ClusterRecord[];
  cursor?: string;
}

export interface ClusterStore {
  /** Conditional put on requestId. `created: false` returns the record that was already there, untouched. */
  create(record: ClusterRecord): Promise<{ created: boolean; record: ClusterRecord }>;
  /** Undefined when absent. */
  get(requestId: string): Promise<ClusterRecord | undefined>;
  /** Throws RecordNotFoundError when absent. */
  require(requestId: string): Promise<ClusterRecord>;
  /**
   * Moves the record to `to` (legal per TRANSITIONS from its current status, and from `expectFrom` when given), applies
   * `patch`, appends a history entry. Throws RecordConflictError on an illegal or concurrent transition.
   */
  transition(
    requestId: string,
    to: ClusterStatus,
    patch?: RecordPatch,
    options?: { reason?: string; expectFrom?: readonly ClusterStatus[] },
  ): Promise<ClusterRecord>;
  /** Applies `patch` without changing status, only while the status is one of `whileIn`. */
  update(requestId: string, patch: RecordPatch, whileIn: readonly ClusterStatus[]): Promise<ClusterRecord>;
  /** Newest first (by acceptedAt), cursor paginated. */
  list(query: ListQuery): Promise<ListPage>;
  /**
   * The next `limit` items of the table itself (not an index), strongly consistent, in the table's own order: each call
   * resumes where the previous one stopped (the position is kept in the store) and starts over past the end. The
   * reconciler's net for a record an eventually consistent index does not (yet, or ever) list under its status.
   */
  sweep?(limit: number): Promise<ClusterRecord[]>;
}
