/** The delivery: one message per event, sent to every target with in-function retries. */
import { NotificationFailedError, NotifyTransientError } from '../errors';
import { DETAIL_TYPES, EVENT_SOURCE } from '../events';
import type { NotifyTarget } from '../request';
import type { ClusterRecord } from '../store';

/** The detail-types a target is told of. */
export const NOTIFIED_DETAIL_TYPES = [DETAIL_TYPES.ready, DETAIL_TYPES.failed, DETAIL_TYPES.waiting, DETAIL_TYPES.deleted] as const;

/** The body every target gets: the event as the bus carried it, in a versioned envelope. */
export interface NotificationMessage {
  version: '1';
  /** The EventBridge event id: the same across retries, so a receiver can drop a repeat. */
  id: string;
  type: string;
  source: string;
  time: string;
  requestId: string;
  detail: Record<string, unknown>;
}

export interface WebhookSender {
  /** POSTs `body` signed with the value of `secretName`; throws NotifyTransientError or NotifyRejectedError. */
  send(url: string, secretName: string, body: string, eventId: string): Promise<{ status: number }>;
}
export interface TopicPublisher {
  /** Publishes `body`; throws NotifyTransientError or NotifyRejectedError. */
  publish(topicArn: string, body: string, attributes: { type: string; requestId: string }): Promise<{ messageId?: string }>;
}

export interface NotifyDeps {
  store: { get(requestId: string): Promise<ClusterRecord | undefined> };
  webhooks: WebhookSender;
  topics: TopicPublisher;
  /** Attempts per target in one invocation (default 3). */
  attempts?: number;
  /** First backoff, doubled per retry with full jitter (default 500 ms). */
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface BusEvent {
  id: string;
  'detail-type': string;
  source: string;
  time: string;
  detail: Record<string, unknown>;
}

export interface TargetOutcome {
  target: number;
  kind: 'webhook' | 'sns';
  /** Where to: the webhook's host or the topic ARN (never a secret, never the path of a webhook URL). */
  to: string;
  outcome: 'delivered' | 'failed';
  attempts: number;
  status?: number;
  error?: { name: string; message: string };
}

export interface NotifyReport {
  requestId?: string;
  outcomes: TargetOutcome[];
  /** Why nothing was sent, when nothing was. */
  skipped?: 'not-notified' | 'no-record' | 'no-targets' | 'disagrees-with-record';
  /** With `disagrees-with-record`: what the event said that the record does not. */
  refused?: string;
}

/** The status a notified event announces: the record must have reached it. */
export const ANNOUNCED_STATUS: Readonly<Record<(typeof NOTIFIED_DETAIL_TYPES)[number], ClusterRecord['status']>> = {
  [DETAIL_TYPES.ready]: 'READY',
  [DETAIL_TYPES.failed]: 'FAILED',
  [DETAIL_TYPES.waiting]: 'WAITING_FOR_CAPACITY',
  [DETAIL_TYPES.deleted]: 'DELETED',
};

/**
 * What an event says that its request's record does not, or undefined when they agree. Only the workflows put these
 * events, each built from the record as it was written (functions/core/events.ts), so a genuine one always agrees:
 * the record has reached the status announced, and names the same provider, place, cluster and acceptance. Anything
 * else was put by someone else, and is not told to anyone.
 */
export const eventDisagreement = (event: BusEvent, record: ClusterRecord): string | undefined => {
  if (event.source !== EVENT_SOURCE) return `source ${JSON.stringify(event.source)} is not ${EVENT_SOURCE}`;
  const detail = event.detail;
  const status = ANNOUNCED_STATUS[event['detail-type'] as keyof typeof ANNOUNCED_STATUS];
  if (detail.status !== status) return `detail status ${JSON.stringify(detail.status)} is not ${status}`;
  if (record.status !== status && !record.history.some((entry) => entry.to === status))
    return `the record never was ${status} (it is ${record.status})`;
  const same: Array<[string, unknown, unknown]> = [
    ['provider', detail.provider, record.provider],
    ['clusterName', detail.clusterName, record.clusterName],
    ['region', detail.region, record.region],
    ['projectId', detail.projectId, record.projectId],
    ['location', detail.location, record.location],
    ['timestamps.acceptedAt', (detail.timestamps as { acceptedAt?: unknown } | undefined)?.acceptedAt, record.acceptedAt],
  ];
  for (const [field, said, recorded] of same) if (said !== recorded) return `${field} is not the record's`;
  if (detail.providerId !== undefined) {
    const known = [record.providerId, ...(record.discardedClusters ?? []).map((d) => d.providerId)];
    if (!known.includes(detail.providerId as string)) return 'providerId is not a cluster of the record';
  }
  if (status === 'READY' && record.readyAt === undefined) return 'the record has no readyAt';
  return undefined;
};

export const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The targets of a record's request (as recorded: validated at submit). */
export const targetsOf = (record: ClusterRecord): NotifyTarget[] => {
  const notify = (record.request as { notify?: unknown }).notify;
  return Array.isArray(notify) ? (notify as NotifyTarget[]) : [];
};

export const notificationMessage = (event: BusEvent, requestId: string): NotificationMessage => ({
  version: '1',
  id: event.id,
  type: event['detail-type'],
  source: event.source,
  time: event.time,
  requestId,
  detail: event.detail,
});

export const hostOf = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return '?';
  }
};

