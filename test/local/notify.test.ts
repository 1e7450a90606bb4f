/**
 * Notifications end to end, on the local stack as `npm start` runs it (a child process): requests with `notify`
 * targets go through the real intake, the shipped workflows and the bus; the events reach the notify function only
 * through the serverless.yml rule (the generic router), which calls it asynchronously as Lambda does (retries, then
 * the on-failure destination). The webhook receiver here checks the signature itself (HMAC-SHA256 over
 * "<timestamp>.<body>" with the secret's value), the secret lives in the Secrets Manager simulator, the SNS target is
 * a topic of the SNS simulator, both reached by the real SDK clients.
 */
import { spawn } from 'node:child_process';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertEventMatchesSchema } from '../helpers/event-schemas';

const root = new URL('../..', import.meta.url).pathname;
const SECRET_NAME = 'provisioner/notify/e2e';
const SECRET_VALUE = `whsec-${randomUUID()}`;

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
  signatureValid: boolean;
}

/** A webhook receiver: /ok answers 200, /flaky 500 twice per event then 200, /down always 500. Verifies every signature. */
const startReceiver = async () => {
  const received: Received[] = [];
  const flakyCounts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const timestamp = String(req.headers['x-provisioner-timestamp'] ?? '');
      const given = Buffer.from(String(req.headers['x-provisioner-signature'] ?? ''));
      const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET_VALUE).update(`${timestamp}.${body}`).digest('hex')}`);
      const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
      const signatureValid = fresh && given.length === expected.length && timingSafeEqual(given, expected);
      const eventId = String(req.headers['x-provisioner-event-id'] ?? '');
      let status = 200;
      if (!signatureValid) status = 401;
      else if (req.url === '/down') status = 500;
      else if (req.url === '/flaky') {
        const n = (flakyCounts.get(eventId) ?? 0) + 1;
        flakyCounts.set(eventId, n);
        status = n <= 2 ? 500 : 200;
      }
      received.push({ path: req.url ?? '', headers: req.headers, body, status, signatureValid });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, received, close: () => new Promise<void>((r) => server.close(() => r())) };
};

const until = async <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 45_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

let output = '';
let child: ReturnType<typeof spawn>;
let api: string;
let dataDir: string;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let topicArn: string;
const endpointOf = (name: string) => new RegExp(`^\\s+${name}\\s+(http://127\\.0\\.0\\.1:\\d+)`, 'm').exec(output)?.[1];
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

const request = (requestId: string, notify: unknown, example = 'hyperpod-minimal.json') => ({
  ...(JSON.parse(readFileSync(join(root, 'examples', example), 'utf8')) as Record<string, unknown>),
  requestId,
  notify,
});
const messagesOf = (path: string, requestId: string) =>
  receiver.received
    .filter((r) => r.path === path)
    .map((r) => ({ ...r, message: JSON.parse(r.body) as { id: string; type: string; requestId: string; detail: Record<string, any> } }))
    .filter((r) => r.message.requestId === requestId);
const events = () =>
  readFileSync(join(dataDir, 'events.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { DetailType: string; Detail: Record<string, any> });
const post = (path: string, body: unknown) =>
  fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

beforeAll(async () => {
  receiver = await startReceiver();
  const port = await freePort();
  dataDir = mkdtempSync(join(tmpdir(), 'provisioner-notify-'));
  api = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', '--memory'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: dataDir,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      LOCAL_TIME_SCALE: '0.01',
      LOCAL_READY_AFTER_MS: '1000',
      NOTIFY_BASE_DELAY_MS: '20',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await until('the stack', () => (output.includes('listening on') ? true : undefined), 90_000);
  const secrets = new SecretsManagerClient({ endpoint: endpointOf('Secrets Manager')!, region: 'us-east-1', credentials });
  await secrets.send(new CreateSecretCommand({ Name: SECRET_NAME, SecretString: SECRET_VALUE }));
  const sns = new SNSClient({ endpoint: endpointOf('SNS')!, region: 'us-east-1', credentials });
  topicArn = (await sns.send(new CreateTopicCommand({ Name: 'provisioner-notify-e2e' }))).TopicArn!;
}, 120_000);

afterAll(async () => {
  child?.kill('SIGINT');
  await receiver?.close();
});

describe('notify targets, on the local stack', () => {
  const okId = `notify-ok-${randomUUID().slice(0, 8)}`;

  it('signs each webhook, retries a receiver that fails twice, and publishes to SNS, for Cluster Ready', async () => {
    const res = await post(
      '/clusters',
      request(okId, [
        { webhook: `${receiver.url}/ok`, secret: SECRET_NAME },
        { webhook: `${receiver.url}/flaky`, secret: SECRET_NAME },
        { sns: topicArn },
      ]),
    );
    expect(res.status).toBe(202);
    // The record keeps notify as submitted: the secret's name, never its value.
    const record = (await (await fetch(`${api}/clusters/${okId}`)).json()) as { request: { notify: unknown[] } };
    expect(record.request.notify).toHaveLength(3);

    const ready = await until('Cluster Ready at /ok', () => messagesOf('/ok', okId).find((m) => m.message.type === 'Cluster Ready'));
    expect(ready.signatureValid).toBe(true);
    expect(ready.message.detail.status).toBe('READY');
    assertEventMatchesSchema('Cluster Ready', ready.message.detail);

    const flaky = await until('the third try at /flaky', () => {
      const tries = messagesOf('/flaky', okId).filter((m) => m.message.type === 'Cluster Ready');
      return tries.length >= 3 ? tries : undefined;
    });
    expect(flaky.map((t) => t.status)).toEqual([500, 500, 200]);
    expect(flaky.every((t) => t.signatureValid)).toBe(true);
    // Every try carries the same event id: the receiver can drop a repeat.
    expect(new Set(flaky.map((t) => t.headers['x-provisioner-event-id'])).size).toBe(1);

    const published = await until('the SNS message', async () => {
      const { messages } = (await (await fetch(`${api}/_local/sns?topic=${encodeURIComponent(topicArn)}`)).json()) as {
        messages: Array<{ message: string; attributes: Record<string, string>; subject?: string }>;
      };
      return messages.find(
        (m) => (JSON.parse(m.message) as { requestId: string; type: string }).requestId === okId && m.attributes.type === 'Cluster Ready',
      );
    });
    expect(published.subject).toBe(`Cluster Ready: ${okId}`);
    expect((JSON.parse(published.message) as { id: string }).id).toBe(ready.message.id);
  }, 60_000);

  it('announces the first wait for capacity to the targets, then READY', async () => {
    const id = `notify-wait-${randomUUID().slice(0, 8)}`;
    const res = await post(
      '/clusters',
      request(id, [{ webhook: `${receiver.url}/ok`, secret: SECRET_NAME }], 'hyperpod-capacity-shortage.json'),
    );
    expect(res.status).toBe(202);
    const waiting = await until('Cluster Waiting For Capacity', () =>
      messagesOf('/ok', id).find((m) => m.message.type === 'Cluster Waiting For Capacity'),
    );
    expect(waiting.message.detail.status).toBe('WAITING_FOR_CAPACITY');
    expect(waiting.message.detail.wait.reason).toBe('capacity');
    assertEventMatchesSchema('Cluster Waiting For Capacity', waiting.message.detail);
    await until('Cluster Ready after the wait', () => messagesOf('/ok', id).find((m) => m.message.type === 'Cluster Ready'), 60_000);
    // Waiting again for the same reason is not announced again.
    const waits = events().filter((e) => e.DetailType === 'Cluster Waiting For Capacity' && e.Detail.requestId === id);
    expect(waits.length).toBeGreaterThanOrEqual(1);
    expect(new Set(waits.map((w) => w.Detail.wait.reason)).size).toBe(waits.length);
  }, 90_000);

  it('dead-letters an event a target never takes, after the in-function retries and Lambda’s two retries', async () => {
    const id = `notify-down-${randomUUID().slice(0, 8)}`;
    expect((await post('/clusters', request(id, [{ webhook: `${receiver.url}/down`, secret: SECRET_NAME }]))).status).toBe(202);
    const dead = await until(
      'the dead letter',
      async () => {
        const { messages } = (await (await fetch(`${api}/_local/dead-letters?queue=NotificationsDeadLetterQueue`)).json()) as {
          messages: Array<{ queue: string; record: Record<string, any> }>;
        };
        return messages.find((m) => m.record.requestPayload?.detail?.requestId === id);
      },
      60_000,
    );
    expect(dead.record.requestContext).toMatchObject({ condition: 'RetriesExhausted', approximateInvokeCount: 3 });
    expect(dead.record.requestContext.functionArn).toMatch(/:function:gpu-cluster-provisioner-local-notify:\$LATEST$/);
    expect(dead.record.responsePayload.errorType).toBe('NotificationFailedError');
    // The request may have waited for capacity first: whichever event it was, it is the one dead-lettered.
    expect(['Cluster Ready', 'Cluster Waiting For Capacity']).toContain(dead.record.requestPayload['detail-type']);
    // 3 invocations x 3 attempts of that event, each signed.
    const tries = messagesOf('/down', id).filter((m) => m.message.id === dead.record.requestPayload.id);
    expect(tries).toHaveLength(9);
    expect(tries.every((t) => t.signatureValid && t.status === 500)).toBe(true);
  }, 90_000);

  it('answers bad notify targets with 400s at their pointers on HTTP, SQS and EventBridge, and records nothing', async () => {
    const bad = [
      { webhook: 'https://169.254.169.254/latest/meta-data/', secret: SECRET_NAME },
      { webhook: 'https://hooks.example.com/a', secret: 'not allowed!' },
      { sns: 'arn:aws:sns:us-east-1:000000000000:provisioner-notify-e2e:1b2c3d4e-subscription' },
      { webhook: 'https://hooks.example.com/a', secret: SECRET_NAME },
      { webhook: 'https://hooks.example.com/b', secret: 'other/prefix' },
    ];
    const pointers = ['/notify/0/webhook', '/notify/1/secret', '/notify/2/sns', '/notify/3/webhook'];

    const httpId = `notify-bad-http-${randomUUID().slice(0, 8)}`;
    const res = await post('/clusters', request(httpId, bad));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: Array<{ path: string }> };
    for (const p of pointers) expect(body.errors.map((e) => e.path)).toContain(p);
    // The deployment's rule (the secret prefix) is a 400 at its pointer too, once the request is otherwise valid.
    const prefixRes = await post('/clusters', request(`notify-bad-prefix-${randomUUID().slice(0, 8)}`, [bad[4]]));
    expect(prefixRes.status).toBe(400);
    expect(((await prefixRes.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path)).toEqual(['/notify/0/secret']);

    const sqsId = `notify-bad-sqs-${randomUUID().slice(0, 8)}`;
    await post('/_local/sqs', request(sqsId, bad));
    const ebId = `notify-bad-eb-${randomUUID().slice(0, 8)}`;
    // PutEvents on the stack's own port, as `aws events put-events --endpoint-url` would send it.
    const bus = new EventBridgeClient({ endpoint: api, region: 'us-east-1', credentials });
    const put = await bus.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: 'gpu-cluster-provisioner-local',
            Source: 'e2e.test',
            DetailType: 'Provision Cluster Requested',
            Detail: JSON.stringify(request(ebId, bad)),
          },
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(0);
    for (const id of [sqsId, ebId]) {
      const rejected = await until(`the rejection of ${id}`, () =>
        events().find((e) => e.DetailType === 'Cluster Request Rejected' && e.Detail.requestId === id),
      );
      const paths = (rejected.Detail.errors as Array<{ path: string }>).map((e) => e.path);
      for (const p of pointers) expect(paths).toContain(p);
    }
    for (const id of [httpId, sqsId, ebId]) expect((await fetch(`${api}/clusters/${id}`)).status).toBe(404);
  }, 60_000);

  it('sends no webhook for a forged Cluster Ready put on the bus naming a SCHEDULED request', async () => {
    const scheduledId = `notify-forged-${randomUUID().slice(0, 8)}`;
    const startAt = new Date(Date.now() + 300 * 86_400_000).toISOString();
    const res = await post('/clusters', { ...request(scheduledId, [{ webhook: `${receiver.url}/ok`, secret: SECRET_NAME }]), startAt });
    expect(res.status).toBe(202);
    const record = (await (await fetch(`${api}/clusters/${scheduledId}`)).json()) as Record<string, any>;
    expect(record.status).toBe('SCHEDULED');
    // PutEvents on the stack's own port with the provisioner's source and type, and a detail as genuine as can be made.
    const bus = new EventBridgeClient({ endpoint: api, region: 'us-east-1', credentials });
    const detail = {
      requestId: scheduledId,
      provider: record.provider,
      region: record.region,
      clusterName: record.clusterName,
      providerId: `arn:aws:sagemaker:${record.region}:000000000000:cluster/forged`,
      status: 'READY',
      attempts: 1,
      timestamps: { acceptedAt: record.acceptedAt, readyAt: new Date().toISOString() },
      durationsSeconds: { total: 1 },
    };
    const put = await bus.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: 'gpu-cluster-provisioner-local',
            Source: 'gpu-cluster-provisioner',
            DetailType: 'Cluster Ready',
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(0);
    // The notify function ran on it: it refused it, or (as it once did) signed and sent it.
    const refusal = () => output.split('\n').find((l) => l.includes('Event refused') && l.includes(scheduledId));
    await until('the notify function on the forged event', () =>
      refusal() || messagesOf('/ok', scheduledId).length > 0 ? true : undefined,
    );
    expect(refusal()).toBeDefined();
    expect(messagesOf('/ok', scheduledId)).toEqual([]);
    expect((await (await fetch(`${api}/clusters/${scheduledId}`)).json()) as Record<string, unknown>).toMatchObject({
      status: 'SCHEDULED',
    });
  }, 60_000);

  it('tells the targets when the cluster is deleted', async () => {
    expect((await fetch(`${api}/clusters/${okId}`, { method: 'DELETE' })).status).toBe(202);
    const deleted = await until('Cluster Deleted at /ok', () => messagesOf('/ok', okId).find((m) => m.message.type === 'Cluster Deleted'));
    expect(deleted.signatureValid).toBe(true);
    expect(deleted.message.detail.status).toBe('DELETED');
    assertEventMatchesSchema('Cluster Deleted', deleted.message.detail);
  }, 60_000);

  it('never lets the secret value into a log line, a record, an event or a dead letter', async () => {
    await until('the ok request done', () => (messagesOf('/ok', okId).length > 0 ? true : undefined));
    const records = await (await fetch(`${api}/clusters?limit=100`)).text();
    const deadLetters = await (await fetch(`${api}/_local/dead-letters`)).text();
    const sns = await (await fetch(`${api}/_local/sns`)).text();
    const notifyLogs = output.split('\n').filter((l) => l.includes('Notification'));
    expect(notifyLogs.length).toBeGreaterThan(0);
    for (const [what, text] of Object.entries({
      logs: output,
      events: readFileSync(join(dataDir, 'events.ndjson'), 'utf8'),
      records,
      deadLetters,
      sns,
      webhookBodies: receiver.received.map((r) => r.body).join('\n'),
    }))
      expect(text.includes(SECRET_VALUE), what).toBe(false);
  });
});
