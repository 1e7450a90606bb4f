import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DETAIL_TYPES, announceWaiting, clusterEventDetail, waitingEventEntry, type EventEntry } from '../../functions/core/events';
import { NotificationFailedError, NotifyRejectedError, NotifyTransientError } from '../../functions/core/errors';
import REQUEST_SCHEMA from '../../functions/contract/request.schema.json' with { type: 'json' };
import {
  MAX_NOTIFY_TARGETS,
  addressKind,
  hostKind,
  notify,
  notifyPolicyErrors,
  type BusEvent,
  type NotifyDeps,
  type NotifyPolicy,
} from '../../functions/core/notify';
import { checkPolicy } from '../../functions/core/policy';
import type { ClusterRecord } from '../../functions/core/store';
import { validateRequest } from '../../functions/core/validate';
import { assertEventMatchesSchema } from '../helpers/event-schemas';

const example = JSON.parse(readFileSync(new URL('../../examples/hyperpod-minimal.json', import.meta.url), 'utf8')) as Record<
  string,
  unknown
>;
const withNotify = (notify: unknown) => ({ ...example, notify });
const pathsOf = (input: unknown) => validateRequest(input).errors.map((e) => e.path);

describe('addressKind', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'reserved'],
    ['224.0.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::', 'reserved'],
    ['fd00::1', 'private'],
    ['fc12:3456::1', 'private'],
    ['fe80::1%eth0', 'link-local'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::a00:1', 'private'],
    ['fd00:ec2::254', 'private'],
    // 6to4 (2002:<IPv4>::/48) and Teredo (2001:0:<server IPv4>:<flags>:<port>:<client IPv4 inverted>).
    ['2002:a9fe:a9fe::1', 'link-local'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:c0a8:101::1', 'private'],
    ['2002:808:808::1', 'public'],
    ['2001:0:4136:e378:8000:63bf:f5ff:fffe', 'private'], // client 10.0.0.1
    ['2001:0:4136:e378:8000:63bf:5601:5601', 'link-local'], // client 169.254.169.254
    ['2001:0:a00:1:8000:63bf:f7f7:f7f7', 'private'], // server 10.0.0.1, client 8.8.8.8
    ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', 'public'], // server 65.54.227.120, client 8.8.8.8
    ['2606:4700:4700::1111', 'public'],
    ['hooks.example.com', 'not-an-ip'],
    ['1:2:3:4:5:6:7:8:9', 'not-an-ip'],
  ])('%s is %s', (address, kind) => {
    expect(addressKind(address)).toBe(kind);
  });

  it('knows the names of this machine and of metadata services', () => {
    expect(hostKind('localhost')).toBe('loopback');
    expect(hostKind('api.localhost')).toBe('loopback');
    expect(hostKind('metadata.google.internal')).toBe('link-local');
    expect(hostKind('instance-data.ec2.internal')).toBe('link-local');
    expect(hostKind('db.internal')).toBe('private');
    expect(hostKind('intranet')).toBe('private');
    expect(hostKind('hooks.example.com')).toBe('not-an-ip');
  });
});

