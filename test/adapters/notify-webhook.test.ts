/**
 * The webhook adapter over loopback HTTP: the secret comes from the Secrets Manager simulator through the real SDK,
 * the receiver checks the signature itself; the SSRF guard is driven with an injected resolver.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretSource } from '../../functions/adapters/notify-secrets';
import { createWebhookSender, signatureOf, verifySignature, type Resolver } from '../../functions/adapters/notify-webhook';
import { NotifyRejectedError, NotifyTransientError } from '../../functions/core/errors';
import { startSecretsManagerSimulator, type SecretsManagerSimulator } from '../../local/simulators/secrets-manager';

const SECRET = 'whsec-adapter-test-value';
let sm: SecretsManagerSimulator;
let receiver: Server;
let base: string;
let status = 200;
const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];

beforeAll(async () => {
  sm = await startSecretsManagerSimulator();
  sm.put('provisioner/notify/hooks', SECRET);
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
});

afterAll(async () => {
  await sm.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

const secrets = () =>
  createSecretSource({
    prefix: 'provisioner/notify/',
    client: new SecretsManagerClient({
      endpoint: sm.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    }),
  });

describe('webhook sender', () => {
  it('POSTs the body signed with HMAC-SHA256 over "<timestamp>.<body>", with the event id', async () => {
    const sender = createWebhookSender({ secrets: secrets(), allowLoopback: true, now: () => Date.parse('2026-11-29T08:00:00Z') });
    const body = JSON.stringify({ version: '1', id: 'evt-9', type: 'Cluster Ready' });
    received.length = 0;
    status = 200;
    await expect(sender.send(`${base}/hook?x=1`, 'provisioner/notify/hooks', body, 'evt-9')).resolves.toEqual({ status: 200 });
    const [got] = received;
    expect(got!.body).toBe(body);
    const timestamp = String(got!.headers['x-provisioner-timestamp']);
    expect(timestamp).toBe(String(Date.parse('2026-11-29T08:00:00Z') / 1000));
    // The receiver's own computation.
    expect(got!.headers['x-provisioner-signature']).toBe(
      `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex')}`,
    );
    expect(got!.headers['x-provisioner-event-id']).toBe('evt-9');
    expect(got!.headers['content-type']).toBe('application/json');
    expect(JSON.stringify(got!.headers)).not.toContain(SECRET);
    expect(verifySignature(SECRET, got!.headers, body, Number(timestamp) + 10)).toBe(true);
    expect(verifySignature(SECRET, got!.headers, `${body} `, Number(timestamp))).toBe(false);
    expect(verifySignature('other', got!.headers, body, Number(timestamp))).toBe(false);
    // A replay: the same signed request 10 minutes later.
    expect(verifySignature(SECRET, got!.headers, body, Number(timestamp) + 600)).toBe(false);
    expect(signatureOf(SECRET, timestamp, body)).toBe(got!.headers['x-provisioner-signature']);
  });

  it('calls 5xx, 429 and connection failures transient, other answers rejected', async () => {
    const sender = createWebhookSender({ secrets: secrets(), allowLoopback: true });
    for (const [code, kind] of [
      [500, NotifyTransientError],
      [503, NotifyTransientError],
      [429, NotifyTransientError],
      [404, NotifyRejectedError],
      [301, NotifyRejectedError],
    ] as const) {
      status = code;
      await expect(sender.send(`${base}/x`, 'provisioner/notify/hooks', '{}', 'e'), String(code)).rejects.toBeInstanceOf(kind);
    }
    status = 200;
    await expect(sender.send('http://127.0.0.1:1/', 'provisioner/notify/hooks', '{}', 'e')).rejects.toBeInstanceOf(NotifyTransientError);
  });

  it('refuses a secret outside the prefix, and one that does not exist, without sending', async () => {
    const sender = createWebhookSender({ secrets: secrets(), allowLoopback: true });
    received.length = 0;
    await expect(sender.send(`${base}/x`, 'prod/database', '{}', 'e')).rejects.toBeInstanceOf(NotifyRejectedError);
    await expect(sender.send(`${base}/x`, 'provisioner/notify/missing', '{}', 'e')).rejects.toBeInstanceOf(NotifyRejectedError);
    expect(received).toHaveLength(0);
  });

  it('connects to the address it resolved and checked, not to a fresh lookup', async () => {
    // hooks.invalid resolves nowhere but through the injected resolver: the request arrives only if the socket is
    // pinned to the checked address.
    received.length = 0;
    status = 200;
    const port = (receiver.address() as { port: number }).port;
    const sender = createWebhookSender({
      secrets: secrets(),
      allowLoopback: true,
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    await expect(sender.send(`http://hooks.invalid:${port}/pinned`, 'provisioner/notify/hooks', '{}', 'e')).resolves.toEqual({
      status: 200,
    });
    expect(received.map((r) => r.headers.host)).toEqual([`hooks.invalid:${port}`]);
  });

  describe('when deployed (no loopback)', () => {
    const resolving =
      (address: string, family = 4): Resolver =>
      async () => [{ address, family }];

    it.each([
      ['127.0.0.1', 4],
      ['169.254.169.254', 4],
      ['10.0.12.7', 4],
      ['192.168.0.10', 4],
      ['::1', 6],
      ['fd00:ec2::254', 6],
      ['fe80::1', 6],
      ['::ffff:169.254.169.254', 6],
    ])('refuses a name that resolves to %s, and connects to nothing', async (address, family) => {
      received.length = 0;
      const sender = createWebhookSender({ secrets: secrets(), resolve: resolving(address, family) });
      const error = await sender.send('https://hooks.example.com/x', 'provisioner/notify/hooks', '{}', 'e').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotifyRejectedError);
      expect((error as Error).message).toContain(address);
      expect(received).toHaveLength(0);
    });

    it('refuses a name when any of its addresses is private (no first-answer luck)', async () => {
      const sender = createWebhookSender({
        secrets: secrets(),
        resolve: async () => [
          { address: '93.184.216.34', family: 4 },
          { address: '169.254.169.254', family: 4 },
        ],
      });
      await expect(sender.send('https://hooks.example.com/x', 'provisioner/notify/hooks', '{}', 'e')).rejects.toBeInstanceOf(
        NotifyRejectedError,
      );
    });

    it('refuses loopback literals and http', async () => {
      const sender = createWebhookSender({ secrets: secrets() });
      await expect(sender.send(`${base}/x`, 'provisioner/notify/hooks', '{}', 'e')).rejects.toBeInstanceOf(NotifyRejectedError);
      await expect(sender.send('https://127.0.0.1/x', 'provisioner/notify/hooks', '{}', 'e')).rejects.toBeInstanceOf(NotifyRejectedError);
      await expect(sender.send('http://hooks.example.com/x', 'provisioner/notify/hooks', '{}', 'e')).rejects.toBeInstanceOf(
        NotifyRejectedError,
      );
    });

    it('connects to the address it checked, whatever DNS says later (pinned lookup)', async () => {
      // The name resolves to a public address once; the connection goes there (and fails: nothing listens), never
      // to a second lookup's answer.
      let lookups = 0;
      const sender = createWebhookSender({
        secrets: secrets(),
        timeoutMs: 300,
        resolve: async () => {
          lookups++;
          return [{ address: '192.0.2.1', family: 4 }].map((a) => (lookups > 1 ? { address: '127.0.0.1', family: 4 } : a)) as never;
        },
      });
      // 192.0.2.1 is TEST-NET-1: public by kind, unroutable; the attempt times out or is refused (transient).
      await expect(sender.send('https://hooks.example.com/x', 'provisioner/notify/hooks', '{}', 'e')).rejects.toBeInstanceOf(
        NotifyTransientError,
      );
      expect(lookups).toBe(1);
    });
  });
});
