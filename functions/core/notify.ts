/**
 * Notifications per request: the request's `notify` targets (at most 5), each a signed webhook or an SNS topic, hear
 * of its Cluster Ready, Cluster Provisioning Failed, Cluster Waiting For Capacity and Cluster Deleted events. The
 * `notify` function is subscribed to those events on the project's bus; it reads the record (the request, `notify`
 * included, is recorded as submitted: a webhook names its secret, never holds it) and delivers to each target.
 *
 * What is here, with no SDK and no network:
 * - the rules of a target, at its pointer: `notifyErrors` (the request's own rules, checked by validate.ts) and
 *   `notifyPolicyErrors` (the deployment's: its secret prefix, its SNS topics, loopback only on the local stack);
 * - which addresses a webhook may reach (`addressKind`): literal hosts at validation, the resolved addresses at send
 *   time (functions/adapters/notify-webhook.ts), so no request can point the function at the instance metadata
 *   service or anything else private;
 * - the delivery: one message per event, sent to every target with in-function retries (jittered, growing backoff) for
 *   what may pass (5xx, 429, timeouts, a refused connection); a target that still fails fails the invocation, so Lambda's
 *   asynchronous retries and then the on-failure destination (a dead-letter queue with an alarm) take over.
 */
import { DETAIL_TYPES, EVENT_SOURCE } from './events';
import type { FieldError } from './errors';
import type { NotifyTarget } from './request';
import type { ClusterRecord } from './store';

export const MAX_NOTIFY_TARGETS = 5;

export type { NotifyTarget } from './request';

/** The detail-types a target is told of. */
export const NOTIFIED_DETAIL_TYPES = [DETAIL_TYPES.ready, DETAIL_TYPES.failed, DETAIL_TYPES.waiting, DETAIL_TYPES.deleted] as const;

// ---------------------------------------------------------------------------------------------------------------------
// Addresses.

export type AddressKind = 'public' | 'loopback' | 'private' | 'link-local' | 'reserved' | 'not-an-ip';

const ipv4 = (text: string): number[] | undefined => {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : Number.NaN));
  return bytes.every((b) => b >= 0 && b <= 255) ? bytes : undefined;
};