describe('notify, validated with the request', () => {
  it('allows at most MAX_NOTIFY_TARGETS targets in the schema', () => {
    expect((REQUEST_SCHEMA.properties as Record<string, { maxItems?: number }>).notify?.maxItems).toBe(MAX_NOTIFY_TARGETS);
  });

  it('accepts webhooks and SNS topics', () => {
    const result = validateRequest(
      withNotify([
        { webhook: 'https://hooks.example.com/provisioner', secret: 'provisioner/notify/team-a' },
        { sns: 'arn:aws:sns:us-east-1:123456789012:provisioner-notify-ops' },
        { sns: 'arn:aws:sns:us-east-1:123456789012:provisioner-notify-ops.fifo' },
      ]),
    );
    expect(result.errors).toEqual([]);
  });

  it('answers the rules the schema states about a target in words of their own', () => {
    const messageOf = (target: object) => validateRequest(withNotify([target])).errors.map((e) => [e.path, e.message]);
    expect(messageOf({ webhook: 'https://hooks.example.com/' })).toEqual([
      ['/notify/0/secret', 'is required with webhook: the body is signed with its value'],
    ]);
    expect(messageOf({ webhook: 'https://hooks.example.com/', secret: 'has space' })).toEqual([
      ['/notify/0/secret', 'must be a Secrets Manager secret name: 1 to 512 of A-Z a-z 0-9 / _ + = . @ -'],
    ]);
    expect(messageOf({ sns: 'arn:aws:sns:us-east-1:123456789012:t', secret: 'x' })).toEqual([
      ['/notify/0/secret', 'applies only to a webhook target'],
    ]);
    expect(messageOf({ sns: 'arn:aws:sqs:us-east-1:123456789012:queue' })).toEqual([
      ['/notify/0/sns', 'must be an SNS topic ARN: arn:aws:sns:<region>:<account>:<topic name>'],
    ]);
  });

  it('refuses private, loopback and link-local webhooks at their pointer, literal or by a well-known name', () => {
    const bad = [
      'https://169.254.169.254/latest/meta-data/',
      'https://10.0.0.5/hook',
      'https://[::ffff:169.254.169.254]/',
      'https://[fd00::1]/',
      'https://metadata.google.internal/',
      'https://2852039166/', // 169.254.169.254 as one number: URL parsing normalises it
    ];
    for (const webhook of bad)
      expect(pathsOf(withNotify([{ webhook, secret: 'provisioner/notify/s' }])), webhook).toEqual(['/notify/0/webhook']);
  });

  it('refuses http except to loopback, credentials in the URL, a missing or malformed secret, a non-topic ARN, duplicates, and more than 5', () => {
    expect(pathsOf(withNotify([{ webhook: 'http://hooks.example.com/', secret: 'provisioner/notify/a' }]))).toEqual(['/notify/0/webhook']);
    expect(pathsOf(withNotify([{ webhook: 'http://127.0.0.1:9000/', secret: 'provisioner/notify/a' }]))).toEqual([]);
    expect(pathsOf(withNotify([{ webhook: 'https://u:p@hooks.example.com/', secret: 'provisioner/notify/a' }]))).toEqual([
      '/notify/0/webhook',
    ]);
    expect(pathsOf(withNotify([{ webhook: 'ftp://hooks.example.com/', secret: 'provisioner/notify/a' }]))).toEqual(['/notify/0/webhook']);
    expect(pathsOf(withNotify([{ webhook: 'https://hooks.example.com/' }]))).toEqual(['/notify/0/secret']);
    expect(pathsOf(withNotify([{ webhook: 'https://hooks.example.com/', secret: 'has space' }]))).toEqual(['/notify/0/secret']);
    expect(pathsOf(withNotify([{ sns: 'arn:aws:sns:us-east-1:123456789012:topic:5f1e-subscription-id' }]))).toEqual(['/notify/0/sns']);
    expect(pathsOf(withNotify([{ sns: 'arn:aws:sqs:us-east-1:123456789012:queue' }]))).toEqual(['/notify/0/sns']);
    expect(pathsOf(withNotify([{ sns: 'arn:aws:sns:us-east-1:123456789012:t', secret: 'x' }]))).toEqual(['/notify/0/secret']);
    expect(
      pathsOf(
        withNotify([
          { webhook: 'https://hooks.example.com/a', secret: 'provisioner/notify/a' },
          { webhook: 'https://HOOKS.example.com/a', secret: 'provisioner/notify/b' },
          { sns: 'arn:aws:sns:us-east-1:123456789012:t' },
          { sns: 'arn:aws:sns:us-east-1:123456789012:t' },
        ]),
      ),
    ).toEqual(['/notify/1/webhook', '/notify/3/sns']);
    expect(pathsOf(withNotify([{ webhook: 'https://a.example.com', sns: 'arn:aws:sns:us-east-1:123456789012:t', secret: 's' }]))).toContain(
      '/notify/0/sns',
    );
    expect(pathsOf(withNotify([{}]))).toEqual(['/notify/0']);
    expect(pathsOf(withNotify([{ webhook: 'https://a.example.com', secret: 'a', extra: 1 }]))).toEqual(['/notify/0/extra']);
    expect(pathsOf(withNotify(Array.from({ length: 6 }, (_, i) => ({ sns: `arn:aws:sns:us-east-1:123456789012:t${i}` }))))).toEqual([
      '/notify',
    ]);
  });
});

