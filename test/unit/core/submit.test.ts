/**
 * The submit path (functions/core/submit.ts) driven directly: the store in memory, a fake Step Functions starter, a
 * fake one-time scheduler and a hand-moved clock (2026-03-02T09:00:00Z unless a test moves it). The entry points that
 * call it (HTTP, SQS, EventBridge, schedules) are tested in test/handlers.
 */
import { describe, expect, it } from 'vitest';
import { RecordConflictError, RecordNotFoundError, RequestValidationError } from '../../../functions/core/errors';
import { requestHash } from '../../../functions/core/request';
import { releaseScheduled, requestDeletion, submitRequest } from '../../../functions/core/submit';
import { recordOutcome } from '../../../functions/core/workflow';
import { DEFAULT_REGION, sagemakerRequest, tirRequest, world, type World } from '../../fakes/world';

const HOUR = 3600;
const DAY = 86400;

const later = (w: World, seconds: number): string => new Date(w.clock.now().getTime() + seconds * 1000).toISOString();

/** The RequestValidationError a promise rejects with (fails the test if it resolves or throws something else). */
const validationError = async (promise: Promise<unknown>): Promise<RequestValidationError> => {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(RequestValidationError);
  return error as RequestValidationError;
};

describe('submitRequest', () => {
  it('records a new request ACCEPTED and starts the provision workflow named by its requestId', async () => {
    // Prepare
    const w = world();

    // Act
    const { created, record } = await submitRequest(w.submit, sagemakerRequest());

    // Assess
    expect(created).toBe(true);
    expect(record).toMatchObject({
      requestId: 'unit-sm-001',
      provider: 'sagemaker',
      region: 'us-east-1',
      clusterName: 'unit-p5',
      status: 'ACCEPTED',
      attempts: 0,
      acceptedAt: w.clock.iso(),
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:provision-cluster:unit-sm-001',
    });
    expect(record.history).toEqual([{ to: 'ACCEPTED', at: w.clock.iso(), reason: 'request accepted' }]);
    expect(w.starter.calls).toEqual([{ op: 'startProvisioning', requestId: 'unit-sm-001', executionName: 'unit-sm-001' }]);
    expect(await w.store.require('unit-sm-001')).toEqual(record);
  });

  it('records where a TIR cluster lives', async () => {
    const w = world();
    const { record } = await submitRequest(w.submit, tirRequest({ activeIam: 9 }));
    expect(record).toMatchObject({ provider: 'tir', projectId: 12345, location: 'Delhi', activeIam: 9, clusterName: 'unit-tir' });
    expect(record.region).toBeUndefined();
    expect(record.request).not.toHaveProperty('region');

    const { record: withoutIam } = await submitRequest(w.submit, tirRequest({ requestId: 'unit-tir-002' }));
    expect(withoutIam).not.toHaveProperty('activeIam');
  });

  it('keeps the region a sagemaker request names', async () => {
    const w = world();
    const { record } = await submitRequest({ ...w.submit, defaultRegion: 'eu-west-1' }, sagemakerRequest({ region: 'us-west-2' }));
    expect(record.region).toBe('us-west-2');
  });

  it("fills in the deployment's region for a sagemaker request that names none", async () => {
    const w = world();
    const { region: _none, ...request } = sagemakerRequest();

    const { record } = await submitRequest({ ...w.submit, defaultRegion: 'eu-west-1' }, request);

    expect(record.region).toBe('eu-west-1');
    expect((record.request as { region?: string }).region).toBe('eu-west-1');
  });

  it('derives the requestId from the request when it brings none, the same for the same request', async () => {
    const w = world();
    const { requestId: _none, ...request } = sagemakerRequest();

    const first = await submitRequest(w.submit, request);
    const second = await submitRequest(w.submit, { ...request, cluster: { ...request.cluster } });

    expect(first.record.requestId).toMatch(/^req-[0-9a-f]{40}$/);
    expect(second).toMatchObject({ created: false, record: { requestId: first.record.requestId } });
  });

  it('does not record $schema, nor let it change the request hash', async () => {
    const w = world();
    await submitRequest(w.submit, { $schema: '../functions/contract/request.schema.json', ...sagemakerRequest() });

    const replay = await submitRequest(w.submit, sagemakerRequest());

    expect(replay.created).toBe(false);
    expect(replay.record.request).not.toHaveProperty('$schema');
    expect(replay.record.requestHash).toBe(requestHash({ ...sagemakerRequest(), region: DEFAULT_REGION }));
  });

  it('answers a replay with the record already there, created false, writing nothing new', async () => {
    // Prepare
    const w = world();
    const first = await submitRequest(w.submit, sagemakerRequest());
    w.clock.advance(60);
    const writes = w.store.writes.length;

    // Act
    const replay = await submitRequest(w.submit, sagemakerRequest());

    // Assess: the start is asked again (idempotent by execution name) and the record is unchanged
    expect(replay).toEqual({ created: false, record: first.record });
    expect(w.store.writes).toHaveLength(writes);
    expect(w.starter.calls).toHaveLength(2);
  });

  it('heals a failed start: the record stays ACCEPTED without an execution, and a replay starts it', async () => {
    const w = world();
    w.starter.refuseNextStart(new Error('ThrottlingException'));
    await expect(submitRequest(w.submit, sagemakerRequest())).rejects.toThrow('ThrottlingException');
    const stranded = await w.store.require('unit-sm-001');
    expect(stranded.status).toBe('ACCEPTED');
    expect(stranded.executionArn).toBeUndefined();

    const replay = await submitRequest(w.submit, sagemakerRequest());

    expect(replay.created).toBe(false);
    expect(replay.record.executionArn).toContain('provision-cluster:unit-sm-001');
    expect((await w.store.require('unit-sm-001')).executionArn).toBe(replay.record.executionArn);
  });

  it('does not start again a replayed request that is already past ACCEPTED', async () => {
    const w = world();
    await submitRequest(w.submit, sagemakerRequest());
    await w.store.transition('unit-sm-001', 'CREATING', { providerId: 'arn:x' });

    const replay = await submitRequest(w.submit, sagemakerRequest());

    expect(replay.record.status).toBe('CREATING');
    expect(w.starter.calls).toHaveLength(1);
  });

  it('keeps the record when the workflow has already moved it on before the execution ARN is written', async () => {
    const w = world();
    w.store.beforeWrite = async (kind, requestId) => {
      if (kind !== 'update') return;
      w.store.beforeWrite = undefined;
      await w.store.transition(requestId, 'DELETING', { deleteRequestedAt: w.clock.iso() });
      await w.store.transition(requestId, 'DELETED');
    };

    const { record } = await submitRequest(w.submit, sagemakerRequest());

    expect(record.status).toBe('DELETED');
  });

  it.each([
    ['CREATING', ['CREATING']],
    ['WAITING_FOR_CAPACITY', ['WAITING_FOR_CAPACITY']],
    ['READY', ['CREATING', 'READY']],
    ['FAILED', ['FAILED']],
  ] as const)('records the execution ARN even when the workflow has already moved the record to %s', async (_status, path) => {
    const w = world();
    w.store.beforeWrite = async (kind, requestId) => {
      if (kind !== 'update') return;
      w.store.beforeWrite = undefined;
      for (const to of path) await w.store.transition(requestId, to, to === 'CREATING' ? { providerId: 'arn:x' } : {});
    };

    const { record } = await submitRequest(w.submit, sagemakerRequest());

    expect(record.status).toBe(path.at(-1));
    expect(record.executionArn).toContain('provision-cluster:unit-sm-001');
  });

  it('lets a store failure on the execution ARN write through', async () => {
    const w = world();
    const outage = new Error('InternalServerError');
    w.store.beforeWrite = (kind) => {
      if (kind === 'update') throw outage;
    };

    await expect(submitRequest(w.submit, sagemakerRequest())).rejects.toBe(outage);
  });

  it('refuses the same requestId with a different request (RecordConflictError) and keeps the first', async () => {
    const w = world();
    const first = await submitRequest(w.submit, sagemakerRequest());

    const other = sagemakerRequest({ deleteAfter: 'PT8H' });
    await expect(submitRequest(w.submit, other)).rejects.toBeInstanceOf(RecordConflictError);

    expect(await w.store.require('unit-sm-001')).toEqual(first.record);
    expect(w.starter.calls).toHaveLength(1);
  });

  it('rejects an invalid request before recording anything', async () => {
    const w = world();
    const error = await validationError(submitRequest(w.submit, { ...sagemakerRequest(), provider: 'gcp' }));

    expect(error.errors.some((e) => e.path === '/provider')).toBe(true);
    expect(w.store.all()).toEqual([]);
    expect(w.starter.calls).toEqual([]);
  });

  it('records deleteAfter for the teardown', async () => {
    const w = world();
    const { record } = await submitRequest(w.submit, sagemakerRequest({ deleteAfter: 'P1DT12H' }));
    expect(record.deleteAfter).toBe('P1DT12H');
  });
});

