/** `provision orphans` against a scripted API answering GET /orphans as the OpenAPI document says. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/provision';
import { validateResponse } from '../helpers/openapi';

let answer: { status: number; body: unknown };
const seen: string[] = [];
let server: Server;
let api: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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

const LISTING = {
  locations: [
    { provider: 'sagemaker', region: 'us-east-1' },
    { provider: 'tir', projectId: 4242, location: 'Delhi' },
  ],
  orphans: [
    {
      location: { provider: 'sagemaker', region: 'us-east-1' },
      clusterName: 'train-a',
      providerId: 'arn:aws:sagemaker:us-east-1:123456789012:cluster/abc123def456',
      requestId: 'req-nobody',
      providerStatus: 'InService',
      finding: 'orphan',
      reason: 'no record of request req-nobody',
      action: 'none',
    },
    {
      location: { provider: 'tir', projectId: 4242, location: 'Delhi' },
      clusterName: 'train-b',
      providerId: '1002',
      requestId: 'req-gone',
      providerStatus: 'Running',
      finding: 'leftover',
      recordStatus: 'DELETED',
      reason: 'its request is DELETED',
      action: 'none',
      dueAt: '2026-03-02T10:30:00.000Z',
    },
  ],
  failures: [],
};

describe('provision orphans', () => {
  it('lists each orphan and leftover on a line, with where it lives and when a leftover goes (GET /orphans)', async () => {
    validateResponse('GET /orphans', 200, LISTING);
    answer = { status: 200, body: LISTING };

    const out = await run('orphans', '--api', api);

    expect(out.code).toBe(0);
    expect(seen.at(-1)).toBe('GET /orphans');
    expect(out.stdout.split('\n')).toEqual([
      'orphan    sagemaker us-east-1  train-a  arn:aws:sagemaker:us-east-1:123456789012:cluster/abc123def456  no record of request req-nobody',
      'leftover  tir 4242/Delhi  train-b  1002  its request is DELETED  deleted after 2026-03-02T10:30:00.000Z',
      '2 found',
      '',
    ]);
  });

  it('prints the answer as is with --json, and exits 1 when a location could not be listed', async () => {
    const partial = {
      ...LISTING,
      orphans: [],
      failures: [
        { location: { provider: 'sagemaker', region: 'eu-west-1' }, error: { name: 'ProviderAuthFailedError', message: 'denied' } },
      ],
    };
    validateResponse('GET /orphans', 200, partial);
    answer = { status: 200, body: partial };

    expect(JSON.parse((await run('orphans', '--json', '--api', api)).stdout)).toEqual(partial);
    const out = await run('orphans', '--api', api);
    expect(out.code).toBe(1);
    expect(out.stderr).toBe('provision: could not list sagemaker eu-west-1: denied\n');
    expect(out.stdout).toBe('no orphan\n');
  });

  it('says what the API refused', async () => {
    answer = { status: 500, body: { code: 'InternalError', message: 'Internal error; quote request id r-1' } };
    const out = await run('orphans', '--api', api);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('HTTP 500 InternalError');
  });
});
