/**
 * The local stack's HTTP front (local/stack.ts) against hostile requests: a body far over the limit is refused while
 * it is being read (413, the rest never read nor buffered; one up to 8 MiB is drained first, so the client reads the
 * answer), a path parameter that is no valid percent-encoding is a 404 from the handler, CONNECT is a 405, and a body
 * nested thousands of levels deep (PutEvents, the local intake) or a PutEvents entry that is no object is a 400: never
 * a 500 or a dropped socket.
 */
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type RunningStack } from '../../local/stack';
import { validateResponse } from '../helpers/openapi';

let stack: RunningStack;
beforeAll(async () => {
  stack = await startStack({ port: 0, dataDir: mkdtempSync(join(tmpdir(), 'faults-')), memory: true });
});
afterAll(async () => {
  await stack?.close();
});

/**
 * Streams `total` bytes (made as they are pulled, never held) to `path`; resolves with the answer and how many bytes the
 * server let the client write before it answered and closed the connection.
 */
const stream = (method: string, path: string, total: number, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; body: string; written: number }>((resolve, reject) => {
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const source = new Readable({
      read() {
        if (written >= total) return void this.push(null);
        written += chunk.length;
        this.push(chunk);
      },
    });
    const req = request(`${stack.apiUrl}${path}`, { method, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        source.destroy();
        resolve({ status: res.statusCode!, body, written });
      });
    });
    // The server closes the connection while the client still writes: that error is the point, not a failure.
    req.on('error', (err: NodeJS.ErrnoException) => (['EPIPE', 'ECONNRESET'].includes(err.code ?? '') ? undefined : reject(err)));
    source.pipe(req);
  });

describe('the local stack, hostile HTTP', () => {
  it('answers a 300 MB body with 413 while reading it, without taking it in', async () => {
    const started = Date.now();
    const res = await stream('POST', '/clusters', 300 * 1024 * 1024);
    expect(res.status).toBe(413);
    const body = JSON.parse(res.body);
    validateResponse('POST /clusters', 413, body);
    expect(body).toEqual({
      code: 'PayloadTooLarge',
      message: 'The body is more than 65536 bytes; at most 65536 are accepted',
      errors: [{ path: '', message: 'must be at most 65536 bytes' }],
    });
    // The client got to write what the socket buffers hold, a few MB at most, nowhere near 300 MB.
    expect(res.written).toBeLessThan(32 * 1024 * 1024);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('answers a declared Content-Length over the limit with 413 at once', async () => {
    const res = await stream('POST', '/clusters', 300 * 1024 * 1024, { 'content-length': String(300 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect(res.written).toBeLessThan(32 * 1024 * 1024);
  });

  it('stops at 64 KiB + 1: 64 KiB is read and judged by the handler, one byte more is a 413', async () => {
    const at = async (bytes: number) => {
      const body = `"${'x'.repeat(bytes - 2)}"`;
      const res = await fetch(`${stack.apiUrl}/clusters`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return res.status;
    };
    expect(await at(64 * 1024)).toBe(400); // a JSON string, not a request
    expect(await at(64 * 1024 + 1)).toBe(413);
  });

  it('still reads the local intake endpoints up to their own limit (256 KiB)', async () => {
    const res = await stream('POST', '/_local/sqs', 300 * 1024 * 1024);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).message).toBe('The body is more than 262144 bytes; at most 262144 are accepted');
  });

  it.each(['%ZZ', '%E0%A4%A', '%', 'abc%zz'])('answers GET and DELETE /clusters/%s with 404, never 500', async (segment) => {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(`${stack.apiUrl}/clusters/${segment}`, { method });
      const body = await res.json();
      expect(res.status, method).toBe(404);
      validateResponse(`${method} /clusters/{requestId}`, 404, body);
    }
  });

  it('answers a 2 MB body 413 every time, after taking it in full (no EPIPE for a client still writing)', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await stream('POST', '/clusters', 2 * 1024 * 1024);
      expect(res.status).toBe(413);
      expect(res.written).toBe(2 * 1024 * 1024);
    }
  });

  it('answers CONNECT with 405 instead of closing the socket', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(stack.apiUrl).port), '127.0.0.1', () =>
        socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'),
      );
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 405 /);
  });

  const signed = {
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': 'AWSEvents.PutEvents',
    authorization: 'AWS4-HMAC-SHA256 Credential=local',
  };
  const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

  it('answers PutEvents with a null entry, or nested 5,000 levels deep, 400 (never 500)', async () => {
    const bodies = [
      '{"Entries":[null]}',
      '{"Entries":[1]}',
      `{"Entries":[{"Source":"x","DetailType":"y","Detail":"{}","EventBusName":${deep(5000)}}]}`,
      `{"Entries":${deep(5000)}}`,
    ];
    for (const body of bodies) {
      const res = await fetch(`${stack.apiUrl}/`, { method: 'POST', headers: signed, body });
      expect(res.status, body.slice(0, 40)).toBe(400);
      expect(((await res.json()) as { __type: string }).__type).toBe('SerializationException');
    }
  });

  it('answers the local intake a body nested 5,000 levels deep with 400 at the root', async () => {
    for (const path of ['/_local/sqs', '/_local/events', '/clusters']) {
      const res = await fetch(`${stack.apiUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"a":${deep(5000)}}`,
      });
      expect(res.status, path).toBe(400);
      const paths = ((await res.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path);
      // The intake refuses it whole; the API's own validation names where it goes wrong.
      if (path.startsWith('/_local/')) expect(paths, path).toEqual(['']);
      else expect(paths.length, path).toBeGreaterThan(0);
    }
  });

  it('still decodes a valid percent-encoding', async () => {
    const res = await fetch(`${stack.apiUrl}/clusters/${encodeURIComponent('no-such-request')}`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'NotFound' });
  });
});