describe('submitRequest: retry.until against the clock', () => {
  it.each([
    ['now', 0],
    ['an hour ago', -HOUR],
    ['more than 14 days ahead', 14 * DAY + 1],
  ])('rejects an until %s at /retry/until, recording nothing', async (_label, offset) => {
    const w = world();
    const error = await validationError(submitRequest(w.submit, sagemakerRequest({ retry: { until: later(w, offset) } })));

    expect(error.errors.map((e) => e.path)).toEqual(['/retry/until']);
    expect(w.store.all()).toEqual([]);
  });

  it.each([
    ['a second ahead', 1],
    ['exactly 14 days ahead', 14 * DAY],
  ])('accepts an until %s', async (_label, offset) => {
    const w = world();
    const { record } = await submitRequest(w.submit, sagemakerRequest({ retry: { until: later(w, offset) } }));
    expect(record.status).toBe('ACCEPTED');
  });

  it('measures until from startAt when the request is scheduled', async () => {
    const w = world();
    const startAt = later(w, DAY);
    const at = (seconds: number) => new Date(Date.parse(startAt) + seconds * 1000).toISOString();

    const before = await validationError(
      submitRequest(w.submit, sagemakerRequest({ requestId: 'a', startAt, retry: { until: at(-HOUR) } })),
    );
    const tooLong = await validationError(
      submitRequest(w.submit, sagemakerRequest({ requestId: 'b', startAt, retry: { until: at(14 * DAY + 1) } })),
    );
    const fits = await submitRequest(w.submit, sagemakerRequest({ requestId: 'c', startAt, retry: { until: at(14 * DAY) } }));

    expect(before.errors.map((e) => e.path)).toEqual(['/retry/until']);
    expect(before.errors[0]?.message).toContain('startAt');
    expect(tooLong.errors.map((e) => e.path)).toEqual(['/retry/until']);
    expect(fits.record.status).toBe('SCHEDULED');
  });
});

