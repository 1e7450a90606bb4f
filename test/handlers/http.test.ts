import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../functions/core/errors';
import type { ClusterStore } from '../../functions/core/store';
import { submitRequest, type SubmitDeps } from '../../functions/core/submit';
import { makeHandler as makeDelete } from '../../functions/handlers/http/delete';
import { makeHandler as makeGet } from '../../functions/handlers/http/get';
import { makeHandler as makeList } from '../../functions/handlers/http/list';
import { makeHandler as makeReconcile } from '../../functions/handlers/http/reconcile';
import { makeHandler as makeSubmit } from '../../functions/handlers/http/submit';
import type { HttpResult } from '../../functions/platform/middleware/http';
import { PLATFORM_CALLER, httpEvent, lambdaContext, type HttpEventOptions } from '../fixtures/events';
import { hyperpodRequest, startEntryHarness, tirRequest, type EntryHarness } from '../helpers/workflow';
import { validateResponse } from '../helpers/openapi';

let h: EntryHarness;
beforeAll(async () => {
  h = await startEntryHarness();
});
afterAll(async () => {
  await h.close();
});

type Handler = (event: ReturnType<typeof httpEvent>, context: ReturnType<typeof lambdaContext>) => Promise<HttpResult>;

const call = async (handler: Handler, routeKey: string, path: string, options: HttpEventOptions = {}) => {
  const result = await handler(httpEvent(routeKey, path, options), lambdaContext());
  const body = result.body ? JSON.parse(result.body) : undefined;
  validateResponse(routeKey, result.statusCode!, body);
  return { status: result.statusCode!, headers: result.headers ?? {}, body };
};

const submit = (body: unknown, options: HttpEventOptions = {}, deps: () => SubmitDeps = () => h.submitDeps) =>
  call(makeSubmit(deps) as unknown as Handler, 'POST /clusters', '/clusters', {
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...options,
  });
const get = (requestId: string, store: () => ClusterStore = () => h.store) =>
  call(makeGet(store) as unknown as Handler, 'GET /clusters/{requestId}', `/clusters/${requestId}`, { pathParameters: { requestId } });
const list = (query: Record<string, string>) =>
  call(makeList(() => h.store) as unknown as Handler, 'GET /clusters', '/clusters', { query });
const del = (requestId: string) =>
  call(makeDelete(() => h.submitDeps) as unknown as Handler, 'DELETE /clusters/{requestId}', `/clusters/${requestId}`, {
    pathParameters: { requestId },
  });