describe("notify, against the deployment's policy", () => {
  const policy: NotifyPolicy = {
    secretPrefix: 'provisioner/notify/',
    snsTopics: ['arn:aws:sns:us-east-1:123456789012:provisioner-notify-*', 'arn:aws:sns:us-east-1:123456789012:ops'],
    allowLoopback: false,
  };
  it('wants the secret under the prefix, the topic on the list, and no loopback unless the stack allows it', () => {
    const notifyList = [
      { webhook: 'https://hooks.example.com/', secret: 'other/secret' },
      { sns: 'arn:aws:sns:us-east-1:123456789012:billing' },
      { sns: 'arn:aws:sns:us-east-1:123456789012:ops' },
      { sns: 'arn:aws:sns:us-east-1:123456789012:provisioner-notify-x' },
      { webhook: 'http://127.0.0.1:8080/', secret: 'provisioner/notify/a' },
    ];
    expect(notifyPolicyErrors(policy, notifyList).map((e) => e.path)).toEqual(['/notify/0/secret', '/notify/1/sns', '/notify/4/webhook']);
    expect(notifyPolicyErrors({ ...policy, allowLoopback: true }, notifyList).map((e) => e.path)).toEqual([
      '/notify/0/secret',
      '/notify/1/sns',
    ]);
  });

  it('is part of the submit check (checkPolicy)', () => {
    const request = validateRequest(withNotify([{ webhook: 'https://hooks.example.com/', secret: 'other/secret' }])).request!;
    const denied = checkPolicy(
      { allowedRegions: ['*'], allowedExecutionRoles: ['*'], allowedLifecycleBuckets: ['*'], notify: policy },
      request,
      'us-east-1',
    );
    expect(denied.map((e) => e.path)).toEqual(['/notify/0/secret']);
  });
});

// ------------------------------------------------------------------------------------------------ delivery

const record = (notifyList: unknown[], overrides: Partial<ClusterRecord> = {}): ClusterRecord =>
  ({
    requestId: 'req-1',
    provider: 'sagemaker',
    region: 'us-east-1',
    clusterName: 'c',
    providerId: 'arn:aws:sagemaker:us-east-1:123456789012:cluster/abc',
    status: 'READY',
    attempts: 1,
    acceptedAt: '2026-11-29T07:50:00.000Z',
    createdAt: '2026-11-29T07:51:00.000Z',
    readyAt: '2026-11-29T07:59:00.000Z',
    history: [
      { to: 'ACCEPTED', at: '2026-11-29T07:50:00.000Z' },
      { from: 'ACCEPTED', to: 'CREATING', at: '2026-11-29T07:51:00.000Z' },
      { from: 'CREATING', to: 'READY', at: '2026-11-29T07:59:00.000Z' },
    ],
    request: { ...example, notify: notifyList },
    ...overrides,
  }) as unknown as ClusterRecord;

const readyEvent: BusEvent = {
  id: 'evt-1',
  'detail-type': DETAIL_TYPES.ready,
  source: 'gpu-cluster-provisioner',
  time: '2026-11-29T08:00:00Z',
  detail: clusterEventDetail(record([]), '2026-11-29T08:00:00Z') as unknown as Record<string, unknown>,
};

const depsWith = (
  rec: ClusterRecord | undefined,
  webhook: (url: string) => Promise<{ status: number }>,
  publish: (arn: string) => Promise<{ messageId?: string }> = async () => ({ messageId: 'm' }),
) => {
  const calls: string[] = [];
  const sleeps: number[] = [];
  const deps: NotifyDeps = {
    store: { get: async () => rec },
    webhooks: {
      send: async (url, secret, body, eventId) => {
        calls.push(`webhook ${url} ${secret} ${eventId} ${JSON.parse(body).type}`);
        return webhook(url);
      },
    },
    topics: {
      publish: async (arn, _body, attrs) => {
        calls.push(`sns ${arn} ${attrs.type} ${attrs.requestId}`);
        return publish(arn);
      },
    },
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    baseDelayMs: 100,
  };
  return { deps, calls, sleeps };
};

