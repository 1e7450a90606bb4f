import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, createHmac } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApi } from '../../cli/api';
import { signRequest } from '../../cli/sigv4';

/**
 * An independent SigV4 verifier (AWS's published algorithm, written out here): recomputes the signature of a request
 * as the receiving service would, from what was sent on the wire and the caller's secret key.
 */
const verify = (
  sent: { method: string; url: URL; headers: Record<string, string>; body: string },
  secretAccessKey: string,
): { region: string; service: string; accessKeyId: string; signedHeaders: string[]; valid: boolean } => {
  const auth =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      sent.headers.authorization ?? '',
    );
  if (!auth) throw new Error(`not a SigV4 authorization header: ${sent.headers.authorization}`);
  const [, accessKeyId, date, region, service, signed, signature] = auth as unknown as string[];
  const names = signed!.split(';');
  const header = (name: string) => (name === 'host' ? sent.url.host : sent.headers[name]);
  const canonical = [
    sent.method,
    sent.url.pathname
      .split('/')
      .map((s) => encodeURIComponent(s))
      .join('/'),
    [...sent.url.searchParams]
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .sort()
      .join('&'),
    names.map((n) => `${n}:${header(n)?.trim()}\n`).join(''),
    signed,
    createHash('sha256').update(sent.body).digest('hex'),
  ].join('\n');
  const toSign = [
    'AWS4-HMAC-SHA256',
    sent.headers['x-amz-date'],
    `${date}/${region}/${service}/aws4_request`,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const key = [date!, region!, service!, 'aws4_request'].reduce<string | Buffer>((k, part) => hmac(k, part), `AWS4${secretAccessKey}`);
  return {
    region: region!,
    service: service!,
    accessKeyId: accessKeyId!,
    signedHeaders: names,
    valid: hmac(key, toSign).toString('hex') === signature,
  };
};

/** Runs `call` with fetch replaced by a recorder answering 200 {}; returns what would have gone on the wire. */
const captureFetch = () => {
  const sent: { method: string; url: URL; headers: Record<string, string>; body: string }[] = [];
  vi.stubGlobal('fetch', async (url: URL, init: RequestInit) => {
    sent.push({
      method: init.method!,
      url: new URL(url),
      headers: { ...(init.headers as Record<string, string>) },
      body: (init.body as string | undefined) ?? '',
    });
    return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
  });
  return sent;
};

afterEach(() => {
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
  vi.useRealTimers();
});

describe('signRequest', () => {
  it('reproduces the signature of the AWS Signature Version 4 documentation example (IAM ListUsers)', async () => {
    const headers = await signRequest({
      method: 'GET',
      url: new URL('https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08'),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
      region: 'us-east-1',
      service: 'iam',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
      now: new Date('2015-08-30T12:36:00Z'),
    });
    expect(headers).toEqual({
      'x-amz-date': '20150830T123600Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, ' +
        'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    });
  });

  it('signs the session token of temporary credentials, and the signature changes with the body', async () => {
    const base = {
      method: 'POST',
      url: new URL('https://abc123.execute-api.eu-west-1.amazonaws.com/clusters'),
      headers: { 'content-type': 'application/json' },
      region: 'eu-west-1',
      service: 'execute-api',
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: 'token' },
      now: new Date('2026-11-23T10:00:00Z'),
    };
    const a = await signRequest({ ...base, body: '{"a":1}' });
    const b = await signRequest({ ...base, body: '{"a":2}' });
    expect(a['x-amz-security-token']).toBe('token');
    expect(a.authorization).toContain('SignedHeaders=content-type;host;x-amz-date;x-amz-security-token');
    expect(a.authorization).not.toBe(b.authorization);
    expect(Object.keys(a).sort()).toEqual(['authorization', 'x-amz-date', 'x-amz-security-token']);
  });
});

describe('the CLI API client', () => {
  it('signs a call to a deployed API for execute-api in the region of its URL, with credentials from the default chain', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-23T10:00:00Z'));
    vi.stubEnv('AWS_PROFILE', '');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDCHAIN');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'chain-secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'chain-token');
    vi.stubEnv('AWS_REGION', 'us-east-1');
    const sent = captureFetch();

    const answer = await createApi('https://abc123.execute-api.eu-west-1.amazonaws.com/prod').call('POST', '/clusters?dryRun=true', {
      a: 1,
    });

    expect(answer.status).toBe(200);
    const [request] = sent;
    expect(request!.headers).toMatchObject({
      'content-type': 'application/json',
      'x-amz-date': '20261123T100000Z',
      'x-amz-security-token': 'chain-token',
    });
    expect(request!.body).toBe('{"a":1}');
    const check = verify(request!, 'chain-secret');
    expect(check).toEqual({
      region: 'eu-west-1',
      service: 'execute-api',
      accessKeyId: 'AKIDCHAIN',
      signedHeaders: ['content-type', 'host', 'x-amz-date', 'x-amz-security-token'],
      valid: true,
    });
    expect(verify({ ...request!, body: '{"a":2}' }, 'chain-secret').valid).toBe(false);
    expect(verify(request!, 'another-secret').valid).toBe(false);
  });

  it('signs for AWS_REGION when the API URL names no region (a custom domain)', async () => {
    vi.stubEnv('AWS_REGION', 'ap-south-1');
    const sent = captureFetch();

    await createApi('https://provisioner.example.com', { accessKeyId: 'AKID', secretAccessKey: 'secret' }).call('GET', '/clusters/req-1');

    const check = verify(sent[0]!, 'secret');
    expect(check).toMatchObject({ region: 'ap-south-1', service: 'execute-api', valid: true });
    expect(sent[0]!.headers['x-amz-security-token']).toBeUndefined();
  });

  it('waits out a 503 that names its Retry-After and sends the same call again; a 503 without one is answered as it is', async () => {
    const seen: string[] = [];
    let unavailable = 2;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        if (req.url === '/clusters/no-retry-after') {
          res.writeHead(503, { 'content-type': 'application/json' }).end('{"code":"PlanUnavailable"}');
        } else if (unavailable-- > 0) {
          res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' }).end('{"code":"ServiceUnavailable"}');
        } else res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"ACCEPTED"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const api = createApi(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      const answer = await api.call('POST', '/clusters', { requestId: 'r-1' });
      expect(answer).toMatchObject({ status: 202, body: { status: 'ACCEPTED' } });
      expect(seen).toEqual(Array(3).fill('POST /clusters {"requestId":"r-1"}'));
      expect((await api.call('GET', '/clusters/no-retry-after')).status).toBe(503);
      expect(seen).toHaveLength(4);
    } finally {
      server.close();
    }
  });

  it('does not sign calls to a local API (and resolves no credentials)', async () => {
    const sent = captureFetch();
    const credentials = vi.fn(async () => ({ accessKeyId: 'AKID', secretAccessKey: 'secret' }));

    await createApi('http://localhost:3000', credentials).call('POST', '/clusters', { a: 1 });

    expect(sent[0]!.headers).toEqual({ 'content-type': 'application/json' });
    expect(credentials).not.toHaveBeenCalled();
  });
});