describe('submitRequest: startAt', () => {
  it('schedules a request whose startAt is more than a minute ahead, without starting it', async () => {
    // Prepare
    const w = world();
    const startAt = later(w, 2 * HOUR);

    // Act
    const { created, record } = await submitRequest(w.submit, sagemakerRequest({ startAt }));

    // Assess
    expect(created).toBe(true);
    expect(record).toMatchObject({ status: 'SCHEDULED', scheduledFor: startAt });
    expect(record.history).toEqual([{ to: 'SCHEDULED', at: w.clock.iso(), reason: `scheduled for ${startAt}` }]);
    expect(w.scheduler.calls).toEqual([{ requestId: 'unit-sm-001', at: startAt }]);
    expect(w.starter.calls).toEqual([]);
  });

  it('starts at once a startAt at most a minute ahead (or past)', async () => {
    for (const offset of [60, 0, -HOUR]) {
      const w = world();
      const { record } = await submitRequest(w.submit, sagemakerRequest({ startAt: later(w, offset) }));
      expect(record.status).toBe('ACCEPTED');
      expect(record.scheduledFor).toBeUndefined();
      expect(w.starter.calls).toHaveLength(1);
    }
    const w = world();
    expect((await submitRequest(w.submit, sagemakerRequest({ startAt: later(w, 61) }))).record.status).toBe('SCHEDULED');
  });

  it('rejects a startAt more than 366 days ahead at /startAt, recording nothing', async () => {
    const w = world();
    const error = await validationError(submitRequest(w.submit, sagemakerRequest({ startAt: later(w, 366 * DAY + 1) })));

    expect(error.errors.map((e) => e.path)).toEqual(['/startAt']);
    expect(w.store.all()).toEqual([]);
    expect(w.scheduler.calls).toEqual([]);
    expect((await submitRequest(w.submit, sagemakerRequest({ startAt: later(w, 366 * DAY) }))).record.status).toBe('SCHEDULED');
  });

  it('refuses a scheduled request where no scheduler is deployed (RecordConflictError), recording nothing', async () => {
    const w = world();
    const { scheduler: _none, ...deps } = w.submit;

    await expect(submitRequest(deps, sagemakerRequest({ startAt: later(w, HOUR) }))).rejects.toBeInstanceOf(RecordConflictError);
    expect(w.store.all()).toEqual([]);
  });

  it('schedules again, at the recorded time, on a replay of a scheduled request', async () => {
    const w = world();
    const startAt = later(w, 2 * HOUR);
    await submitRequest(w.submit, sagemakerRequest({ startAt }));
    w.clock.advance(HOUR);

    const replay = await submitRequest(w.submit, sagemakerRequest({ startAt }));

    expect(replay.created).toBe(false);
    expect(w.scheduler.calls).toEqual([
      { requestId: 'unit-sm-001', at: startAt },
      { requestId: 'unit-sm-001', at: startAt },
    ]);
    expect(w.starter.calls).toEqual([]);
  });
});