describe('notify (delivery)', () => {
  it('sends the event to every target, retrying transient failures with a jittered, doubling backoff', async () => {
    let tries = 0;
    const { deps, calls, sleeps } = depsWith(
      record([{ webhook: 'https://hooks.example.com/x', secret: 'provisioner/notify/a' }, { sns: 'arn:aws:sns:us-east-1:1:t' }]),
      async () => {
        tries++;
        if (tries <= 2) throw new NotifyTransientError('503');
        return { status: 200 };
      },
    );
    const report = await notify(deps, readyEvent);
    expect(report.outcomes).toEqual([
      { target: 0, kind: 'webhook', to: 'hooks.example.com', outcome: 'delivered', attempts: 3, status: 200 },
      { target: 1, kind: 'sns', to: 'arn:aws:sns:us-east-1:1:t', outcome: 'delivered', attempts: 1 },
    ]);
    expect(sleeps).toEqual([50, 100]);
    expect(calls).toContain('sns arn:aws:sns:us-east-1:1:t Cluster Ready req-1');
    expect(calls.filter((c) => c.startsWith('webhook'))).toEqual(
      Array(3).fill('webhook https://hooks.example.com/x provisioner/notify/a evt-1 Cluster Ready'),
    );
  });

  it('does not retry a rejection, tries every other target, then fails the invocation naming the failures', async () => {
    const { deps, calls } = depsWith(
      record([{ webhook: 'https://hooks.example.com/x', secret: 'provisioner/notify/a' }, { sns: 'arn:aws:sns:us-east-1:1:t' }]),
      async () => {
        throw new NotifyRejectedError('The webhook at hooks.example.com answered 404');
      },
      async () => {
        throw new NotifyTransientError('Throttled');
      },
    );
    const error = await notify(deps, readyEvent).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotificationFailedError);
    const failed = (error as NotificationFailedError).report.outcomes;
    expect(failed.map((o) => [o.kind, o.outcome, o.attempts])).toEqual([
      ['webhook', 'failed', 1],
      ['sns', 'failed', 3],
    ]);
    expect((error as Error).message).toContain('answered 404');
    expect(calls.filter((c) => c.startsWith('webhook'))).toHaveLength(1);
  });

  it('sends nothing for a record without targets, a missing record, or an event it does not notify', async () => {
    const never = async () => {
      throw new Error('must not be called');
    };
    expect((await notify(depsWith(record([]), never).deps, readyEvent)).skipped).toBe('no-targets');
    expect((await notify(depsWith(undefined, never).deps, readyEvent)).skipped).toBe('no-record');
    expect(
      (await notify(depsWith(record([{ sns: 'x' }]), never).deps, { ...readyEvent, 'detail-type': DETAIL_TYPES.rejected })).skipped,
    ).toBe('not-notified');
  });
});

describe('notify (only what the record says)', () => {
  const targets = [{ webhook: 'https://hooks.example.com/x', secret: 'provisioner/notify/a' }];
  const never = async (): Promise<never> => {
    throw new Error('must not be called');
  };
  const scheduled = record(targets, {
    status: 'SCHEDULED',
    providerId: undefined,
    readyAt: undefined,
    createdAt: undefined,
    history: [{ to: 'SCHEDULED', at: '2026-11-29T07:50:00.000Z' }],
  } as Partial<ClusterRecord>);

  it('refuses an event that disagrees with the record (a forged one), and sends nothing', async () => {
    const cases: Array<[string, ClusterRecord, BusEvent, RegExp]> = [
      [
        'Cluster Ready for a SCHEDULED request',
        scheduled,
        { ...readyEvent, detail: { ...clusterEventDetail(scheduled, readyEvent.time), status: 'READY' } as Record<string, unknown> },
        /never was READY/,
      ],
      ['an invented detail', record(targets), { ...readyEvent, detail: { requestId: 'req-1', status: 'READY' } }, /provider/],
      ['another cluster', record(targets), { ...readyEvent, detail: { ...readyEvent.detail, providerId: 'arn:other' } }, /providerId/],
      ['another name', record(targets), { ...readyEvent, detail: { ...readyEvent.detail, clusterName: 'other' } }, /clusterName/],
      [
        'a status the type does not announce',
        record(targets),
        { ...readyEvent, detail: { ...readyEvent.detail, status: 'FAILED' } },
        /status/,
      ],
      [
        'Cluster Provisioning Failed for a READY request',
        record(targets),
        { ...readyEvent, 'detail-type': DETAIL_TYPES.failed, detail: { ...readyEvent.detail, status: 'FAILED' } },
        /never was FAILED/,
      ],
      ['another source', record(targets), { ...readyEvent, source: 'someone.else' }, /source/],
    ];
    for (const [what, rec, event, why] of cases) {
      const { deps, calls } = depsWith(rec, never, never);
      const report = await notify(deps, event);
      expect({ what, skipped: report.skipped, outcomes: report.outcomes }).toEqual({
        what,
        skipped: 'disagrees-with-record',
        outcomes: [],
      });
      expect(report.refused).toMatch(why);
      expect(calls).toEqual([]);
    }
  });

  it('tells a genuine event after the record moved on (READY, then DELETING)', async () => {
    const moved = record(targets, { status: 'DELETING' } as Partial<ClusterRecord>);
    const { deps, calls } = depsWith(moved, async () => ({ status: 200 }));
    expect((await notify(deps, readyEvent)).outcomes.map((o) => o.outcome)).toEqual(['delivered']);
    expect(calls).toHaveLength(1);
  });
});

