/**
 * Completion events. The tasks build the entries; the state machines put them on the bus
 * (`arn:aws:states:::events:putEvents`). Schemas: ./event-schemas/*.schema.json (every event the tests see is checked against them).
 */
import type { ClusterRecord, RecordedError } from './store';

export const EVENT_SOURCE = 'gpu-cluster-provisioner';

export const DETAIL_TYPES = {
  ready: 'Cluster Ready',
  failed: 'Cluster Provisioning Failed',
  deleted: 'Cluster Deleted',
  deleteFailed: 'Cluster Deletion Failed',
  rejected: 'Cluster Request Rejected',
  requested: 'Provision Cluster Requested',
  orphan: 'Orphan Cluster Found',
  waiting: 'Cluster Waiting For Capacity',
} as const;

export type DetailType = (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES];

/** One PutEvents entry. `Detail` stays an object here; Step Functions and the EventBridge adapter serialize it. */
export interface EventEntry {
  Source: string;
  DetailType: DetailType;
  Detail: Record<string, unknown>;
  EventBusName: string;
}

export interface ClusterEventDetail {
  requestId: string;
  provider: ClusterRecord['provider'];
  region?: string;
  projectId?: number;
  location?: string;
  clusterName: string;
  providerId?: string;
  status: ClusterRecord['status'];
  attempts: number;
  timestamps: {
    acceptedAt: string;
    createdAt?: string;
    readyAt?: string;
    failedAt?: string;
    deletedAt?: string;
  };
  /** Whole seconds. `total` runs from acceptance to this event; `provisioning` from the provider's create to READY. */
  durationsSeconds: { total: number; provisioning?: number };
  error?: { name: string; message: string };
  /** Cluster Ready: instances up and wanted, in all and per group (which types came up, for flexible groups). */
  nodes?: ClusterRecord['nodes'];
  groups?: ClusterRecord['groups'];
  /** Cluster Deleted: `cancelled` when a DELETE cancelled the provisioning. */
  reason?: 'cancelled';
}

const seconds = (from?: string, to?: string): number | undefined =>
  from && to ? Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000)) : undefined;

export const clusterEventDetail = (record: ClusterRecord, at: string): ClusterEventDetail => {
  const provisioning = seconds(record.createdAt, record.readyAt);
  const detail: ClusterEventDetail = {
    requestId: record.requestId,
    provider: record.provider,
    ...(record.region !== undefined ? { region: record.region } : {}),
    ...(record.projectId !== undefined ? { projectId: record.projectId, location: record.location } : {}),
    clusterName: record.clusterName,
    ...(record.providerId !== undefined ? { providerId: record.providerId } : {}),
    status: record.status,
    attempts: record.attempts,
    timestamps: {
      acceptedAt: record.acceptedAt,
      ...(record.createdAt ? { createdAt: record.createdAt } : {}),
      ...(record.readyAt ? { readyAt: record.readyAt } : {}),
      ...(record.failedAt ? { failedAt: record.failedAt } : {}),
      ...(record.deletedAt ? { deletedAt: record.deletedAt } : {}),
    },
    durationsSeconds: { total: seconds(record.acceptedAt, at) ?? 0, ...(provisioning !== undefined ? { provisioning } : {}) },
  };
  if (record.status === 'FAILED' && record.lastError) detail.error = { name: record.lastError.name, message: record.lastError.message };
  if (record.status === 'READY') {
    if (record.nodes) detail.nodes = record.nodes;
    if (record.groups) detail.groups = record.groups;
  }
  if (record.status === 'DELETED' && record.cancelledAt) detail.reason = 'cancelled';
  return detail;
};

export const eventEntry = (busName: string, detailType: DetailType, detail: object): EventEntry => ({
  Source: EVENT_SOURCE,
  DetailType: detailType,
  Detail: detail as Record<string, unknown>,
  EventBusName: busName,
});

/** Port for putting events from Lambda code (the rejection events of the entry points). */
export interface EventPublisher {
  publish(entries: EventEntry[]): Promise<void>;
}

/**
 * Cluster Waiting For Capacity: the request's first wait (the record enters WAITING_FOR_CAPACITY), and each change of
 * its wait reason (capacity -> quota, ...), also across a create in between. `wait` says why, at which attempt and
 * until when at the latest the next attempt comes. A wait for the same reason as the last one (the next backoff round,
 * the next placement, a create that rolled back for capacity again) is not announced again, unless it found new
 * reserved-capacity suggestions (`wait.reservedOffers`, ./offers.ts).
 */
export interface WaitingEventDetail extends ClusterEventDetail {
  wait: {
    reason: NonNullable<RecordedError['reason']>;
    /** The reason of the wait this one replaces (absent when the record just entered the wait). */
    previousReason?: NonNullable<RecordedError['reason']>;
    attempt?: number;
    nextAttemptAt?: string;
    error: { name: string; message: string };
    quota?: RecordedError['quota'];
    /**
     * Reserved capacity found while waiting (training-plan offerings, never bought), each with its source and date.
     * A wait announces again, for the same reason, when it finds new suggestions.
     */
    reservedOffers?: ClusterRecord['reservedOffers'];
  };
}

const WAITING = 'WAITING_FOR_CAPACITY';

/** The Cluster Waiting For Capacity entry a move from `before` to `after` calls for, if any. */
export const waitingEventEntry = (busName: string, before: ClusterRecord, after: ClusterRecord, at: string): EventEntry | undefined => {
  const last = after.lastError;
  if (after.status !== WAITING || !last?.reason) return undefined;
  // The reason of the request's last wait, if it waited before (a create or a poll in between keeps it as lastError).
  const previousReason = before.lastError?.reason;
  const offers = after.reservedOffers;
  const newOffers = offers !== undefined && offers.suggestions.length > 0 && offers.at !== before.reservedOffers?.at;
  if (previousReason === last.reason && !newOffers) return undefined;
  const detail: WaitingEventDetail = {
    ...clusterEventDetail(after, at),
    wait: {
      reason: last.reason,
      ...(previousReason && previousReason !== last.reason ? { previousReason } : {}),
      ...(last.attempt !== undefined ? { attempt: last.attempt } : {}),
      ...(last.nextAttemptAt ? { nextAttemptAt: last.nextAttemptAt } : {}),
      error: { name: last.name, message: last.message },
      ...(last.quota ? { quota: last.quota } : {}),
      ...(offers && offers.suggestions.length > 0 ? { reservedOffers: offers } : {}),
    },
  };
  return eventEntry(busName, DETAIL_TYPES.waiting, detail);
};

/**
 * Puts the waiting event of a move on the bus, when the move calls for one. The wait is recorded whatever happens
 * here: a bus that refuses is reported to `onWarning` and changes nothing (a failed task would be retried and would
 * create again).
 */
export const announceWaiting = async (
  deps: {
    events?: EventPublisher;
    eventBusName: string;
    onWarning?: (message: string, details: Record<string, unknown>) => void;
  },
  before: ClusterRecord,
  after: ClusterRecord,
  at: string,
): Promise<void> => {
  const entry = deps.events ? waitingEventEntry(deps.eventBusName, before, after, at) : undefined;
  if (!entry) return;
  try {
    await deps.events!.publish([entry]);
  } catch (err) {
    const { name, message } = err as Error;
    deps.onWarning?.('Could not put the Cluster Waiting For Capacity event on the bus', {
      requestId: after.requestId,
      error: { name, message },
    });
  }
};
