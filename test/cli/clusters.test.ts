import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/provision';

/** A scripted API: each GET /clusters/{id} answers the next record of that id's script (the last one repeats). */
const scripts: Record<string, Array<Record<string, unknown>>> = {};
const posted: unknown[] = [];
let server: Server;
let api: string;

const record = (requestId: string, status: string, extra: Record<string, unknown> = {}) => ({
  requestId,
  provider: 'sagemaker',
  region: 'us-east-1',
  clusterName: 'c',
  status,
  attempts: 1,
  maxAttempts: 11,
  request: {},
  acceptedAt: new Date().toISOString(),
  updatedAt: new Date().toISOString(),
  history: [{ to: 'ACCEPTED', at: new Date().toISOString() }],
  ...extra,
});

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (req.method === 'POST' && req.url === '/clusters') {
        posted.push(JSON.parse(body));
        return send(400, {
          code: 'ValidationFailed',
          message: 'The request is invalid',
          errors: [{ path: '/cluster/ClusterName', message: 'is taken by policy' }],
        });
      }
      const id = decodeURIComponent(req.url!.split('/').pop()!);
      const script = scripts[id];
      if (!script) return send(404, { code: 'NotFound', message: `No cluster request ${id}` });
      send(200, script.length > 1 ? script.shift() : script[0]);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.PROVISION_WATCH_INTERVAL_MS = '50';
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const run = async (...argv: string[]) => {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
};

describe('provision (API commands)', () => {
  it('validates locally before sending: an invalid file is never posted (exit 1)', async () => {
    const before = posted.length;
    const out = await run('submit', 'test/fixtures/requests/hyperpod-invalid.json', '--api', api);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/hyperpod-invalid\.json: \/cluster\//);
    expect(posted.length).toBe(before);
  });

  it("prints the API's 4xx answer with every field error (exit 1)", async () => {
    const out = await run('submit', 'examples/hyperpod-minimal.json', '--api', api);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('HTTP 400 ValidationFailed: The request is invalid');
    expect(out.stderr).toContain('/cluster/ClusterName: is taken by policy');
  });

  it('watches to FAILED and exits 1 with the last error', async () => {
    scripts['w-fail'] = [
      record('w-fail', 'WAITING_FOR_CAPACITY', {
        attempts: 2,
        retryUntil: '2026-11-23T16:00:00.000Z',
        lastError: {
          name: 'InsufficientCapacityError',
          message: 'no p5',
          reason: 'capacity',
          at: '2026-11-23T10:00:00Z',
          nextAttemptAt: '2026-11-23T10:01:00Z',
        },
      }),
      record('w-fail', 'FAILED', {
        attempts: 11,
        lastError: { name: 'RetryHorizonExceededError', message: 'no p5', at: '2026-11-23T16:00:00Z' },
      }),
    ];
    const out = await run('status', 'w-fail', '--watch', '--api', api);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(
      /WAITING_FOR_CAPACITY · attempt 2 · waiting for capacity · InsufficientCapacityError: no p5, next attempt at 10:01:00Z, retrying until 2026-11-23T16:00Z/,
    );
    expect(out.stderr).toContain('w-fail failed: RetryHorizonExceededError: no p5');
  });

  it('prints one JSON line per change with --json --watch, and exits 0 on READY', async () => {
    scripts['w-ok'] = [
      record('w-ok', 'CREATING'),
      record('w-ok', 'CREATING'),
      record('w-ok', 'READY', { providerStatus: 'InService', nodes: { current: 2, target: 2 } }),
    ];
    const out = await run('status', 'w-ok', '--watch', '--json', '--api', api);
    expect(out.code).toBe(0);
    const lines = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.status)).toEqual(['CREATING', 'READY']);
    expect(lines[1]).toMatchObject({ requestId: 'w-ok', nodes: { current: 2, target: 2 } });
  });

  it('says a deleted request must get a new requestId to be provisioned again', async () => {
    scripts['w-gone'] = [record('w-gone', 'DELETED')];
    const out = await run('status', 'w-gone', '--watch', '--api', api);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/already provisioned and deleted; .*new requestId/);
  });

  it('answers 404 as exit 1 and usage mistakes as exit 2', async () => {
    expect((await run('status', 'nobody', '--api', api)).code).toBe(1);
    expect((await run('status', '--api', api)).code).toBe(2);
    expect((await run('submit', 'examples/hyperpod-minimal.json', '--via', 'carrier-pigeon', '--api', api)).code).toBe(2);
    expect((await run('list', '--colour', 'red', '--api', api)).code).toBe(2);
  });
});
