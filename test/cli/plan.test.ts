import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/provision';
import type { PlanReport } from '../../functions/core/plan';

const report = (ok: boolean): PlanReport => ({
  requestId: 'r-1',
  ok,
  summary: { pass: 1, warn: 0, fail: ok ? 0 : 1, skipped: 1 },
  priceTableDate: '2026-11-29',
  placements: [
    {
      index: 0,
      provider: 'sagemaker',
      where: 'sagemaker us-east-1',
      clusterName: 'c',
      cost: {
        currency: 'USD',
        perHour: 3.03,
        hours: 2,
        total: 6.06,
        lines: [{ instanceType: 'ml.g5.2xlarge', count: 2, unitPerHour: 1.515 }],
      },
      checks: [
        {
          check: 'quota',
          subject: 'ml.g5.2xlarge',
          status: ok ? 'pass' : 'fail',
          message: 'needs 2',
          fix: 'ask for more',
          path: '/cluster/InstanceGroups/0/InstanceCount',
        },
        { check: 'subnet-ips', subject: 'VpcConfig', status: 'skipped', message: 'not applicable', path: '/cluster' },
      ],
    },
  ],
});

const seen: string[] = [];
let server: Server;
let api: string;
const dir = mkdtempSync(join(tmpdir(), 'plan-cli-'));
const file = (name: string, body: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
  return path;
};

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      const kind = (JSON.parse(body) as { kind?: string }).kind;
      res.writeHead(kind === 'bad' ? 400 : 200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          kind === 'bad'
            ? { code: 'ValidationFailed', message: 'The request is invalid', errors: [{ path: '/cluster', message: 'is required' }] }
            : report(kind !== 'fails'),
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const run = async (...argv: string[]) => {
  let stdout = '';
  let stderr = '';
  const code = await main(['plan', ...argv, '--api', api], {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { code, stdout, stderr };
};

describe('provision plan', () => {
  it('asks POST /clusters?dryRun=true and prints the table and the price; exit 0 when nothing fails', async () => {
    const out = await run(file('ok.json', { kind: 'ok' }));
    expect(out.code).toBe(0);
    expect(seen.at(-1)).toBe('POST /clusters?dryRun=true');
    expect(out.stdout).toContain('primary: sagemaker us-east-1 (c) — cost: USD 3.03/h, USD 6.06 for deleteAfter (2 h)');
    expect(out.stdout).toMatch(/pass\s+quota\s+ml\.g5\.2xlarge\s+needs 2/);
    expect(out.stdout).toContain('1 pass, 0 warn, 0 fail, 1 skipped: nothing fails');
  });

  it('exits 1 when a check fails, printing the fix and its pointer', async () => {
    const out = await run(file('fails.json', { kind: 'fails' }));
    expect(out.code).toBe(1);
    expect(out.stdout).toContain('fix: ask for more (/cluster/InstanceGroups/0/InstanceCount)');
  });

  it('exits 2 for a malformed request (400), an unreadable file or not JSON, and 2 wins over 1', async () => {
    const bad = await run(file('bad.json', { kind: 'bad' }));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('/cluster: is required');
    expect((await run(join(dir, 'missing.json'))).code).toBe(2);
    expect((await run(file('garbled.json', '{nope'))).code).toBe(2);
    expect((await run(file('f2.json', { kind: 'fails' }), file('b2.json', { kind: 'bad' }))).code).toBe(2);
  });

  it('prints one JSON line per file with --json', async () => {
    const out = await run(file('j.json', { kind: 'fails' }), '--json');
    const line = JSON.parse(out.stdout.trim()) as { status: string; plan: PlanReport };
    expect(line.status).toBe('fails');
    expect(line.plan.summary.fail).toBe(1);
  });
});