/**
 * Tells every target of the event's request. Returns what happened to each; throws NotificationFailedError (after
 * every target was tried) when any still failed, so the invocation fails and is retried as a whole. A receiver may so
 * see an event twice: the message's `id` (and the X-Provisioner-Event-Id header) is the same each time.
 */
export const notify = async (deps: NotifyDeps, event: BusEvent): Promise<NotifyReport> => {
  if (!(NOTIFIED_DETAIL_TYPES as readonly string[]).includes(event['detail-type'])) return { outcomes: [], skipped: 'not-notified' };
  const requestId = typeof event.detail.requestId === 'string' ? event.detail.requestId : undefined;
  const record = requestId ? await deps.store.get(requestId) : undefined;
  if (!record || !requestId) return { ...(requestId ? { requestId } : {}), outcomes: [], skipped: 'no-record' };
  const targets = targetsOf(record);
  if (targets.length === 0) return { requestId, outcomes: [], skipped: 'no-targets' };
  const refused = eventDisagreement(event, record);
  if (refused) return { requestId, outcomes: [], skipped: 'disagrees-with-record', refused };
  const body = JSON.stringify(notificationMessage(event, requestId));
  const outcomes = await Promise.all(targets.map((target, i) => deliver(deps, target, i, body, event, requestId)));
  const failed = outcomes.filter((o) => o.outcome === 'failed');
  if (failed.length > 0) {
    throw new NotificationFailedError(
      `${failed.length} of ${outcomes.length} notification target(s) of ${requestId} failed: ` +
        failed.map((f) => `#${f.target} ${f.kind} ${f.to}: ${f.error?.name}: ${f.error?.message}`).join('; '),
      { requestId, outcomes },
    );
  }
  return { requestId, outcomes };
};

export const deliver = async (
  deps: NotifyDeps,
  target: NotifyTarget,
  index: number,
  body: string,
  event: BusEvent,
  requestId: string,
): Promise<TargetOutcome> => {
  const attempts = Math.max(1, deps.attempts ?? 3);
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const base = deps.baseDelayMs ?? 500;
  const kind = 'webhook' in target ? 'webhook' : 'sns';
  const to = 'webhook' in target ? hostOf(target.webhook) : target.sns;
  let last: Error | undefined;
  let made = 0;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    made = attempt;
    try {
      if ('webhook' in target) {
        const { status } = await deps.webhooks.send(target.webhook, target.secret, body, event.id);
        return { target: index, kind, to, outcome: 'delivered', attempts: attempt, status };
      }
      await deps.topics.publish(target.sns, body, { type: event['detail-type'], requestId });
      return { target: index, kind, to, outcome: 'delivered', attempts: attempt };
    } catch (err) {
      last = err instanceof Error ? err : new Error(String(err));
      if (!(err instanceof NotifyTransientError) || attempt === attempts) break;
      // Full jitter over a doubling ceiling: 0..base, 0..2*base, ...
      await sleep(Math.floor(random() * base * 2 ** (attempt - 1)));
    }
  }
  return {
    target: index,
    kind,
    to,
    outcome: 'failed',
    attempts: made,
    error: { name: last?.name ?? 'Error', message: last?.message ?? 'unknown' },
  };
};