describe('submitRequest: a scheduled replay', () => {
  it('answers a replay of a scheduled request close to its start even where no scheduler is deployed', async () => {
    const w = world();
    const startAt = later(w, 2 * HOUR);
    await submitRequest(w.submit, sagemakerRequest({ startAt }));
    w.clock.set(new Date(Date.parse(startAt) - 30_000).toISOString());
    const { scheduler: _none, ...deps } = w.submit;

    const replay = await submitRequest(deps, sagemakerRequest({ startAt }));

    expect(replay).toMatchObject({ created: false, record: { status: 'SCHEDULED' } });
  });
});

describe('releaseScheduled', () => {
  const scheduled = async () => {
    const w = world();
    const startAt = later(w, 2 * HOUR);
    await submitRequest(w.submit, sagemakerRequest({ startAt }));
    w.clock.set(startAt);
    return w;
  };

  it('moves a SCHEDULED request to ACCEPTED and starts its provisioning', async () => {
    const w = await scheduled();

    const record = await releaseScheduled(w.submit, 'unit-sm-001');

    expect(record.status).toBe('ACCEPTED');
    expect(record.executionArn).toContain('provision-cluster:unit-sm-001');
    expect(record.history.at(-1)).toMatchObject({ from: 'SCHEDULED', to: 'ACCEPTED', at: w.clock.iso() });
    expect(w.starter.calls).toEqual([{ op: 'startProvisioning', requestId: 'unit-sm-001', executionName: 'unit-sm-001' }]);
  });

  it('starts again a request left ACCEPTED by a failed start', async () => {
    const w = await scheduled();
    w.starter.refuseNextStart(new Error('ServiceUnavailable'));
    await expect(releaseScheduled(w.submit, 'unit-sm-001')).rejects.toThrow('ServiceUnavailable');

    const record = await releaseScheduled(w.submit, 'unit-sm-001');

    expect(record).toMatchObject({ status: 'ACCEPTED', executionArn: expect.stringContaining('unit-sm-001') });
  });

  it('does nothing on a second firing after the provisioning started', async () => {
    const w = await scheduled();
    await releaseScheduled(w.submit, 'unit-sm-001');
    await w.store.transition('unit-sm-001', 'CREATING', { providerId: 'arn:x' });

    const record = await releaseScheduled(w.submit, 'unit-sm-001');

    expect(record.status).toBe('CREATING');
    expect(w.starter.calls).toHaveLength(1);
  });

  it('does not start a request cancelled before its start time', async () => {
    const w = await scheduled();
    await requestDeletion(w.submit, 'unit-sm-001');

    const record = await releaseScheduled(w.submit, 'unit-sm-001');

    expect(record.status).toBe('DELETED');
    expect(w.starter.calls).toEqual([]);
  });

  it('throws RecordNotFoundError for an unknown request', async () => {
    await expect(releaseScheduled(world().submit, 'nobody')).rejects.toBeInstanceOf(RecordNotFoundError);
  });
});