describe('POST /clusters', () => {
  it('accepts a valid request with 202, a Location header, a record and a started execution', async () => {
    const request = hyperpodRequest();
    const res = await submit(request);
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/clusters/${request.requestId}`);
    expect(res.body).toMatchObject({ requestId: request.requestId, status: 'ACCEPTED' });
    expect(res.body.cluster.requestHash).toBeUndefined();
    expect(h.workflows.get(request.requestId)).toBeDefined();
    await h.workflows.get(request.requestId)!.done;
    expect((await h.store.require(request.requestId)).status).toBe('READY');
  });

  it('answers a replay of the same request with 200 and the existing record, starting nothing new', async () => {
    const request = tirRequest();
    const first = await submit(request);
    const executions = h.workflows.list().length;
    // Same request, keys in another order: the canonical hash is the same.
    const reordered = Object.fromEntries(Object.entries(request).reverse());
    const replay = await submit(reordered);
    expect(first.status).toBe(202);
    expect(replay.status).toBe(200);
    expect(replay.body.requestId).toBe(request.requestId);
    expect(h.workflows.list()).toHaveLength(executions);
  });

  it('derives the same requestId for the same request without one, so a double click is one cluster', async () => {
    const { requestId: _drop, ...request } = hyperpodRequest();
    const first = await submit(request);
    const second = await submit(request);
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(first.body.requestId).toMatch(/^req-[0-9a-f]{40}$/);
    expect(second.body.requestId).toBe(first.body.requestId);
    expect(h.workflows.list().filter((e) => e.name === first.body.requestId)).toHaveLength(1);
  });

  it('answers 409 when the requestId is reused for a different request, and changes nothing', async () => {
    const request = hyperpodRequest();
    await submit(request);
    const before = await h.store.require(request.requestId);
    const other = { ...request, cluster: { ...request.cluster, ClusterName: `${request.cluster.ClusterName}-x` } };
    const res = await submit(other);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('Conflict');
    expect(res.body.errors).toEqual([
      { path: '/requestId', message: `requestId ${request.requestId} is already used by a different request` },
    ]);
    expect((await h.store.require(request.requestId)).requestHash).toBe(before.requestHash);
  });

  const invalid: Array<[string, unknown, string[]]> = [
    ['no provider', { requestId: 'bad-1', cluster: {} }, ['/provider']],
    ['an unknown provider', { requestId: 'bad-2', provider: 'gcp', cluster: {} }, ['/provider']],
    [
      'a bad cluster name and a missing role',
      (() => {
        const r = hyperpodRequest();
        r.requestId = 'bad-3';
        r.cluster.ClusterName = '-bad';
        delete (r.cluster.InstanceGroups[0] as Partial<(typeof r.cluster.InstanceGroups)[0]>).ExecutionRole;
        return r;
      })(),
      ['/cluster/ClusterName', '/cluster/InstanceGroups/0/ExecutionRole'],
    ],
    ['a typo in a field name', { ...tirRequest(), requestId: 'bad-4', projectid: 1 }, ['/projectid']],
    ['a field of the other provider', { ...hyperpodRequest(), requestId: 'bad-5', location: 'Delhi' }, ['/location']],
    ['a JSON array', [1, 2], ['']],
  ];

  it.each(invalid)('answers 400 naming each bad field for %s, and records nothing', async (_name, body, paths) => {
    const executions = h.workflows.list().length;
    const res = await submit(body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ValidationFailed');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(paths));
    const id = (body as { requestId?: string }).requestId;
    if (id) expect(await h.store.get(id)).toBeUndefined();
    expect(h.workflows.list()).toHaveLength(executions);
  });

  it('answers 413 for a body over 64 KiB', async () => {
    const res = await submit({ ...hyperpodRequest(), padding: 'x'.repeat(70 * 1024) });
    expect(res.status).toBe(413);
  });

  it.each([
    ['text/plain', 415],
    ['application/x-www-form-urlencoded', 415],
    ['', 415],
  ])('answers %s with %i', async (contentType, status) => {
    const res = await submit(hyperpodRequest(), { headers: { 'content-type': contentType } });
    expect(res.status).toBe(status);
  });

  it('accepts application/json with a charset, and a base64-encoded body', async () => {
    const a = await submit(hyperpodRequest(), { headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(a.status).toBe(202);
    const b = await submit(Buffer.from(JSON.stringify(hyperpodRequest())).toString('base64'), { isBase64Encoded: true });
    expect(b.status).toBe(202);
  });

  it.each([['{"provider": "sagemaker",'], ['not json'], ['']])('answers 400 for a malformed body %j', async (raw) => {
    const res = await submit(raw);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('MalformedBody');
  });

  it('answers the body errors with their documented codes, messages and field errors', async () => {
    expect((await submit(hyperpodRequest(), { headers: { 'content-type': 'text/plain' } })).body).toEqual({
      code: 'UnsupportedMediaType',
      message: 'Content-Type must be application/json (got "text/plain")',
      errors: [{ path: '/headers/content-type', message: 'must be application/json or a +json type' }],
    });
    expect((await submit(hyperpodRequest(), { headers: { 'content-type': '' } })).body.message).toBe(
      'Content-Type must be application/json (got none)',
    );
    const large = await submit({ ...hyperpodRequest(), padding: 'x'.repeat(70 * 1024) });
    expect(large.body).toEqual({
      code: 'PayloadTooLarge',
      message: expect.stringMatching(/^The body is \d+ bytes; at most 65536 are accepted$/),
      errors: [{ path: '', message: 'must be at most 65536 bytes' }],
    });
    expect((await submit('')).body).toEqual({
      code: 'MalformedBody',
      message: 'The body is empty; a JSON request is expected',
      errors: [{ path: '', message: 'is required' }],
    });
    expect((await submit('{"provider": ')).body).toEqual({
      code: 'MalformedBody',
      message: 'The body is not valid JSON',
      errors: [{ path: '', message: expect.stringMatching(/^is not valid JSON \(.+\)$/) }],
    });
  });

  it('checks the content type first, then the size (before parsing), then the JSON', async () => {
    const huge = 'x'.repeat(70 * 1024);
    expect((await submit(huge, { headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await submit(`{${huge}`)).status).toBe(413);
    expect(
      (await submit(Buffer.from(JSON.stringify({ ...hyperpodRequest(), padding: huge })).toString('base64'), { isBase64Encoded: true }))
        .status,
    ).toBe(413);
  });

  it('takes the media type in any case and a JSON suffix type', async () => {
    expect((await submit(hyperpodRequest(), { headers: { 'content-type': 'Application/JSON ; charset=UTF-8' } })).status).toBe(202);
    expect((await submit(hyperpodRequest(), { headers: { 'content-type': 'application/vnd.provisioner+json' } })).status).toBe(202);
  });

  it('answers errors as JSON with one lower-case content-type header, like successes', async () => {
    for (const res of [
      await submit('', {}),
      await submit(hyperpodRequest(), { headers: { 'content-type': 'text/plain' } }),
      await get('no-such-request'),
    ]) {
      expect(res.headers).toEqual({ 'content-type': 'application/json' });
    }
  });

  it('schedules a request with a future startAt and shows it SCHEDULED', async () => {
    const startAt = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}/, '');
    const request = { ...hyperpodRequest(), startAt };
    const res = await submit(request);
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('SCHEDULED');
    expect(h.schedules).toContainEqual({ action: 'provision', requestId: request.requestId, at: new Date(startAt) });
    expect(h.workflows.get(request.requestId)).toBeUndefined();
  });

  it('answers 400 for a startAt more than a year ahead, and records nothing', async () => {
    const request = { ...hyperpodRequest(), startAt: new Date(Date.now() + 400 * 24 * 3600_000).toISOString() };
    const res = await submit(request);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: '/startAt', message: 'must be at most 366 days from now' }]);
    expect(await h.store.get(request.requestId)).toBeUndefined();
  });

  it('does not strand a record when the start fails: a retry of the same request goes through', async () => {
    let failStart = true;
    const flaky: SubmitDeps = {
      ...h.submitDeps,
      starter: {
        ...h.submitDeps.starter,
        startProvisioning: async (requestId) => {
          if (failStart) {
            failStart = false;
            throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443 (internal detail)'), { name: 'TimeoutError' });
          }
          return h.submitDeps.starter.startProvisioning(requestId);
        },
      },
    };
    const request = hyperpodRequest();
    const first = await submit(request, {}, () => flaky);
    expect(first.status).toBe(500);
    expect(JSON.stringify(first.body)).not.toMatch(/ECONNREFUSED|internal detail|at .*\.ts/);
    expect((await h.store.require(request.requestId)).status).toBe('ACCEPTED');
    const retry = await submit(request, {}, () => flaky);
    expect(retry.status).toBe(200);
    expect(h.workflows.get(request.requestId)).toBeDefined();
  });
});

describe('GET /clusters/{requestId}', () => {
  it('returns the record with status, attempts, history and provider ids', async () => {
    const request = hyperpodRequest();
    await submit(request);
    await h.workflows.get(request.requestId)!.done;
    const res = await get(request.requestId);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ requestId: request.requestId, status: 'READY', attempts: 1, provider: 'sagemaker' });
    expect(res.body.providerId).toMatch(/^arn:aws:sagemaker:/);
    expect(res.body.history.length).toBeGreaterThan(1);
  });

  it.each(['no-such-request', 'bad%20id', 'x'.repeat(65)])('answers 404 for %s', async (id) => {
    const res = await get(id);
    expect(res.status).toBe(404);
  });

  it('answers 500 with only the Lambda request id to quote', async () => {
    const broken = {
      get: async () => {
        throw new Error('internal detail');
      },
    } as unknown as ClusterStore;
    const context = lambdaContext();
    const result = await makeGet(() => broken)(
      httpEvent('GET /clusters/{requestId}', '/clusters/any-id', { pathParameters: { requestId: 'any-id' } }),
      context,
    );
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body!)).toEqual({
      code: 'InternalError',
      message: `Internal error; quote request id ${context.awsRequestId}`,
    });
  });

  it("answers 503 with Retry-After and without the store's own text when the store is unavailable for a moment", async () => {
    const unavailable = {
      get: async () => {
        throw new StoreUnavailableError('The record store is unavailable (TimeoutError): http://10.0.0.7:8000 requestTimeout');
      },
    } as unknown as ClusterStore;
    const res = await get('any-id', () => unavailable);
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('ServiceUnavailable');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.stringify(res.body)).not.toMatch(/10\.0\.0\.7|TimeoutError|requestTimeout/);
  });

  it('answers 500 without internal text when the store fails', async () => {
    const broken = {
      get: async () => {
        throw new Error('AccessDeniedException: arn:aws:dynamodb:us-east-1:123456789012:table/secret-table');
      },
    } as unknown as ClusterStore;
    const res = await get('any-id', () => broken);
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('InternalError');
    expect(JSON.stringify(res.body)).not.toMatch(/dynamodb|secret-table|AccessDenied/);
  });
});

describe('GET /clusters', () => {
  it('lists newest first, filters by status and provider, and pages with a cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = tirRequest();
      ids.push(r.requestId);
      await submit(r);
    }
    await h.workflows.settle();
    const first = await list({ provider: 'tir', status: 'READY', limit: '2' });
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.cursor).toBeTruthy();
    const all: string[] = first.body.items.map((i: { requestId: string }) => i.requestId);
    let cursor = first.body.cursor as string | undefined;
    while (cursor) {
      const page = await list({ provider: 'tir', status: 'READY', limit: '2', cursor });
      all.push(...page.body.items.map((i: { requestId: string }) => i.requestId));
      cursor = page.body.cursor;
    }
    expect(new Set(all).size).toBe(all.length);
    // Newest first: the three made last come first, in reverse order of submission.
    expect(all.slice(0, 3)).toEqual([...ids].reverse());
    for (const item of first.body.items) expect(item).toMatchObject({ provider: 'tir', status: 'READY' });
  });

  it.each([
    [{ status: 'RUNNING' }, '/queryStringParameters/status'],
    [{ provider: 'gcp' }, '/queryStringParameters/provider'],
    [{ limit: '0' }, '/queryStringParameters/limit'],
    [{ limit: '101' }, '/queryStringParameters/limit'],
    [{ limit: 'ten' }, '/queryStringParameters/limit'],
    [{ sort: 'asc' }, '/queryStringParameters/sort'],
    [{ cursor: 'bm90LWEtY3Vyc29y' }, '/queryStringParameters/cursor'],
  ])('answers 400 for %j naming %s', async (query, path) => {
    const res = await list(query as Record<string, string>);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });
});

describe('DELETE /clusters/{requestId}', () => {
  it('answers 202 and runs the delete workflow to DELETED', async () => {
    const request = tirRequest();
    await submit(request);
    await h.workflows.get(request.requestId)!.done;
    const res = await del(request.requestId);
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('DELETING');
    await h.workflows.settle();
    expect((await h.store.require(request.requestId)).status).toBe('DELETED');
    // Deleting again: the cluster is gone, nothing left to delete.
    expect((await del(request.requestId)).status).toBe(409);
  });

  it('cancels a SCHEDULED request with 200 (DELETED, nothing created), and its schedule then does nothing', async () => {
    const request = { ...hyperpodRequest(), startAt: new Date(Date.now() + 3600_000).toISOString() };
    await submit(request);
    const res = await del(request.requestId);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('DELETED');
    const record = await h.store.require(request.requestId);
    expect(record.history.map((x) => x.to)).toEqual(['SCHEDULED', 'DELETED']);
    expect(h.workflows.get(request.requestId)).toBeUndefined();
  });

  it('answers 404 for an unknown request, 202 for a cluster still being provisioned (a cancel), and 409 once it is deleted', async () => {
    expect((await del('nobody-asked-for-this')).status).toBe(404);
    const slow = await startEntryHarness({ sagemaker: { readyAfterMs: 60_000, deleteAfterMs: 50 } });
    try {
      const request = hyperpodRequest();
      await submitVia(slow, request);
      await slow.waitForStatus(request.requestId, 'CREATING');
      const deleteVia = () =>
        call(makeDelete(() => slow.submitDeps) as unknown as Handler, 'DELETE /clusters/{requestId}', `/clusters/${request.requestId}`, {
          pathParameters: { requestId: request.requestId },
        });
      const res = await deleteVia();
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ status: 'DELETING', cluster: { cancelledAt: expect.any(String) } });
      await slow.waitForStatus(request.requestId, 'DELETED');
      expect((await deleteVia()).status).toBe(409);
    } finally {
      await slow.close();
    }
  });
});

describe('callers own their requests', () => {
  const ALICE = 'arn:aws:sts::123456789012:assumed-role/Alice/session-1';
  const BOB = 'arn:aws:iam::123456789012:user/bob';
  const ADMIN = 'arn:aws:iam::123456789012:role/Ops';
  const admins = () => [ADMIN];
  const as = (userArn: string) => ({
    submit: (body: unknown) =>
      call(makeSubmit(() => h.submitDeps, admins) as unknown as Handler, 'POST /clusters', '/clusters', {
        body: JSON.stringify(body),
        userArn,
      }),
    get: (requestId: string) =>
      call(makeGet(() => h.store, admins) as unknown as Handler, 'GET /clusters/{requestId}', `/clusters/${requestId}`, {
        pathParameters: { requestId },
        userArn,
      }),
    del: (requestId: string) =>
      call(makeDelete(() => h.submitDeps, admins) as unknown as Handler, 'DELETE /clusters/{requestId}', `/clusters/${requestId}`, {
        pathParameters: { requestId },
        userArn,
      }),
    list: (query: Record<string, string>) =>
      call(makeList(() => h.store, admins) as unknown as Handler, 'GET /clusters', '/clusters', { query, userArn }),
  });
  const alice = as(ALICE);
  const bob = as(BOB);
  const admin = as('arn:aws:sts::123456789012:assumed-role/Ops/oncall');

  it('records the caller as the owner, an assumed-role session as its role', async () => {
    const request = tirRequest();
    const res = await alice.submit(request);
    expect(res.status).toBe(202);
    expect(res.body.cluster.owner).toBe('arn:aws:iam::123456789012:role/Alice');
    expect((await h.store.require(request.requestId)).owner).toBe('arn:aws:iam::123456789012:role/Alice');
    // Another session of the same role owns it too.
    expect((await as('arn:aws:sts::123456789012:assumed-role/Alice/session-2').get(request.requestId)).status).toBe(200);
  });

  it("answers 404 to another caller's GET and DELETE, as for an unknown request, and changes nothing", async () => {
    const request = tirRequest();
    await alice.submit(request);
    await h.workflows.get(request.requestId)!.done;
    const read = await bob.get(request.requestId);
    expect(read.status).toBe(404);
    expect(read.body.code).toBe((await bob.get('nobody-asked-for-this')).body.code);
    expect(read.body.message).toBe(`No cluster request ${request.requestId}`);
    const deleted = await bob.del(request.requestId);
    expect(deleted.status).toBe(404);
    expect((await h.store.require(request.requestId)).status).toBe('READY');
    expect((await alice.get(request.requestId)).status).toBe(200);
  });

  it("answers 409 to another caller's replay of the same request, without its record", async () => {
    const request = tirRequest();
    await alice.submit(request);
    const replay = await bob.submit(request);
    expect(replay.status).toBe(409);
    expect(replay.body.code).toBe('Conflict');
    expect(replay.body.cluster).toBeUndefined();
    expect((await alice.submit(request)).status).toBe(200);
  });

  it("lets an admin read and delete anyone's request", async () => {
    const request = tirRequest();
    await alice.submit(request);
    await h.workflows.get(request.requestId)!.done;
    expect((await admin.get(request.requestId)).body).toMatchObject({ requestId: request.requestId, owner: expect.any(String) });
    expect((await admin.del(request.requestId)).status).toBe(202);
    await h.workflows.settle();
    expect((await h.store.require(request.requestId)).status).toBe('DELETED');
  });

  it('keeps a request without a caller (queue, bus, schedule) to admins', async () => {
    const request = tirRequest();
    const { record } = await submitRequest(h.submitDeps, request, 'sqs');
    expect(record.owner).toBe('sqs');
    expect((await alice.get(request.requestId)).status).toBe(404);
    expect((await alice.del(request.requestId)).status).toBe(404);
    expect((await admin.get(request.requestId)).body.owner).toBe('sqs');
  });

  it('answers 403 to POST /reconcile from a caller that is not an admin, and runs it for an admin', async () => {
    const reconcile = (userArn: string) =>
      call(
        makeReconcile(() => ({ store: h.store, starter: h.workflows.starter(), graceSeconds: 3600 }), admins) as unknown as Handler,
        'POST /reconcile',
        '/reconcile',
        { userArn },
      );
    const refused = await reconcile(BOB);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('Forbidden');
    expect((await reconcile(ADMIN)).status).toBe(200);
  });

  it("lists only the caller's own requests, and every request to an admin", async () => {
    const mine = [tirRequest(), tirRequest()];
    const theirs = tirRequest();
    for (const r of mine) await alice.submit(r);
    await bob.submit(theirs);
    const ids = (res: { body: { items: Array<{ requestId: string; owner?: string }> } }) => res.body.items.map((i) => i.requestId);
    const aliceSees = await alice.list({ limit: '100' });
    expect(aliceSees.status).toBe(200);
    expect(ids(aliceSees)).toEqual(expect.arrayContaining(mine.map((r) => r.requestId)));
    expect(ids(aliceSees)).not.toContain(theirs.requestId);
    for (const item of aliceSees.body.items) expect(item.owner).toBe('arn:aws:iam::123456789012:role/Alice');
    expect(ids(await bob.list({ limit: '100' }))).toEqual([theirs.requestId]);
    const all = ids(await admin.list({ limit: '100' }));
    expect(all).toEqual(expect.arrayContaining([...mine.map((r) => r.requestId), theirs.requestId]));
    // The default caller of the other tests sees its own, none of these.
    expect(ids(await as(PLATFORM_CALLER).list({ limit: '100' }))).not.toContain(theirs.requestId);
  });

  it("gives a caller cursors that carry no other owner's request, and answers a tampered cursor 400", async () => {
    // Bob has many requests, Carol (a new caller) one, older than all of Bob's: her pages walk past Bob's.
    const carol = as('arn:aws:iam::123456789012:user/carol');
    const hers = tirRequest();
    await carol.submit(hers);
    const bobs = Array.from({ length: 6 }, () => tirRequest());
    for (const r of bobs) await bob.submit(r);
    const bobIds = new Set(bobs.map((r) => r.requestId));
    const seen: string[] = [];
    const cursors: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await carol.list({ limit: '1', ...(cursor ? { cursor } : {}) });
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((i: { requestId: string }) => i.requestId));
      cursor = page.body.cursor;
      if (cursor) cursors.push(cursor);
    } while (cursor && ++pages < 50);
    expect(seen).toContain(hers.requestId);
    expect(seen.filter((id) => bobIds.has(id))).toEqual([]);
    // Nothing in a cursor names anyone's request, whatever way it is decoded.
    for (const c of cursors) {
      const decoded = [c, Buffer.from(c, 'base64url').toString('utf8'), Buffer.from(c, 'base64').toString('latin1')].join(' ');
      for (const id of [...bobIds, hers.requestId]) expect(decoded).not.toContain(id);
    }
    // A cursor altered by one character, or another caller's, is refused at its pointer.
    const { cursor: adminCursor } = (await admin.list({ limit: '1' })).body as { cursor?: string };
    expect(adminCursor).toBeDefined();
    const flipped = `${adminCursor!.slice(0, 20)}${adminCursor![20] === 'A' ? 'B' : 'A'}${adminCursor!.slice(21)}`;
    for (const bad of [flipped, adminCursor!]) {
      const res = await carol.list({ limit: '1', cursor: bad });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('InvalidCursor');
    }
  });
});

const submitVia = (harness: EntryHarness, request: unknown) =>
  call(makeSubmit(() => harness.submitDeps) as unknown as Handler, 'POST /clusters', '/clusters', { body: JSON.stringify(request) });
