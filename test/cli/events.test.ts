/** `provision events --watch` and `provision status --watch` show the waits as they happen, and a change of reason. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventLine } from '../../cli/commands/clusters';
import { main } from '../../cli/provision';

/** GET /_local/events answers these, a page at a time (the stack's ?after= cursor); GET /clusters/w answers the script. */
const bus: Array<{ DetailType: string; Time: string; Detail: Record<string, unknown> }> = [];
const script: Array<Record<string, unknown>> = [];
let server: Server;
let api: string;

const waiting = (reason: string, at: string) => ({
  requestId: 'w',
  status: 'WAITING_FOR_CAPACITY',
  attempts: 1,
  history: [],
  lastError: { name: 'InsufficientCapacityError', message: 'short', at, reason, nextAttemptAt: '2026-11-29T08:05:00Z' },
});

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    res.writeHead(200, { 'content-type': 'application/json' });
    if (url.pathname === '/_local/events') {
      const after = Number(url.searchParams.get('after') ?? 0);
      // One new event per poll: the watcher sees them arrive.
      return res.end(JSON.stringify({ events: bus.slice(after, after + 1), next: Math.min(bus.length, after + 1) }));
    }
    const next = script.length > 1 ? script.shift()! : script[0]!;
    res.end(JSON.stringify(next));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.PROVISION_WATCH_INTERVAL_MS = '50';
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const run = async (argv: string[], until: (out: string) => boolean, ms = 3000) => {
  let stdout = '';
  const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stdout += t) } };
  const done = main([...argv, '--api', api], io as never);
  const end = Date.now() + ms;
  while (!until(stdout) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return { stdout, done };
};

describe('provision events --watch', () => {
  it('prints each event as it comes, the wait reason (and its change) included', async () => {
    bus.push(
      {
        DetailType: 'Cluster Waiting For Capacity',
        Time: 't1',
        Detail: { requestId: 'r', status: 'WAITING_FOR_CAPACITY', wait: { reason: 'capacity', nextAttemptAt: '2026-11-29T08:05:00Z' } },
      },
      {
        DetailType: 'Cluster Waiting For Capacity',
        Time: 't2',
        Detail: { requestId: 'r', status: 'WAITING_FOR_CAPACITY', wait: { reason: 'quota', previousReason: 'capacity' } },
      },
      { DetailType: 'Cluster Ready', Time: 't3', Detail: { requestId: 'r', status: 'READY' } },
    );
    const { stdout } = await run(['events', '--watch'], (out) => out.includes('Cluster Ready'));
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toContain('waiting for capacity, next attempt by 08:05:00Z');
    expect(lines[1]).toContain('waiting for quota (was capacity)');
    expect(lines[2]).toMatch(/^t3\s+Cluster Ready\s+r READY$/);
  });

  it('formats an event without a wait as before', () => {
    expect(
      eventLine({
        DetailType: 'Cluster Provisioning Failed',
        Time: 't',
        Detail: { requestId: 'r', status: 'FAILED', error: { name: 'QuotaTooLowError' } },
      }),
    ).toMatch(/Cluster Provisioning Failed\s+r FAILED QuotaTooLowError$/);
  });
});

describe('provision status --watch', () => {
  it('prints a line when the wait reason changes, naming the one before', async () => {
    script.push(waiting('capacity', 'a1'), waiting('capacity', 'a1'), waiting('quota', 'a2'), {
      requestId: 'w',
      status: 'READY',
      attempts: 2,
      history: [],
    });
    const { stdout, done } = await run(['status', 'w', '--watch'], (out) => out.includes('READY'));
    expect(await done).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines.filter((l) => l.includes('waiting for capacity'))).toHaveLength(1);
    expect(lines.find((l) => l.includes('waiting for quota'))).toContain('(was capacity)');
  });
});