describe('requestDeletion', () => {
  const readyRecord = async () => {
    const w = world();
    await submitRequest(w.submit, sagemakerRequest());
    await w.store.transition('unit-sm-001', 'CREATING', { providerId: 'arn:aws:sagemaker:us-east-1:123456789012:cluster/x' });
    await recordOutcome(w.workflow, { requestId: 'unit-sm-001', outcome: 'READY' });
    w.starter.calls.length = 0;
    return w;
  };

  it('moves a READY record to DELETING and starts the first delete execution', async () => {
    const w = await readyRecord();
    w.clock.advance(HOUR);

    const record = await requestDeletion(w.submit, 'unit-sm-001');

    expect(record).toMatchObject({ status: 'DELETING', deleteRequestedAt: w.clock.iso() });
    expect(record.cancelledAt).toBeUndefined();
    expect(record.history.at(-1)).toMatchObject({ from: 'READY', to: 'DELETING', reason: 'delete requested' });
    expect(w.starter.calls).toEqual([{ op: 'startDeletion', requestId: 'unit-sm-001', executionName: 'unit-sm-001-delete-1' }]);
    expect(record.deleteExecutionArn).toBe('arn:aws:states:us-east-1:123456789012:execution:delete-cluster:unit-sm-001-delete-1');
  });

  it('records the reason it is given', async () => {
    const w = await readyRecord();
    const record = await requestDeletion(w.submit, 'unit-sm-001', 'deleteAfter PT8H reached');
    expect(record.history.at(-1)?.reason).toBe('deleteAfter PT8H reached');
  });

  it('starts the same execution again when asked again while DELETING, changing nothing', async () => {
    const w = await readyRecord();
    const first = await requestDeletion(w.submit, 'unit-sm-001');
    const writes = w.store.writes.length;

    const again = await requestDeletion(w.submit, 'unit-sm-001');

    expect(again).toEqual(first);
    expect(w.store.writes).toHaveLength(writes);
    expect(w.starter.calls.map((c) => (c.op === 'startDeletion' ? c.executionName : c.op))).toEqual([
      'unit-sm-001-delete-1',
      'unit-sm-001-delete-1',
    ]);
  });

  it('starts a new round after a failed delete', async () => {
    const w = await readyRecord();
    await requestDeletion(w.submit, 'unit-sm-001');
    await recordOutcome(w.workflow, {
      requestId: 'unit-sm-001',
      outcome: 'DELETE_FAILED',
      error: { Error: 'ProvisioningTimeoutError', Cause: 'not deleted' },
    });

    const record = await requestDeletion(w.submit, 'unit-sm-001');

    expect(record.status).toBe('DELETING');
    expect(record.deleteExecutionArn).toContain('unit-sm-001-delete-2');
  });

  it('cancels a SCHEDULED request outright: DELETED with cancelledAt, no workflow', async () => {
    const w = world();
    await submitRequest(w.submit, sagemakerRequest({ startAt: later(w, 2 * HOUR) }));

    const record = await requestDeletion(w.submit, 'unit-sm-001');

    expect(record).toMatchObject({ status: 'DELETED', deletedAt: w.clock.iso(), cancelledAt: w.clock.iso() });
    expect(w.starter.calls).toEqual([]);
  });

  it('stops no execution when cancelling a request whose provision start had failed', async () => {
    const w = world();
    w.starter.refuseNextStart(new Error('ThrottlingException'));
    await submitRequest(w.submit, sagemakerRequest()).catch(() => undefined);
    w.starter.calls.length = 0;

    const record = await requestDeletion(w.submit, 'unit-sm-001');

    expect(record).toMatchObject({ status: 'DELETING', cancelledAt: w.clock.iso() });
    expect(w.starter.ops()).toEqual(['startDeletion']);
  });

  it('cancels where the starter cannot stop executions (stopProvisioning is optional)', async () => {
    const w = world();
    await submitRequest(w.submit, sagemakerRequest());
    const starter = {
      startProvisioning: w.starter.startProvisioning.bind(w.starter),
      startDeletion: w.starter.startDeletion.bind(w.starter),
    };

    const record = await requestDeletion({ ...w.submit, starter }, 'unit-sm-001');

    expect(record).toMatchObject({
      status: 'DELETING',
      cancelledAt: w.clock.iso(),
      deleteExecutionArn: expect.stringContaining('unit-sm-001-delete-1'),
    });
  });

  it.each([
    ['DELETED', 'DELETED'],
    ['FAILED', 'FAILED'],
  ] as const)('records the delete execution ARN even when the delete workflow has already ended %s', async (_label, to) => {
    const w = await readyRecord();
    w.starter.onStart = async (call) => {
      if (call.op === 'startDeletion') await w.store.transition('unit-sm-001', to);
    };

    const record = await requestDeletion(w.submit, 'unit-sm-001');

    expect(record).toMatchObject({ status: to, deleteExecutionArn: expect.stringContaining('unit-sm-001-delete-1') });
  });

  it('refuses to delete a DELETED cluster again (RecordConflictError)', async () => {
    const w = await readyRecord();
    await requestDeletion(w.submit, 'unit-sm-001');
    await recordOutcome(w.workflow, { requestId: 'unit-sm-001', outcome: 'DELETED' });

    await expect(requestDeletion(w.submit, 'unit-sm-001')).rejects.toBeInstanceOf(RecordConflictError);
  });

  it('throws RecordNotFoundError for an unknown request', async () => {
    await expect(requestDeletion(world().submit, 'nobody')).rejects.toBeInstanceOf(RecordNotFoundError);
  });
});

/** Found by the unit tier once (docs/mutation.md) and pinned here. */
describe('found by the unit tier', () => {
  it('answers a replay as a replay after its retry.until has passed (not 400)', async () => {
    // An SQS redelivery or a client retry of an accepted request, an hour after its horizon ended.
    const w = world();
    const request = sagemakerRequest({ retry: { until: later(w, HOUR) } });
    const first = await submitRequest(w.submit, request);
    w.clock.advance(2 * HOUR);

    const replay = await submitRequest(w.submit, request);

    expect(replay).toMatchObject({ created: false, record: { requestId: first.record.requestId } });
  });
});