/** The 8 groups of an IPv6 address (a zone id dropped, an embedded IPv4 tail converted), or undefined. */
const ipv6 = (raw: string): number[] | undefined => {
  const text = raw.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!text.includes(':') || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let body = text;
  const lastColon = body.lastIndexOf(':');
  if (body.slice(lastColon + 1).includes('.')) {
    // An embedded IPv4 tail (::ffff:10.0.0.1) becomes its two groups.
    const v4 = ipv4(body.slice(lastColon + 1));
    if (!v4) return undefined;
    body = `${body.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const group = (part: string) => (part === '' ? [] : part.split(':'));
  const head = group(halves[0]!);
  const rest = halves.length === 2 ? group(halves[1]!) : [];
  if ([...head, ...rest].some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const known = head.length + rest.length;
  if (halves.length === 1 ? known !== 8 : known > 7) return undefined;
  const zeros = new Array<number>(8 - known).fill(0);
  return [...head.map((g) => Number.parseInt(g, 16)), ...zeros, ...rest.map((g) => Number.parseInt(g, 16))];
};

const kindOfIpv4 = ([a, b, c]: number[]): AddressKind => {
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && b! >= 16 && b! <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 169 && b === 254) return 'link-local';
  if (a === 100 && b! >= 64 && b! <= 127) return 'private'; // carrier-grade NAT (RFC 6598)
  // This network, multicast and above, IETF protocol assignments (192.0.0.0/24), benchmarking (198.18.0.0/15).
  if (a === 0 || a! >= 224 || (a === 192 && b === 0 && c === 0) || (a === 198 && (b === 18 || b === 19))) return 'reserved';
  return 'public';
};

/**
 * What an address is: `public`, or why a webhook may not reach it. IPv4 (dotted), IPv6 (with or without brackets,
 * with an embedded IPv4 tail), IPv4-mapped and IPv4-compatible IPv6 (judged as the IPv4 they carry), NAT64 of a private
 * IPv4 likewise, 6to4 and Teredo by the IPv4 addresses they embed. Anything else is `not-an-ip`.
 */
export const addressKind = (address: string): AddressKind => {
  const v4 = ipv4(address);
  if (v4) return kindOfIpv4(v4);
  const g = ipv6(address);
  if (!g) return 'not-an-ip';
  const embedded = [g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff];
  const firstSix = g.slice(0, 6);
  if (firstSix.every((x) => x === 0)) {
    if (g[6] === 0 && g[7] === 1) return 'loopback'; // ::1
    if (g[6] === 0 && g[7] === 0) return 'reserved'; // ::
    return kindOfIpv4(embedded); // IPv4-compatible (deprecated), judged by what it carries
  }
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return kindOfIpv4(embedded); // IPv4-mapped ::ffff:a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b) return kindOfIpv4(embedded) === 'public' ? 'public' : 'private'; // NAT64
  // 6to4 (2002::/16, RFC 3056): the IPv4 it tunnels to is groups 1 and 2.
  if (g[0] === 0x2002) return kindOfIpv4([g[1]! >> 8, g[1]! & 0xff, g[2]! >> 8, g[2]! & 0xff]);
  if (g[0] === 0x2001 && g[1] === 0) {
    // Teredo (2001::/32, RFC 4380): the server's IPv4 in groups 2 and 3, the client's in the last two, inverted.
    const server = kindOfIpv4([g[2]! >> 8, g[2]! & 0xff, g[3]! >> 8, g[3]! & 0xff]);
    const client = kindOfIpv4(embedded.map((b) => b ^ 0xff));
    return client !== 'public' ? client : server;
  }
  if ((g[0]! & 0xfe00) === 0xfc00) return 'private'; // unique local fc00::/7
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local'; // fe80::/10
  if ((g[0]! & 0xffc0) === 0xfec0) return 'private'; // site-local (deprecated)
  if ((g[0]! & 0xff00) === 0xff00) return 'reserved'; // multicast
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'reserved'; // documentation
  return 'public';
};

/** Names that mean this machine or a cloud's metadata service, whatever DNS would say of them. */
const WELL_KNOWN_NAMES: ReadonlyArray<{ name: RegExp; kind: AddressKind }> = [
  { name: /^(localhost|localhost\.localdomain|ip6-localhost|ip6-loopback)$|\.localhost$/, kind: 'loopback' },
  {
    name: /^(metadata|metadata\.google\.internal|metadata\.goog|instance-data|instance-data\.ec2\.internal|metadata\.azure\.com)$/,
    kind: 'link-local',
  },
  { name: /\.(internal|local|localdomain|home\.arpa)$|^[^.]+$/, kind: 'private' },
];

/** What a URL's host names: the kind of a literal address, of a well-known name, or `not-an-ip` (DNS decides at send time). */
export const hostKind = (hostname: string): AddressKind => {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  const literal = addressKind(host);
  if (literal !== 'not-an-ip') return literal;
  return WELL_KNOWN_NAMES.find((w) => w.name.test(host))?.kind ?? 'not-an-ip';
};

const KIND_WORDS: Readonly<Record<AddressKind, string>> = {
  public: 'a public address',
  loopback: 'a loopback address',
  private: 'a private address',
  'link-local': 'a link-local address (the instance metadata service lives there)',
  reserved: 'a reserved address',
  'not-an-ip': 'a name',
};

export const describeKind = (kind: AddressKind): string => KIND_WORDS[kind];

// ---------------------------------------------------------------------------------------------------------------------
// The request's rules (validate.ts) and the deployment's (policy).

/** Secrets Manager secret names: 1..512 of letters, digits and /_+=.@- (the service's own rule). */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
/** An SNS topic ARN (a standard or FIFO topic; not a subscription, an application or an endpoint). */
const TOPIC_ARN =
  /^arn:aws(-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f)?:sns:[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const own = (value: Record<string, unknown>, key: string): unknown => (Object.hasOwn(value, key) ? value[key] : undefined);

/** The URL of a webhook, or why it is not one a target may name (deployment-independent rules). */
const webhookProblem = (text: string): string | undefined => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute https URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `must be an https URL (got ${url.protocol.replace(/:$/, '')})`;
  if (url.username || url.password) return 'must not carry credentials (user:password@): the body is signed with the secret instead';
  if (!url.hostname) return 'must name a host';
  const kind = hostKind(url.hostname);
  if (kind !== 'public' && kind !== 'not-an-ip' && kind !== 'loopback')
    return `must not name ${describeKind(kind)}: webhooks go to public addresses only`;
  if (url.protocol === 'http:' && kind !== 'loopback') return 'must be an https URL (http only to a loopback address, on the local stack)';
  return undefined;
};

/** Every deployment-independent problem of a request's `notify`, at its pointer (the schema checked the shape). */
export const notifyErrors = (notify: unknown): FieldError[] => {
  if (!Array.isArray(notify)) return [];
  const errors: FieldError[] = [];
  const seen = new Map<string, string>();
  notify.forEach((target, i) => {
    const at = `/notify/${i}`;
    if (!isObject(target)) return;
    const webhook = own(target, 'webhook');
    const secret = own(target, 'secret');
    const sns = own(target, 'sns');
    let key: string | undefined;
    if (typeof webhook === 'string') {
      const problem = webhookProblem(webhook);
      if (problem) errors.push({ path: `${at}/webhook`, message: problem });
      if (secret === undefined)
        errors.push({ path: `${at}/secret`, message: 'is required with webhook: the body is signed with its value' });
      else if (typeof secret === 'string' && !SECRET_NAME.test(secret))
        errors.push({ path: `${at}/secret`, message: 'must be a Secrets Manager secret name: 1 to 512 of A-Z a-z 0-9 / _ + = . @ -' });
      key = `webhook ${canonicalUrl(webhook)}`;
    } else if (typeof sns === 'string') {
      if (secret !== undefined) errors.push({ path: `${at}/secret`, message: 'applies only to a webhook target' });
      if (!TOPIC_ARN.test(sns))
        errors.push({ path: `${at}/sns`, message: 'must be an SNS topic ARN: arn:aws:sns:<region>:<account>:<topic name>' });
      key = `sns ${sns}`;
    }
    if (key === undefined) return;
    const earlier = seen.get(key);
    if (earlier !== undefined)
      errors.push({ path: `${at}/${typeof webhook === 'string' ? 'webhook' : 'sns'}`, message: `duplicates ${earlier}: each target once` });
    else seen.set(key, `${at}/${typeof webhook === 'string' ? 'webhook' : 'sns'}`);
  });
  return errors;
};

const canonicalUrl = (text: string): string => {
  try {
    return new URL(text).href;
  } catch {
    return text;
  }
};

/** What a deployment lets `notify` name (serverless.yml params notifySecretPrefix, notifySnsTopics). */
export interface NotifyPolicy {
  /** Webhook secrets must be named with this prefix (the notify function may read only those). */
  secretPrefix: string;
  /** Topic ARNs, each exact or a prefix ending in `*` (the notify function may publish only to those). */
  snsTopics: readonly string[];
  /** Loopback webhooks, over http too: the local stack only (NOTIFY_ALLOW_LOOPBACK); never when deployed. */
  allowLoopback: boolean;
}

const allowedBy = (list: readonly string[], value: string): boolean =>
  list.some((entry) => (entry.endsWith('*') ? value.startsWith(entry.slice(0, -1)) : value === entry));

/** Every target of a valid request the deployment does not allow, at its pointer. */
export const notifyPolicyErrors = (policy: NotifyPolicy, notify: readonly NotifyTarget[] | undefined): FieldError[] => {
  const errors: FieldError[] = [];
  (notify ?? []).forEach((target, i) => {
    const at = `/notify/${i}`;
    if ('webhook' in target) {
      if (!policy.allowLoopback && hostKind(new URL(target.webhook).hostname) === 'loopback')
        errors.push({ path: `${at}/webhook`, message: `must not name ${describeKind('loopback')}: webhooks go to public addresses only` });
      if (!target.secret.startsWith(policy.secretPrefix))
        errors.push({ path: `${at}/secret`, message: `must start with the deployment's notifySecretPrefix (${policy.secretPrefix})` });
    } else if (!allowedBy(policy.snsTopics, target.sns)) {
      const listed = policy.snsTopics.length === 0 ? 'none' : policy.snsTopics.join(', ');
      errors.push({ path: `${at}/sns`, message: `must be one of the deployment's notifySnsTopics (${listed})` });
    }
  });
  return errors;
};

// ---------------------------------------------------------------------------------------------------------------------
// Delivery.

/** A delivery that may pass if tried again (5xx, 429, a timeout, a refused connection, throttling). */
export class NotifyTransientError extends Error {
  override readonly name = 'NotifyTransientError';
}
/** A delivery that will not pass as it is (4xx, a refused address, a missing secret, a topic that is not there). */
export class NotifyRejectedError extends Error {
  override readonly name = 'NotifyRejectedError';
}
/** Some target could not be told after the in-function retries: the invocation fails (Lambda retries, then the DLQ). */
export class NotificationFailedError extends Error {
  override readonly name = 'NotificationFailedError';
  constructor(
    message: string,
    /** What happened to each target (for the handler's log lines). */
    readonly report: NotifyReport,
  ) {
    super(message);
  }
}

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
const ANNOUNCED_STATUS: Readonly<Record<(typeof NOTIFIED_DETAIL_TYPES)[number], ClusterRecord['status']>> = {
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

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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

const hostOf = (url: string): string => {
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

const deliver = async (
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