// ------------------------------------------------------------------------------------------------ the waiting event

const waitingRecord = (reason: string | undefined, status = 'WAITING_FOR_CAPACITY'): ClusterRecord =>
  ({
    requestId: 'req-1',
    provider: 'sagemaker',
    region: 'us-east-1',
    clusterName: 'c',
    status,
    attempts: 2,
    acceptedAt: '2026-11-29T08:00:00.000Z',
    request: example,
    ...(reason
      ? {
          lastError: {
            name: 'InsufficientCapacityError',
            message: 'short',
            at: '2026-11-29T08:01:00.000Z',
            attempt: 2,
            reason,
            nextAttemptAt: '2026-11-29T08:02:00.000Z',
          },
        }
      : {}),
  }) as unknown as ClusterRecord;

describe('Cluster Waiting For Capacity', () => {
  it('is built for the first wait and each change of wait reason, and matches its schema', () => {
    const first = waitingEventEntry('bus', waitingRecord(undefined, 'CREATING'), waitingRecord('capacity'), '2026-11-29T08:01:00.000Z');
    expect(first?.DetailType).toBe(DETAIL_TYPES.waiting);
    expect(first?.Detail.wait).toEqual({
      reason: 'capacity',
      attempt: 2,
      nextAttemptAt: '2026-11-29T08:02:00.000Z',
      error: { name: 'InsufficientCapacityError', message: 'short' },
    });
    assertEventMatchesSchema(first!.DetailType, first!.Detail);
    const changed = waitingEventEntry('bus', waitingRecord('capacity'), waitingRecord('quota'), '2026-11-29T08:01:00.000Z');
    expect(changed?.Detail.wait).toMatchObject({ reason: 'quota', previousReason: 'capacity' });
    assertEventMatchesSchema(changed!.DetailType, changed!.Detail);
    expect(waitingEventEntry('bus', waitingRecord('capacity'), waitingRecord('capacity'), 'x')).toBeUndefined();
    expect(waitingEventEntry('bus', waitingRecord(undefined, 'ACCEPTED'), waitingRecord('capacity', 'CREATING'), 'x')).toBeUndefined();
    // A create in between (CREATING, then rolled back for capacity again) is not a new wait; a new reason is.
    expect(waitingEventEntry('bus', waitingRecord('capacity', 'CREATING'), waitingRecord('capacity'), 'x')).toBeUndefined();
    expect(waitingEventEntry('bus', waitingRecord('capacity', 'CREATING'), waitingRecord('quota'), 'x')?.Detail.wait).toMatchObject({
      reason: 'quota',
      previousReason: 'capacity',
    });
  });

  it('is published through the EventPublisher, and a bus that refuses only warns', async () => {
    const published: EventEntry[] = [];
    const warnings: string[] = [];
    const deps = {
      eventBusName: 'bus',
      events: { publish: async (entries: EventEntry[]) => void published.push(...entries) },
      onWarning: (m: string) => void warnings.push(m),
    };
    await announceWaiting(deps, waitingRecord(undefined, 'ACCEPTED'), waitingRecord('capacity'), '2026-11-29T08:01:00.000Z');
    expect(published.map((e) => e.DetailType)).toEqual([DETAIL_TYPES.waiting]);
    await announceWaiting(
      { ...deps, events: { publish: async () => Promise.reject(new Error('bus down')) } },
      waitingRecord(undefined, 'ACCEPTED'),
      waitingRecord('capacity'),
      'x',
    );
    expect(warnings).toHaveLength(1);
  });
});
