/**
 * The provision and delete workflows' tasks (functions/core/workflow/) driven directly, with the store and the
 * providers in memory, a hand-moved clock and a fixed jitter. The same behaviour end to end (ASL, dynalite, simulators)
 * is in test/statemachines; this tier proves each rule of the use cases on its own, in milliseconds.
 *
 * Numbers to keep in mind: the clock starts at 2026-03-02T09:00:00Z; jitter is 0.5 unless a test says otherwise; the
 * backoff is 30 s doubling (RETRY), so with jitter 0.5 the first wait is 15 s and the second 30 s.
 */
import { describe, expect, it } from 'vitest';
import {
  ClusterFailedError,
  ClusterNotFoundError,
  InvalidProviderRequestError,
  ProviderAuthFailedError,
  ProviderThrottledError,
  ProviderUnavailableError,
  ProvisioningTimeoutError,
  QuotaTooLowError,
  RecordConflictError,
  RecordNotFoundError,
  RequestCancelledError,
  ResourceLimitExceededError,
  RetryHorizonExceededError,
} from '../../../functions/core/errors';
import { DETAIL_TYPES } from '../../../functions/core/events';
import type { GroupDescription } from '../../../functions/core/provider';
import type { ClusterRecord, ClusterStatus } from '../../../functions/core/store';
import { requestDeletion } from '../../../functions/core/submit';
import {
  CLEANUP_POLL_SECONDS,
  causeMessage,
  createCluster,
  deleteCluster,
  pollCluster,
  recordOutcome,
  type PollInput,
  type RetryPolicy,
} from '../../../functions/core/workflow';
import { capacityRefusal, quotaRefusal, shortageMessage, type Phase } from '../../fakes/memory-provider';
import { RETRY, p5Group, sagemakerRequest, tirRequest, world, type World } from '../../fakes/world';

const LIFECYCLE_FAILURE = 'Lifecycle script on_create.sh of instance group gpu-workers exited with status 1';

/** A world with one request ACCEPTED. */
const accepted = async (request: Parameters<World['accept']>[0] = sagemakerRequest(), options: Parameters<typeof world>[0] = {}) => {
  const w = world(options);
  const record = await w.accept(request);
  return { w, id: record.requestId, sm: w.providers.sagemaker, tir: w.providers.tir };
};

const create = (w: World, id: string, capacityRetry: RetryPolicy = RETRY) => createCluster(w.workflow, { requestId: id, capacityRetry });

const poll = (w: World, id: string, overrides: Partial<PollInput> = {}) =>
  pollCluster(w.workflow, {
    requestId: id,
    operation: 'provision',
    lastWaitSeconds: 20,
    maxWaitSeconds: 60,
    deadlineSeconds: 3600,
    capacityRetry: RETRY,
    ...overrides,
  });

const later = (w: World, seconds: number): string => new Date(w.clock.now().getTime() + seconds * 1000).toISOString();

const statuses = (record: ClusterRecord): ClusterStatus[] => record.history.map((h) => h.to);

/** A Lambda's error as a Catch hands it to RecordFailure. */
const caught = (name: string, message: string) => ({ Error: name, Cause: JSON.stringify({ errorType: name, errorMessage: message }) });

/** The cluster rolls back for capacity on its second describe (HyperPod: Creating, then RollingBack with EC2's words). */
const rollsBackForCapacity: Phase[] = [
  { state: 'CREATING' },
  { state: 'FAILED', providerStatus: 'RollingBack', message: shortageMessage('ml.p5.48xlarge', 'us-east-1a') },
];

describe('createCluster', () => {
  it('creates the cluster and records CREATING with the provider id, the attempt and the horizon', async () => {
    // Prepare
    const { w, id, sm } = await accepted();

    // Act
    const result = await create(w, id);

    // Assess
    const [cluster] = sm.clusterIds();
    expect(result).toEqual({ action: 'CREATED', providerId: cluster, clusterName: 'unit-p5', adopted: false });
    const record = await w.store.require(id);
    expect(record).toMatchObject({
      status: 'CREATING',
      providerId: cluster,
      attempts: 1,
      maxAttempts: RETRY.MaxAttempts,
      createRequestedAt: w.clock.iso(),
      createdAt: w.clock.iso(),
      retryUntil: later(w, 6 * 3600),
    });
    expect(record.history.at(-1)).toMatchObject({ from: 'ACCEPTED', to: 'CREATING', at: w.clock.iso() });
    expect(sm.callsOf('create')).toEqual([
      {
        op: 'create',
        input: { location: { provider: 'sagemaker', region: 'us-east-1' }, requestId: id, cluster: sagemakerRequest().cluster },
      },
    ]);
  });

  it('creates a TIR cluster in the project and location of the request, with its activeIam', async () => {
    const { w, id, tir } = await accepted(tirRequest({ activeIam: 77 }));

    const result = await create(w, id);

    expect(result.action).toBe('CREATED');
    expect(tir.callsOf('create')[0]?.input.location).toEqual({ provider: 'tir', projectId: 12345, location: 'Delhi', activeIam: 77 });
    expect((await w.store.require(id)).providerId).toBe(tir.clusterIds()[0]);
  });

  it('sends no activeIam for a TIR request without one', async () => {
    const { w, id, tir } = await accepted(tirRequest());
    await create(w, id);
    expect(tir.callsOf('create')[0]?.input.location).toStrictEqual({ provider: 'tir', projectId: 12345, location: 'Delhi' });
  });

  it('sets the horizon from retry.for, or to retry.until, at the first attempt', async () => {
    const forTwoHours = await accepted(sagemakerRequest({ retry: { for: 'PT2H' } }));
    await create(forTwoHours.w, forTwoHours.id);
    expect((await forTwoHours.w.store.require(forTwoHours.id)).retryUntil).toBe(later(forTwoHours.w, 7200));

    const until = '2026-03-03T09:00:00.000Z';
    const untilTomorrow = await accepted(sagemakerRequest({ retry: { until } }));
    await create(untilTomorrow.w, untilTomorrow.id);
    expect((await untilTomorrow.w.store.require(untilTomorrow.id)).retryUntil).toBe(until);
  });

  it('keeps the first createRequestedAt and horizon on later attempts', async () => {
    const { w, id, sm } = await accepted();
    sm.refuseCreate(capacityRefusal());
    const first = w.clock.iso();
    await create(w, id);

    w.clock.advance(15);
    await create(w, id);

    const record = await w.store.require(id);
    expect(record.createRequestedAt).toBe(first);
    expect(record.retryUntil).toBe(new Date(Date.parse(first) + 6 * 3600_000).toISOString());
    expect(record.attempts).toBe(2);
  });

  it("a run that finds the record moved by a concurrent run of itself (a retried timeout) answers that run's WAIT, not a conflict", async () => {
    const { w, id, sm } = await accepted();
    sm.refuseCreate(capacityRefusal());
    sm.refuseCreate(capacityRefusal());
    const store = w.workflow.store;
    const transition = store.transition.bind(store);
    let concurrent: Awaited<ReturnType<typeof create>> | undefined;
    // The first run's wait is written only after a second run (Step Functions' retry of a timed-out task) wrote its own.
    store.transition = async (...args: Parameters<typeof transition>) => {
      if (!concurrent) {
        store.transition = transition;
        concurrent = await create(w, id);
      }
      return transition(...args);
    };

    const answer = await create(w, id);

    expect(concurrent).toMatchObject({ action: 'WAIT', reason: 'capacity' });
    const record = await w.store.require(id);
    expect(record.status).toBe('WAITING_FOR_CAPACITY');
    expect(answer).toEqual({
      action: 'WAIT',
      reason: 'capacity',
      waitSeconds: Math.ceil((Date.parse(record.lastError!.nextAttemptAt!) - w.clock.now().getTime()) / 1000),
    });
    expect(statuses(record)).not.toContain('FAILED');
  });

  it('answers CREATED again without calling the provider when re-run after the create was recorded', async () => {
    const { w, id, sm } = await accepted();
    const first = await create(w, id);

    const again = await create(w, id);

    expect(again).toEqual(first);
    expect(sm.callsOf('create')).toHaveLength(1);
    const record = await w.store.require(id);
    expect(record.attempts).toBe(1);
    expect(statuses(record)).toEqual(['ACCEPTED', 'CREATING']);
  });

  it.each([
    ['InsufficientCapacityError', () => capacityRefusal(), 'capacity'],
    ['ResourceLimitExceededError (a quota that fits later)', () => quotaRefusal(8, 8, 4), 'quota'],
    ['ProviderThrottledError', () => new ProviderThrottledError('Rate exceeded', { providerCode: 'ThrottlingException' }), 'transient'],
    ['ProviderUnavailableError', () => new ProviderUnavailableError('Service unavailable', { providerCode: '503' }), 'transient'],
  ] as const)('waits after %s and records why, which attempt and when the next one comes', async (_label, refusal, reason) => {
    // Prepare
    const { w, id, sm } = await accepted();
    const error = refusal();
    sm.refuseCreate(error);

    // Act
    const result = await create(w, id);

    // Assess: full jitter 0.5 of the first ceiling (30 s)
    expect(result).toEqual({ action: 'WAIT', waitSeconds: 15, reason });
    const record = await w.store.require(id);
    expect(record.status).toBe('WAITING_FOR_CAPACITY');
    expect(record.attempts).toBe(1);
    expect(record.providerId).toBeUndefined();
    expect(record.lastError).toMatchObject({
      name: error.name,
      message: error.message,
      at: w.clock.iso(),
      attempt: 1,
      operation: 'create',
      reason,
      nextAttemptAt: later(w, 15),
    });
    expect(record.history.at(-1)).toMatchObject({ from: 'ACCEPTED', to: 'WAITING_FOR_CAPACITY' });
  });

  it('records the quota facts of a ResourceLimitExceeded that can fit once usage falls', async () => {
    const { w, id, sm } = await accepted();
    sm.refuseCreate(quotaRefusal(8, 6, 4));

    await create(w, id);

    const record = await w.store.require(id);
    expect(record.lastError?.quota).toEqual({ name: 'ml.p5.48xlarge for cluster usage', limit: 8, usage: 6, delta: 4 });
    expect(record.history.at(-1)?.reason).toContain("quota 'ml.p5.48xlarge for cluster usage'");
  });

  it('waits as for a quota when ResourceLimitExceeded has a message of another shape', async () => {
    const { w, id, sm } = await accepted();
    sm.refuseCreate(new ResourceLimitExceededError('The account-level service limit for cluster usage is exceeded.'));

    const result = await create(w, id);

    expect(result).toMatchObject({ action: 'WAIT', reason: 'quota' });
    expect((await w.store.require(id)).lastError?.quota).toBeUndefined();
  });

  it('waits for the name when it is held by a cluster another request made', async () => {
    const { w, id, sm } = await accepted();
    sm.seed({ clusterName: 'unit-p5', location: { provider: 'sagemaker', region: 'us-east-1' }, ownerRequestId: 'someone-else' });

    const result = await create(w, id);

    expect(result).toMatchObject({ action: 'WAIT', reason: 'name-in-use' });
    expect(sm.callsOf('findByName')).toHaveLength(1);
    const record = await w.store.require(id);
    expect(record.providerId).toBeUndefined();
    expect(record.lastError).toMatchObject({ name: 'ResourceInUseError', reason: 'name-in-use', attempt: 1 });
  });

  it('grows the wait by BackoffRate per failure up to MaxDelaySeconds', async () => {
    const { w, id, sm } = await accepted(sagemakerRequest(), { random: 1 });
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      sm.refuseCreate(capacityRefusal());
      const result = await create(w, id);
      if (result.action !== 'WAIT') throw new Error(`attempt ${i + 1} answered ${result.action}`);
      waits.push(result.waitSeconds);
      w.clock.advance(result.waitSeconds);
    }

    expect(waits).toEqual([30, 60, 120, 240, 480, 600, 600]);
    const record = await w.store.require(id);
    expect(record.attempts).toBe(7);
    expect(record.lastError?.attempt).toBe(7);
    // Every further failure re-enters WAITING_FOR_CAPACITY with its own history entry.
    expect(statuses(record).filter((s) => s === 'WAITING_FOR_CAPACITY')).toHaveLength(7);
  });

  it('stretches the cap when MaxAttempts capped waits could not fill the horizon', async () => {
    // 10 attempts over the default 6 h: the cap becomes 2 * 21600 / 10 = 4320 s instead of 600 s
    const { w, id, sm } = await accepted(sagemakerRequest(), { random: 1 });
    const policy = { ...RETRY, MaxAttempts: 10 };
    const waits: number[] = [];
    for (let i = 0; i < 9; i++) {
      sm.refuseCreate(capacityRefusal());
      const result = await create(w, id, policy);
      if (result.action !== 'WAIT') throw new Error(`attempt ${i + 1} answered ${result.action}`);
      waits.push(result.waitSeconds);
      w.clock.advance(result.waitSeconds);
    }

    expect(waits).toEqual([30, 60, 120, 240, 480, 960, 1920, 3840, 4320]);
  });

  it('waits at least one second however small the jitter', async () => {
    const { w, id, sm } = await accepted(sagemakerRequest(), { random: 0 });
    sm.refuseCreate(capacityRefusal());

    expect(await create(w, id)).toMatchObject({ action: 'WAIT', waitSeconds: 1 });
  });

  it('never waits past the horizon, and gives up at it with RetryHorizonExceededError', async () => {
    // Prepare: a one-minute horizon and full jitter (ceilings 30, 60)
    const { w, id, sm } = await accepted(sagemakerRequest({ retry: { for: 'PT1M' } }), { random: 1 });
    sm.refuseCreate(capacityRefusal(), capacityRefusal(), capacityRefusal());

    // Act / Assess: 30 s, then the 30 s left (not 60), then the horizon is reached
    expect(await create(w, id)).toMatchObject({ action: 'WAIT', waitSeconds: 30 });
    w.clock.advance(30);
    expect(await create(w, id)).toMatchObject({ action: 'WAIT', waitSeconds: 30 });
    w.clock.advance(30);
    const error = await create(w, id).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RetryHorizonExceededError);
    expect((error as Error).message).toContain('horizon ended');

    const record = await w.store.require(id);
    expect(record.attempts).toBe(3);
    expect(record.status).toBe('WAITING_FOR_CAPACITY');
    expect(record.lastError).toMatchObject({ name: 'InsufficientCapacityError', attempt: 3, at: w.clock.iso() });
    expect(record.lastError?.nextAttemptAt).toBeUndefined();
    expect(sm.callsOf('create')).toHaveLength(3);
  });

  it('gives up with RetryHorizonExceededError once MaxAttempts attempts failed, well inside the horizon', async () => {
    const { w, id, sm } = await accepted();
    sm.refuseCreate(capacityRefusal(), capacityRefusal());
    const policy = { ...RETRY, MaxAttempts: 2 };

    await create(w, id, policy);
    w.clock.advance(15);
    const error = await create(w, id, policy).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(RetryHorizonExceededError);
    expect((error as Error).message).toContain('all 2 attempts');
    expect(sm.callsOf('create')).toHaveLength(2);
    expect((await w.store.require(id)).attempts).toBe(2);
  });

  it('fails at once with QuotaTooLowError when the quota is below what the request adds', async () => {
    // Prepare: HyperPod says the limit is 2 and the request adds 4
    const { w, id, sm } = await accepted();
    sm.refuseCreate(quotaRefusal(2, 0, 4));

    // Act
    const error = await create(w, id).catch((err: unknown) => err);

    // Assess: the message is the behaviour here: it names the quota, the region and what to raise it to
    expect(error).toBeInstanceOf(QuotaTooLowError);
    const { message } = error as QuotaTooLowError;
    expect(message).toContain("'ml.p5.48xlarge for cluster usage' is 2 instances and this request adds 4");
    expect(message).toContain('region us-east-1');
    expect(message).toContain('at least 4');
    expect((error as QuotaTooLowError).cause).toBeInstanceOf(Error);
    const record = await w.store.require(id);
    expect(record.attempts).toBe(1);
    expect(record.status).toBe('ACCEPTED');
    expect(sm.callsOf('create')).toHaveLength(1);
  });

  it('waits, not fails, when the quota equals what the request adds (it fits once usage falls to 0)', async () => {
    const { w, id, sm } = await accepted();
    sm.refuseCreate(quotaRefusal(4, 4, 4));

    expect(await create(w, id)).toMatchObject({ action: 'WAIT', reason: 'quota' });
  });

  it('reads quota numbers of several digits', async () => {
    const { w, id, sm } = await accepted();
    sm.refuseCreate(quotaRefusal(64, 60, 16));

    await create(w, id);

    expect((await w.store.require(id)).lastError?.quota).toEqual({
      name: 'ml.p5.48xlarge for cluster usage',
      limit: 64,
      usage: 60,
      delta: 16,
    });
  });

  it('still tries when exactly one second of the horizon is left, waiting that second', async () => {
    const { w, id, sm } = await accepted(sagemakerRequest({ retry: { for: 'PT1M' } }));
    sm.refuseCreate(capacityRefusal(), capacityRefusal());
    await create(w, id);
    w.clock.advance(59);

    expect(await create(w, id)).toEqual({ action: 'WAIT', waitSeconds: 1, reason: 'capacity' });
  });

  it.each([
    [
      'InvalidProviderRequestError',
      () => new InvalidProviderRequestError('1 validation error detected', { providerCode: 'ValidationException' }),
    ],
    ['ProviderAuthFailedError', () => new ProviderAuthFailedError('not authorized', { providerCode: 'AccessDeniedException' })],
    ['a plain Error', () => new Error('socket hang up')],
  ])('rethrows %s from the provider unchanged and records no wait', async (_label, refusal) => {
    const { w, id, sm } = await accepted();
    const error = refusal();
    sm.refuseCreate(error);

    await expect(create(w, id)).rejects.toBe(error);

    const record = await w.store.require(id);
    expect(record.status).toBe('ACCEPTED');
    expect(record.attempts).toBe(1);
    expect(record.lastError).toBeUndefined();
  });

  it('answers the same cluster to two overlapping runs of the task (a retry while the first still runs)', async () => {
    // Prepare: while run A's create is on the wire, Step Functions retries the task (run B) after A's timeout
    const { w, id, sm } = await accepted();
    let runB: Awaited<ReturnType<typeof create>> | undefined;
    sm.onCreate = async () => {
      sm.onCreate = undefined;
      runB = await create(w, id);
    };

    // Act
    const runA = await create(w, id);

    // Assess: B adopted A's cluster; A's own write then re-enters CREATING; one cluster, no delete
    const [cluster] = sm.clusterIds();
    expect(runB).toMatchObject({ action: 'CREATED', providerId: cluster, adopted: true });
    expect(runA).toMatchObject({ action: 'CREATED', providerId: cluster, adopted: false });
    expect(sm.clusterIds()).toHaveLength(1);
    expect(sm.callsOf('delete')).toEqual([]);
    expect((await w.store.require(id)).status).toBe('CREATING');
  });

  it('lets a store failure on the CREATING write through, without deleting the new cluster', async () => {
    const { w, id, sm } = await accepted();
    const outage = new Error('ProvisionedThroughputExceededException');
    w.store.beforeWrite = (kind) => {
      if (kind === 'transition') throw outage;
    };

    await expect(create(w, id)).rejects.toBe(outage);
    expect(sm.callsOf('delete')).toEqual([]);
  });

  it('refuses (RecordConflictError) a create whose record was moved on, not cancelled, while the create was on the wire', async () => {
    const { w, id, sm } = await accepted();
    sm.onCreate = async () => {
      await w.store.transition(id, 'FAILED');
    };

    await expect(create(w, id)).rejects.toBeInstanceOf(RecordConflictError);
    expect(sm.callsOf('delete')).toEqual([]);
  });

  it.each(['READY', 'FAILED'] as const)('refuses to create for a record that is %s', async (status) => {
    const { w, id, sm } = await accepted();
    await create(w, id);
    await w.store.transition(id, status);

    await expect(create(w, id)).rejects.toBeInstanceOf(RecordConflictError);
    expect(sm.callsOf('create')).toHaveLength(1);
  });

  it('throws RecordNotFoundError for an unknown request', async () => {
    const w = world();
    await expect(create(w, 'nobody')).rejects.toBeInstanceOf(RecordNotFoundError);
  });
});

describe('adoption after ResourceInUse', () => {
  it('adopts the HyperPod cluster tagged with this request when the first answer was lost', async () => {
    // Prepare: the provider creates the cluster but the Lambda dies before the answer is recorded
    const { w, id, sm } = await accepted();
    sm.onCreate = () => {
      sm.onCreate = undefined;
      throw new Error('Task timed out after 30.00 seconds');
    };
    await expect(create(w, id)).rejects.toThrow('Task timed out');
    const [cluster] = sm.clusterIds();
    const createdAt = w.clock.iso();
    w.clock.advance(40);

    // Act: Step Functions retries the task
    const result = await create(w, id);

    // Assess
    expect(result).toEqual({ action: 'CREATED', providerId: cluster, clusterName: 'unit-p5', adopted: true });
    const record = await w.store.require(id);
    expect(record).toMatchObject({ status: 'CREATING', providerId: cluster, createdAt, attempts: 2 });
    expect(sm.clusterIds()).toEqual([cluster]);
  });

  it('does not adopt an untagged HyperPod cluster of the same name', async () => {
    const { w, id, sm } = await accepted();
    // created after our first request, as the TIR rule would accept; HyperPod goes by the tag only
    sm.seed({ clusterName: 'unit-p5', location: { provider: 'sagemaker', region: 'us-east-1' }, createdAt: later(w, 1) });
    sm.refuseCreate(capacityRefusal());
    await create(w, id);
    w.clock.advance(15);

    expect(await create(w, id)).toMatchObject({ action: 'WAIT', reason: 'name-in-use' });
  });

  it('adopts a TIR cluster whose owner marker names this request when the first answer was lost', async () => {
    const { w, id, tir } = await accepted(tirRequest());
    tir.onCreate = () => {
      tir.onCreate = undefined;
      throw new Error('Task timed out');
    };
    await expect(create(w, id)).rejects.toThrow('Task timed out');
    w.clock.advance(40);

    const result = await create(w, id);

    expect(result).toMatchObject({ action: 'CREATED', adopted: true, providerId: tir.clusterIds()[0] });
  });

  it('does not adopt a TIR cluster of its name on the first attempt, nor one older than its first request', async () => {
    const { w, id, tir } = await accepted(tirRequest());
    tir.seed({
      clusterName: 'unit-tir',
      location: { provider: 'tir', projectId: 12345, location: 'Delhi' },
      createdAt: '2026-03-02T08:00:00.000Z',
    });

    expect(await create(w, id)).toMatchObject({ action: 'WAIT', reason: 'name-in-use' });
    w.clock.advance(15);
    expect(await create(w, id)).toMatchObject({ action: 'WAIT', reason: 'name-in-use' });
    expect((await w.store.require(id)).providerId).toBeUndefined();
  });

  it('never adopts a cluster it discarded, even when the provider still lists it under its name', async () => {
    // Prepare: the record discarded X (and saw it gone), but the provider's list still shows X with our tag
    const { w, id, sm } = await accepted();
    const x = sm.seed({ clusterName: 'unit-p5', location: { provider: 'sagemaker', region: 'us-east-1' }, ownerRequestId: id });
    await w.store.update(id, { discardedClusters: [{ providerId: x, reason: 'capacity', at: w.clock.iso(), goneAt: w.clock.iso() }] }, [
      'ACCEPTED',
    ]);

    // Act
    const result = await create(w, id);

    // Assess
    expect(result).toMatchObject({ action: 'WAIT', reason: 'name-in-use' });
    expect((await w.store.require(id)).providerId).toBeUndefined();
  });

  it('does not adopt, on its first attempt, a TIR cluster of its name made at the same moment by someone else', async () => {
    const { w, id, tir } = await accepted(tirRequest());
    tir.seed({ clusterName: 'unit-tir', location: { provider: 'tir', projectId: 12345, location: 'Delhi' }, createdAt: later(w, 1) });

    expect(await create(w, id)).toMatchObject({ action: 'WAIT', reason: 'name-in-use' });
  });

  it('adopts the cluster already recorded as its own', async () => {
    // A TIR record that knows its cluster id, though the cluster predates the recorded first request
    const { w, id, tir } = await accepted(tirRequest());
    const x = tir.seed({
      clusterName: 'unit-tir',
      location: { provider: 'tir', projectId: 12345, location: 'Delhi' },
      createdAt: '2026-03-02T08:00:00.000Z',
    });
    await w.store.update(id, { providerId: x }, ['ACCEPTED']);

    expect(await create(w, id)).toMatchObject({ action: 'CREATED', providerId: x, adopted: true });
  });

  it('after a rollback, does not adopt a cluster someone else made under the freed name', async () => {
    const { w, id, sm } = await accepted();
    sm.scriptNext(...rollsBackForCapacity);
    await create(w, id);
    const [first] = sm.clusterIds();
    await poll(w, id);
    await poll(w, id); // RETRY: first is discarded and being deleted
    const firstRef = { location: { provider: 'sagemaker' as const, region: 'us-east-1' }, clusterName: 'unit-p5', providerId: first! };
    expect((await sm.describe(firstRef)).state).toBe('DELETING');
    await expect(sm.describe(firstRef)).rejects.toBeInstanceOf(ClusterNotFoundError); // gone: the name is free
    sm.seed({ clusterName: 'unit-p5', location: { provider: 'sagemaker', region: 'us-east-1' }, ownerRequestId: 'someone-else' });
    w.clock.advance(15);

    const result = await create(w, id);

    expect(result).toMatchObject({ action: 'WAIT', reason: 'name-in-use' });
    expect((await w.store.require(id)).providerId).toBe(first);
  });

  it('does not adopt a TIR cluster of its name that another request created after its first attempt', async () => {
    // Prepare: attempt 1 is refused for capacity; then another request creates a cluster under the same name
    const { w, id, tir } = await accepted(tirRequest());
    tir.refuseCreate(capacityRefusal());
    expect(await create(w, id)).toMatchObject({ action: 'WAIT', reason: 'capacity' });
    tir.seed({ clusterName: 'unit-tir', location: { provider: 'tir', projectId: 12345, location: 'Delhi' }, ownerRequestId: 'other' });
    w.clock.advance(40);

    // Act
    const result = await create(w, id);

    // Assess: a name clash, not an adoption
    expect(result).toMatchObject({ action: 'WAIT', reason: 'name-in-use' });
    expect((await w.store.require(id)).providerId).toBeUndefined();
  });

  it('does not adopt a cluster of its name that names this request but not this deployment', async () => {
    const { w, id, sm } = await accepted();
    sm.seed({
      clusterName: 'unit-p5',
      location: { provider: 'sagemaker', region: 'us-east-1' },
      ownerRequestId: id,
      ours: false,
      createdAt: later(w, 1),
    });
    sm.refuseCreate(capacityRefusal());
    await create(w, id);
    w.clock.advance(15);

    expect(await create(w, id)).toMatchObject({ action: 'WAIT', reason: 'name-in-use' });
  });
});

describe('pollCluster (provision)', () => {
  it('answers CREATING and waits half as long again, within 1..maxWaitSeconds', async () => {
    const { w, id, sm } = await accepted();
    sm.scriptNext({ state: 'CREATING', describes: 10 });
    await create(w, id);

    expect(await poll(w, id, { lastWaitSeconds: 20 })).toEqual({ state: 'CREATING', providerStatus: 'Creating', waitSeconds: 30 });
    expect((await poll(w, id, { lastWaitSeconds: 0 })).waitSeconds).toBe(1);
    expect((await poll(w, id, { lastWaitSeconds: 50 })).waitSeconds).toBe(60);
    expect((await poll(w, id, { lastWaitSeconds: 7 })).waitSeconds).toBe(11);
  });

  it('records the provider status, nodes and groups it saw', async () => {
    const { w, id, sm } = await accepted();
    const groups: GroupDescription[] = [{ name: 'gpu-workers', current: 1, target: 4, status: 'Creating' }];
    sm.scriptNext({ state: 'CREATING', providerStatus: 'Creating', nodes: { current: 1, target: 4 }, groups });
    await create(w, id);

    await poll(w, id);

    expect(await w.store.require(id)).toMatchObject({ providerStatus: 'Creating', nodes: { current: 1, target: 4 }, groups });
  });

  it('answers READY when the provider reports the cluster usable at its group minimum, and keeps the groups for the Ready event', async () => {
    // The READY rule itself (InService and every group at MinCount) is the HyperPod adapter's (test/adapters);
    // the core trusts the normalized state and carries the groups through.
    const { w, id, sm } = await accepted(
      sagemakerRequest({ cluster: { ClusterName: 'unit-p5', InstanceGroups: [p5Group({ InstanceCount: 8, MinInstanceCount: 4 })] } }),
    );
    const atMinimum: GroupDescription[] = [
      { name: 'gpu-workers', current: 5, target: 8, min: 4, status: 'InService', instanceTypes: [{ type: 'ml.p5.48xlarge', count: 5 }] },
    ];
    sm.scriptNext(
      { state: 'CREATING' },
      { state: 'READY', providerStatus: 'InService', nodes: { current: 5, target: 8 }, groups: atMinimum },
    );
    await create(w, id);
    expect((await poll(w, id)).state).toBe('CREATING');
    w.clock.advance(600);

    const result = await poll(w, id);
    const outcome = await recordOutcome(w.workflow, { requestId: id, outcome: 'READY' });

    expect(result).toMatchObject({ state: 'READY', providerStatus: 'InService' });
    expect(outcome.event.DetailType).toBe(DETAIL_TYPES.ready);
    expect(outcome.event.Detail).toMatchObject({ status: 'READY', nodes: { current: 5, target: 8 }, groups: atMinimum });
  });

  it('after a capacity rollback answers RETRY, discards the cluster, starts its deletion and records the wait', async () => {
    // Prepare
    const { w, id, sm } = await accepted();
    sm.scriptNext(...rollsBackForCapacity);
    await create(w, id);
    const [cluster] = sm.clusterIds();
    await poll(w, id);
    w.clock.advance(300);

    // Act
    const result = await poll(w, id);

    // Assess
    expect(result).toEqual({ state: 'RETRY', providerStatus: 'RollingBack', waitSeconds: 15 });
    const record = await w.store.require(id);
    expect(record.status).toBe('WAITING_FOR_CAPACITY');
    expect(record.discardedClusters).toEqual([
      { providerId: cluster, reason: 'capacity', at: w.clock.iso(), message: shortageMessage('ml.p5.48xlarge', 'us-east-1a') },
    ]);
    expect(record.lastError).toMatchObject({
      name: 'InsufficientCapacityError',
      message: shortageMessage('ml.p5.48xlarge', 'us-east-1a'),
      reason: 'capacity',
      attempt: 1,
      operation: 'create',
      nextAttemptAt: later(w, 15),
    });
    expect(sm.callsOf('delete').map((c) => c.ref.providerId)).toEqual([cluster]);
    expect(record.history.at(-1)).toMatchObject({ from: 'CREATING', to: 'WAITING_FOR_CAPACITY' });
  });

  it('waits for the discarded cluster to be gone before the next create, then creates again', async () => {
    // Prepare: the rolled-back cluster answers DELETING to two describes before it is gone
    const { w, id, sm } = await accepted(sagemakerRequest(), { provider: { goneAfterDescribes: 2 } });
    sm.scriptNext(...rollsBackForCapacity);
    await create(w, id);
    const [first] = sm.clusterIds();
    await poll(w, id);
    const retry = await poll(w, id);
    w.clock.advance(retry.waitSeconds);

    // Act / Assess: twice WAIT for the cleanup, no create sent, no attempt counted
    for (let i = 0; i < 2; i++) {
      expect(await create(w, id)).toEqual({ action: 'WAIT', waitSeconds: CLEANUP_POLL_SECONDS, reason: 'cleanup' });
      w.clock.advance(CLEANUP_POLL_SECONDS);
    }
    expect(sm.callsOf('create')).toHaveLength(1);
    expect(sm.callsOf('delete')).toHaveLength(1); // a cluster already DELETING is not asked again
    expect((await w.store.require(id)).attempts).toBe(1);

    const created = await create(w, id);

    expect(created).toMatchObject({ action: 'CREATED', adopted: false });
    const [second] = sm.clusterIds();
    expect(second).not.toBe(first);
    const record = await w.store.require(id);
    expect(record).toMatchObject({ status: 'CREATING', providerId: second, attempts: 2 });
    expect(record.discardedClusters).toEqual([expect.objectContaining({ providerId: first, goneAt: w.clock.iso() })]);

    // A retry of the task now answers the new cluster; the discarded one does not make it create a third
    w.clock.advance(5);
    expect(await create(w, id)).toEqual(created);
    expect(sm.callsOf('create')).toHaveLength(2);
  });

  it('marks gone only the discarded cluster it waited for, keeping the time an earlier one was seen gone', async () => {
    const { w, id, sm } = await accepted(sagemakerRequest(), { provider: { goneAfterDescribes: 0 } });
    const roundOfRollback = async () => {
      await poll(w, id);
      const retry = await poll(w, id);
      w.clock.advance(retry.waitSeconds);
      return create(w, id);
    };
    sm.scriptNext(...rollsBackForCapacity).scriptNext(...rollsBackForCapacity);
    await create(w, id);
    await roundOfRollback();
    const firstGoneAt = w.clock.iso();
    w.clock.advance(100);

    await roundOfRollback();

    const [first, second] = (await w.store.require(id)).discardedClusters ?? [];
    expect(first?.goneAt).toBe(firstGoneAt);
    expect(second?.goneAt).toBe(w.clock.iso());
  });

  it('asks again to delete a discarded cluster whose deletion did not start', async () => {
    const { w, id, sm } = await accepted();
    sm.scriptNext(...rollsBackForCapacity);
    await create(w, id);
    const [cluster] = sm.clusterIds();
    await poll(w, id);
    sm.refuseDelete(new ProviderThrottledError('Rate exceeded'));
    await poll(w, id);
    expect(sm.isDeleting(cluster!)).toBe(false);
    expect(w.warnings).toHaveLength(1);

    expect(await create(w, id)).toMatchObject({ action: 'WAIT', reason: 'cleanup' });

    expect(sm.callsOf('delete').map((c) => c.ref.providerId)).toEqual([cluster, cluster]);
    expect(sm.isDeleting(cluster!)).toBe(true);
    expect(w.warnings[0]?.details).toMatchObject({ providerId: cluster, error: { name: 'ProviderThrottledError' } });
  });

  it('does not warn when the discarded cluster is already gone at the provider', async () => {
    const { w, id, sm } = await accepted();
    sm.scriptNext(...rollsBackForCapacity);
    await create(w, id);
    await poll(w, id);
    sm.refuseDelete(new ClusterNotFoundError('gone'));

    expect((await poll(w, id)).state).toBe('RETRY');
    expect(w.warnings).toEqual([]);
  });

  it('lets a provider error during the cleanup check through, and creates nothing', async () => {
    const { w, id, sm } = await accepted();
    sm.scriptNext(...rollsBackForCapacity);
    await create(w, id);
    await poll(w, id);
    await poll(w, id);
    const outage = new ProviderUnavailableError('503');
    sm.refuseDescribe(outage);

    await expect(create(w, id)).rejects.toBe(outage);
    expect(sm.callsOf('create')).toHaveLength(1);
  });

  it('treats a discarded cluster the provider reports DELETED as gone', async () => {
    const { w, id, sm } = await accepted();
    const x = sm.seed({
      clusterName: 'old-name',
      location: { provider: 'sagemaker', region: 'us-east-1' },
      phases: [{ state: 'DELETED' }],
    });
    await w.store.update(id, { discardedClusters: [{ providerId: x, reason: 'capacity', at: w.clock.iso() }] }, ['ACCEPTED']);

    expect(await create(w, id)).toMatchObject({ action: 'CREATED' });
    expect((await w.store.require(id)).discardedClusters?.[0]?.goneAt).toBe(w.clock.iso());
  });

  it('gives up with RetryHorizonExceededError after a rollback past the horizon, still discarding the cluster', async () => {
    const { w, id, sm } = await accepted(sagemakerRequest({ retry: { for: 'PT1M' } }));
    sm.scriptNext(...rollsBackForCapacity);
    await create(w, id);
    const [cluster] = sm.clusterIds();
    await poll(w, id);
    w.clock.advance(60);

    await expect(poll(w, id)).rejects.toBeInstanceOf(RetryHorizonExceededError);

    const record = await w.store.require(id);
    expect(record.discardedClusters).toEqual([expect.objectContaining({ providerId: cluster, reason: 'capacity' })]);
    expect(record.lastError).toMatchObject({ name: 'InsufficientCapacityError', attempt: 1 });
    expect(sm.isDeleting(cluster!)).toBe(true);
  });

  it('fails with ClusterFailedError on a non-capacity failure, discarding and deleting the cluster', async () => {
    // Prepare
    const { w, id, sm } = await accepted();
    sm.scriptNext({ state: 'FAILED', providerStatus: 'Failed', message: LIFECYCLE_FAILURE });
    await create(w, id);
    const [cluster] = sm.clusterIds();

    // Act
    const error = await poll(w, id).catch((err: unknown) => err);

    // Assess
    expect(error).toBeInstanceOf(ClusterFailedError);
    expect(error).toMatchObject({ message: LIFECYCLE_FAILURE, providerCode: 'Failed' });
    const record = await w.store.require(id);
    expect(record.status).toBe('CREATING');
    expect(record.discardedClusters).toEqual([{ providerId: cluster, reason: 'failed', at: w.clock.iso(), message: LIFECYCLE_FAILURE }]);
    expect(sm.isDeleting(cluster!)).toBe(true);
  });

  it('fails with a ClusterFailedError naming the provider status when the provider gives no reason', async () => {
    const { w, id, sm } = await accepted();
    sm.scriptNext({ state: 'FAILED', providerStatus: 'Failed' });
    await create(w, id);

    const error = await poll(w, id).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(ClusterFailedError);
    expect((error as Error).message).toContain('Failed');
  });

  it('fails with ClusterFailedError on a capacity rollback when the task has no capacity policy', async () => {
    const { w, id, sm } = await accepted();
    sm.scriptNext(rollsBackForCapacity[1]!);
    await create(w, id);

    await expect(poll(w, id, { capacityRetry: undefined })).rejects.toBeInstanceOf(ClusterFailedError);
    expect((await w.store.require(id)).discardedClusters?.[0]?.reason).toBe('capacity');
  });

  it('fails with ClusterFailedError when the provider is deleting the cluster under the workflow', async () => {
    const { w, id, sm } = await accepted();
    await create(w, id);
    await sm.delete({ location: { provider: 'sagemaker', region: 'us-east-1' }, clusterName: 'unit-p5', providerId: sm.clusterIds()[0]! });

    await expect(poll(w, id)).rejects.toMatchObject({ name: 'ClusterFailedError', providerCode: 'Deleting' });
  });

  it('fails with ClusterFailedError when the provider reports the cluster deleted while provisioning', async () => {
    const { w, id, sm } = await accepted();
    sm.scriptNext({ state: 'DELETED', providerStatus: 'Deleted' });
    await create(w, id);

    await expect(poll(w, id)).rejects.toMatchObject({ name: 'ClusterFailedError', providerCode: 'Deleted' });
  });

  it('times out with ProvisioningTimeoutError only once the deadline from createdAt has passed', async () => {
    // Prepare: two hours of waiting for capacity before the cluster was created
    const { w, id, sm } = await accepted();
    sm.refuseCreate(capacityRefusal());
    await create(w, id);
    w.clock.advance(2 * 3600);
    sm.scriptNext({ state: 'CREATING' });
    await create(w, id);

    w.clock.advance(3600);
    expect((await poll(w, id)).state).toBe('CREATING');
    w.clock.advance(1);
    await expect(poll(w, id)).rejects.toBeInstanceOf(ProvisioningTimeoutError);
  });

  it('lets a ClusterNotFoundError through while provisioning', async () => {
    const { w, id, sm } = await accepted();
    await create(w, id);
    const [cluster] = sm.clusterIds();
    await sm.delete({ location: { provider: 'sagemaker', region: 'us-east-1' }, clusterName: 'unit-p5', providerId: cluster! });
    await sm.describe({ location: { provider: 'sagemaker', region: 'us-east-1' }, clusterName: 'unit-p5', providerId: cluster! });

    await expect(poll(w, id)).rejects.toBeInstanceOf(ClusterNotFoundError);
  });
});

describe('deleteCluster and pollCluster (delete)', () => {
  const ready = async (options: Parameters<typeof world>[0] = {}) => {
    const ctx = await accepted(sagemakerRequest(), options);
    ctx.sm.scriptNext({ state: 'READY' });
    await create(ctx.w, ctx.id);
    await poll(ctx.w, ctx.id);
    await recordOutcome(ctx.w.workflow, { requestId: ctx.id, outcome: 'READY' });
    return ctx;
  };
  const pollDelete = (w: World, id: string, overrides: Partial<PollInput> = {}) =>
    poll(w, id, { operation: 'delete', capacityRetry: undefined, ...overrides });

  it('moves a READY record to DELETING and starts the deletion at the provider', async () => {
    const { w, id, sm } = await ready();
    const [cluster] = sm.clusterIds();

    expect(await deleteCluster(w.workflow, { requestId: id })).toEqual({ gone: false });

    const record = await w.store.require(id);
    expect(record).toMatchObject({ status: 'DELETING', deleteRequestedAt: w.clock.iso() });
    expect(sm.callsOf('delete').map((c) => c.ref.providerId)).toEqual([cluster]);
  });

  it('is safe to run twice: one DELETING entry, the provider asked again', async () => {
    const { w, id, sm } = await ready();
    await deleteCluster(w.workflow, { requestId: id });

    expect(await deleteCluster(w.workflow, { requestId: id })).toEqual({ gone: false });

    expect(statuses(await w.store.require(id)).filter((s) => s === 'DELETING')).toHaveLength(1);
    expect(sm.callsOf('delete')).toHaveLength(2);
  });

  it('answers gone without calling the provider when no cluster was ever created', async () => {
    const { w, id, sm } = await accepted();
    sm.refuseCreate(new InvalidProviderRequestError('bad'));
    await create(w, id).catch(() => undefined);
    await recordOutcome(w.workflow, { requestId: id, outcome: 'FAILED', error: caught('InvalidProviderRequestError', 'bad') });

    expect(await deleteCluster(w.workflow, { requestId: id })).toEqual({ gone: true });
    expect(sm.callsOf('delete')).toHaveLength(0);
    expect((await w.store.require(id)).status).toBe('DELETING');
  });

  it('answers gone when the provider no longer knows the cluster, and for a DELETED record', async () => {
    const { w, id, sm } = await ready();
    const ref = {
      location: { provider: 'sagemaker' as const, region: 'us-east-1' },
      clusterName: 'unit-p5',
      providerId: sm.clusterIds()[0]!,
    };
    await sm.delete(ref);
    await sm.describe(ref);
    await sm.describe(ref).catch(() => undefined);

    expect(await deleteCluster(w.workflow, { requestId: id })).toEqual({ gone: true });

    await recordOutcome(w.workflow, { requestId: id, outcome: 'DELETED' });
    const writes = w.store.writes.length;
    expect(await deleteCluster(w.workflow, { requestId: id })).toEqual({ gone: true });
    expect(w.store.writes).toHaveLength(writes);
  });

  it('lets other provider errors through', async () => {
    const { w, id, sm } = await ready();
    const refusal = new ProviderUnavailableError('503');
    sm.refuseDelete(refusal);

    await expect(deleteCluster(w.workflow, { requestId: id })).rejects.toBe(refusal);
  });

  it('polls DELETING until the provider no longer knows the cluster, then DELETED', async () => {
    const { w, id } = await ready();
    await deleteCluster(w.workflow, { requestId: id });

    expect(await pollDelete(w, id)).toMatchObject({ state: 'DELETING', providerStatus: 'Deleting' });
    expect(await pollDelete(w, id)).toMatchObject({ state: 'DELETED', providerStatus: 'NotFound' });
    expect((await w.store.require(id)).providerStatus).toBe('Deleting');
  });

  it('answers DELETED when the provider reports the cluster deleted', async () => {
    const { w, id, sm } = await accepted();
    sm.scriptNext({ state: 'READY' }, { state: 'DELETED', providerStatus: 'Deleted' });
    await create(w, id);
    await poll(w, id);
    await recordOutcome(w.workflow, { requestId: id, outcome: 'READY' });
    await w.store.transition(id, 'DELETING', { deleteRequestedAt: w.clock.iso() });

    expect(await pollDelete(w, id)).toMatchObject({ state: 'DELETED', providerStatus: 'Deleted' });
  });

  it('times out with ProvisioningTimeoutError once the deadline from deleteRequestedAt has passed', async () => {
    const { w, id } = await ready({ provider: { goneAfterDescribes: 100 } });
    w.clock.advance(7200); // a long-lived cluster: the delete deadline counts from the delete request, not creation
    await deleteCluster(w.workflow, { requestId: id });
    w.clock.advance(600);
    expect((await pollDelete(w, id, { deadlineSeconds: 600 })).state).toBe('DELETING');
    w.clock.advance(1);

    await expect(pollDelete(w, id, { deadlineSeconds: 600 })).rejects.toBeInstanceOf(ProvisioningTimeoutError);
  });
});

describe('recordOutcome', () => {
  const creating = async (request = sagemakerRequest()) => {
    const ctx = await accepted(request);
    ctx.sm.scriptNext({ state: 'READY' });
    await create(ctx.w, ctx.id);
    await poll(ctx.w, ctx.id);
    return ctx;
  };

  it('records READY and announces Cluster Ready with the durations', async () => {
    const { w, id } = await creating();
    w.clock.advance(900);

    const { event, cause } = await recordOutcome(w.workflow, { requestId: id, outcome: 'READY' });

    const record = await w.store.require(id);
    expect(record).toMatchObject({ status: 'READY', readyAt: w.clock.iso() });
    expect(event).toMatchObject({ Source: 'gpu-cluster-provisioner', DetailType: DETAIL_TYPES.ready, EventBusName: 'unit-bus' });
    expect(event.Detail).toMatchObject({
      requestId: id,
      status: 'READY',
      providerId: record.providerId,
      attempts: 1,
      durationsSeconds: { total: 900, provisioning: 900 },
    });
    expect(cause).toBe('READY');
  });

  it('is safe to repeat: READY again writes no second entry and announces again', async () => {
    const { w, id } = await creating();
    await recordOutcome(w.workflow, { requestId: id, outcome: 'READY' });
    w.clock.advance(5);

    const again = await recordOutcome(w.workflow, { requestId: id, outcome: 'READY' });

    const record = await w.store.require(id);
    expect(statuses(record).filter((s) => s === 'READY')).toHaveLength(1);
    expect(again.event.DetailType).toBe(DETAIL_TYPES.ready);
  });

  it('a READY step that ends after a delete began leaves the record deleting and announces Cluster Ready once', async () => {
    const { w, id } = await creating();
    // READY was written, then the step's trailing writes failed (a store outage); the caller's DELETE came meanwhile.
    await recordOutcome(w.workflow, { requestId: id, outcome: 'READY' });
    await w.store.transition(id, 'DELETING', { deleteRequestedAt: w.clock.iso() });
    const published: unknown[] = [];
    w.workflow.events = { publish: async (entries) => void published.push(...entries) };

    const again = await recordOutcome(w.workflow, { requestId: id, outcome: 'READY' });
    await recordOutcome(w.workflow, { requestId: id, outcome: 'READY' });

    const record = await w.store.require(id);
    expect(record.status).toBe('DELETING');
    expect(statuses(record)).not.toContain('FAILED');
    expect(again).toMatchObject({ cause: 'READY', event: { DetailType: DETAIL_TYPES.ready } });
    expect(published).toHaveLength(1);
    expect((published[0] as { Detail: unknown }).Detail).toMatchObject({ requestId: id, status: 'READY' });
    expect(record.announced).toMatchObject({ status: 'READY', detailType: DETAIL_TYPES.ready, at: expect.any(String) });
  });

  it('schedules the deleteAfter teardown from readyAt, the same time on a repeat', async () => {
    const { w, id } = await creating(sagemakerRequest({ deleteAfter: 'PT8H' }));
    const readyAt = w.clock.iso();
    await recordOutcome(w.workflow, { requestId: id, outcome: 'READY' });
    w.clock.advance(30);
    await recordOutcome(w.workflow, { requestId: id, outcome: 'READY' });

    const at = new Date(Date.parse(readyAt) + 8 * 3600_000).toISOString();
    expect(w.teardown.calls).toEqual([
      { requestId: id, at },
      { requestId: id, at },
    ]);
  });

  it('keeps the cluster READY when the teardown cannot be scheduled, and records it as a teardown error', async () => {
    const { w, id } = await creating(sagemakerRequest({ deleteAfter: 'PT8H' }));
    w.teardown.refuseNext(new ProviderThrottledError('Rate exceeded'));

    const { event, cause } = await recordOutcome(w.workflow, { requestId: id, outcome: 'READY' });

    expect(event.DetailType).toBe(DETAIL_TYPES.ready);
    expect(cause).toBe('READY');
    const record = await w.store.require(id);
    expect(record.status).toBe('READY');
    expect(record.lastError).toMatchObject({ name: 'ProviderThrottledError', operation: 'teardown', at: w.clock.iso() });
    expect(w.warnings.map((x) => x.details)).toEqual([{ error: { name: 'ProviderThrottledError', message: 'Rate exceeded' } }]);
  });

  it('does not schedule a teardown for a request without deleteAfter', async () => {
    const { w, id } = await creating();
    await recordOutcome(w.workflow, { requestId: id, outcome: 'READY' });
    expect(w.teardown.calls).toEqual([]);
  });

  it('records FAILED with the caught error and announces Cluster Provisioning Failed', async () => {
    const { w, id, sm } = await accepted();
    sm.refuseCreate(quotaRefusal(2, 0, 4));
    const error = (await create(w, id).catch((err: unknown) => err)) as QuotaTooLowError;

    const { event, cause } = await recordOutcome(w.workflow, {
      requestId: id,
      outcome: 'FAILED',
      error: caught(error.name, error.message),
    });

    const record = await w.store.require(id);
    expect(record).toMatchObject({ status: 'FAILED', failedAt: w.clock.iso(), attempts: 1 });
    expect(record.lastError).toMatchObject({ name: 'QuotaTooLowError', message: error.message, operation: 'create' });
    expect(event.DetailType).toBe(DETAIL_TYPES.failed);
    expect(event.Detail).toMatchObject({ status: 'FAILED', error: { name: 'QuotaTooLowError', message: error.message } });
    expect(cause).toBe(`QuotaTooLowError: ${error.message}`);
  });

  it('keeps the attempt of the error that ended the horizon', async () => {
    const { w, id, sm } = await accepted(sagemakerRequest(), {});
    sm.refuseCreate(capacityRefusal(), capacityRefusal());
    await create(w, id, { ...RETRY, MaxAttempts: 2 });
    w.clock.advance(15);
    const error = (await create(w, id, { ...RETRY, MaxAttempts: 2 }).catch((err: unknown) => err)) as Error;

    await recordOutcome(w.workflow, { requestId: id, outcome: 'FAILED', error: caught(error.name, error.message) });

    expect((await w.store.require(id)).lastError).toMatchObject({ name: 'RetryHorizonExceededError', attempt: 2 });
  });

  it('is safe to repeat: FAILED again keeps the first error and writes nothing', async () => {
    const { w, id } = await creating();
    await recordOutcome(w.workflow, { requestId: id, outcome: 'FAILED', error: caught('ProvisioningTimeoutError', 'first') });
    const writes = w.store.writes.length;

    const again = await recordOutcome(w.workflow, { requestId: id, outcome: 'FAILED', error: caught('States.Timeout', 'second') });

    expect(w.store.writes).toHaveLength(writes);
    expect(again.cause).toBe('ProvisioningTimeoutError: first');
  });

  it('records a failure without an error as Unknown', async () => {
    const { w, id } = await creating();
    await recordOutcome(w.workflow, { requestId: id, outcome: 'FAILED' });
    expect((await w.store.require(id)).lastError?.name).toBe('Unknown');
  });

  it('records DELETED and announces Cluster Deleted; a repeat writes nothing', async () => {
    const { w, id } = await creating();
    await recordOutcome(w.workflow, { requestId: id, outcome: 'READY' });
    await deleteCluster(w.workflow, { requestId: id });

    const { event } = await recordOutcome(w.workflow, { requestId: id, outcome: 'DELETED' });
    const writes = w.store.writes.length;
    await recordOutcome(w.workflow, { requestId: id, outcome: 'DELETED' });

    const record = await w.store.require(id);
    expect(record).toMatchObject({ status: 'DELETED', deletedAt: w.clock.iso() });
    expect(record.history.at(-1)?.reason).toBe('cluster gone');
    expect(event.DetailType).toBe(DETAIL_TYPES.deleted);
    expect(event.Detail.reason).toBeUndefined();
    expect(w.store.writes).toHaveLength(writes);
  });

  it('records a failed delete as FAILED with a delete error, announced as Cluster Deletion Failed', async () => {
    // Prepare: the cluster came up on its second attempt (lastError of attempt 1 stays on the record)
    const ctx = await accepted();
    const { w, id, sm } = ctx;
    sm.refuseCreate(capacityRefusal());
    await create(w, id);
    sm.scriptNext({ state: 'READY' });
    await create(w, id);
    await poll(w, id);
    await recordOutcome(w.workflow, { requestId: id, outcome: 'READY' });
    await deleteCluster(w.workflow, { requestId: id });

    const { event } = await recordOutcome(w.workflow, {
      requestId: id,
      outcome: 'DELETE_FAILED',
      error: caught('ProvisioningTimeoutError', 'not deleted within 3600 s'),
    });

    const { lastError } = await w.store.require(id);
    expect(lastError).toMatchObject({ name: 'ProvisioningTimeoutError', operation: 'delete' });
    expect(lastError?.attempt).toBeUndefined(); // a delete error belongs to no create attempt
    expect(event.DetailType).toBe(DETAIL_TYPES.deleteFailed);
  });

  it('reads the message of a Lambda Cause, and falls back to the raw Cause or the error name', () => {
    expect(causeMessage(caught('X', 'the message'))).toBe('the message');
    expect(causeMessage({ Error: 'States.Timeout', Cause: 'plain text' })).toBe('plain text');
    expect(causeMessage({ Error: 'States.Timeout', Cause: '{"other":1}' })).toBe('{"other":1}');
    expect(causeMessage({ Error: 'States.Timeout' })).toBe('States.Timeout');
  });
});

describe('cancel (DELETE while provisioning)', () => {
  it.each(['ACCEPTED', 'CREATING', 'WAITING_FOR_CAPACITY'] as const)(
    'from %s: DELETING with cancelledAt, the provision workflow stopped, the delete workflow started',
    async (from) => {
      // Prepare
      const { w, id, sm } = await accepted();
      if (from === 'CREATING') await create(w, id);
      if (from === 'WAITING_FOR_CAPACITY') {
        sm.refuseCreate(capacityRefusal());
        await create(w, id);
      }
      expect((await w.store.require(id)).status).toBe(from);

      // Act
      const record = await requestDeletion(w.submit, id);

      // Assess
      expect(record).toMatchObject({ status: 'DELETING', cancelledAt: w.clock.iso(), deleteRequestedAt: w.clock.iso() });
      expect(record.history.at(-1)).toMatchObject({ from, to: 'DELETING', reason: 'cancelled' });
      expect(w.starter.ops()).toEqual(['stopProvisioning', 'startDeletion']);
      expect(w.starter.calls[0]).toMatchObject({
        op: 'stopProvisioning',
        executionArn: expect.stringContaining(`provision-cluster:${id}`),
      });
      expect(record.deleteExecutionArn).toContain(`${id}-delete-1`);
    },
  );

  it('stops every later create: createCluster answers CANCELLED without calling the provider', async () => {
    const { w, id, sm } = await accepted();
    sm.refuseCreate(capacityRefusal());
    await create(w, id);
    await requestDeletion(w.submit, id);
    w.clock.advance(15);

    expect(await create(w, id)).toEqual({ action: 'CANCELLED' });
    expect(sm.callsOf('create')).toHaveLength(1);
  });

  it('deletes at once a cluster whose create answered after the cancel, and records it for the delete workflow', async () => {
    // Prepare: the DELETE arrives while CreateCluster is on the wire
    const { w, id, sm } = await accepted();
    sm.onCreate = async () => {
      await requestDeletion(w.submit, id);
    };

    // Act
    const result = await create(w, id);

    // Assess
    const [cluster] = sm.clusterIds();
    expect(result).toEqual({ action: 'CANCELLED' });
    expect(sm.callsOf('delete').map((c) => c.ref.providerId)).toEqual([cluster]);
    const record = await w.store.require(id);
    expect(record).toMatchObject({ status: 'DELETING', providerId: cluster });
    expect(statuses(record)).not.toContain('CREATING');

    // ... and the delete workflow waits for that cluster and ends the request DELETED, reason cancelled
    expect(await deleteCluster(w.workflow, { requestId: id })).toEqual({ gone: false });
    const pollDelete = () => poll(w, id, { operation: 'delete', capacityRetry: undefined });
    expect((await pollDelete()).state).toBe('DELETING');
    expect((await pollDelete()).state).toBe('DELETED');
    const { event } = await recordOutcome(w.workflow, { requestId: id, outcome: 'DELETED' });
    expect(event.Detail.reason).toBe('cancelled');
    expect((await w.store.require(id)).history.at(-1)).toMatchObject({ to: 'DELETED', reason: 'cancelled' });
  });

  it('still deletes a late-answering cluster when the delete workflow has already ended the request', async () => {
    const { w, id, sm } = await accepted();
    sm.onCreate = async () => {
      await requestDeletion(w.submit, id);
      await deleteCluster(w.workflow, { requestId: id }); // no providerId yet: gone at once
      await recordOutcome(w.workflow, { requestId: id, outcome: 'DELETED' });
    };

    expect(await create(w, id)).toEqual({ action: 'CANCELLED' });

    expect(sm.isDeleting(sm.clusterIds()[0]!)).toBe(true);
    expect((await w.store.require(id)).status).toBe('DELETED');
  });

  it('warns, and still answers CANCELLED, when the late cluster cannot be deleted', async () => {
    const { w, id, sm } = await accepted();
    sm.onCreate = async () => {
      await requestDeletion(w.submit, id);
    };
    sm.refuseDelete(new ProviderUnavailableError('503'));

    expect(await create(w, id)).toEqual({ action: 'CANCELLED' });
    expect(w.warnings.map((x) => x.details.providerId)).toEqual([sm.clusterIds()[0]]);
  });

  it('does not warn when the late cluster is already gone', async () => {
    const { w, id, sm } = await accepted(sagemakerRequest(), { provider: { goneAfterDescribes: 0 } });
    sm.onCreate = async (cluster) => {
      await requestDeletion(w.submit, id);
      await sm.delete({ location: cluster.location, clusterName: cluster.clusterName, providerId: cluster.providerId });
    };

    expect(await create(w, id)).toEqual({ action: 'CANCELLED' });
    expect(w.warnings).toEqual([]);
  });

  it('works without a warning sink: a refused delete of a late or discarded cluster is only not logged', async () => {
    const { w, id, sm } = await accepted();
    const { onWarning: _none, ...deps } = w.workflow;
    sm.onCreate = async () => {
      await requestDeletion(w.submit, id);
    };
    sm.refuseDelete(new ProviderUnavailableError('503'));

    expect(await createCluster(deps, { requestId: id, capacityRetry: RETRY })).toEqual({ action: 'CANCELLED' });

    const other = await accepted(sagemakerRequest({ deleteAfter: 'PT1H' }));
    const { onWarning: _also, ...otherDeps } = other.w.workflow;
    other.sm.scriptNext(...rollsBackForCapacity);
    await create(other.w, other.id);
    await poll(other.w, other.id);
    other.sm.refuseDelete(new ProviderUnavailableError('503'));
    expect(
      (
        await pollCluster(otherDeps, {
          requestId: other.id,
          operation: 'provision',
          lastWaitSeconds: 20,
          maxWaitSeconds: 60,
          deadlineSeconds: 3600,
          capacityRetry: RETRY,
        })
      ).state,
    ).toBe('RETRY');

    const third = await accepted(sagemakerRequest({ deleteAfter: 'PT1H' }));
    const { onWarning: _too, ...thirdDeps } = third.w.workflow;
    third.sm.scriptNext({ state: 'READY' });
    await create(third.w, third.id);
    await poll(third.w, third.id);
    third.w.teardown.refuseNext(new ProviderUnavailableError('503'));
    expect((await recordOutcome(thirdDeps, { requestId: third.id, outcome: 'READY' })).cause).toBe('READY');
  });

  it('answers CANCELLED to a poll of the provision workflow without asking the provider', async () => {
    const { w, id, sm } = await accepted();
    await create(w, id);
    await requestDeletion(w.submit, id);

    expect(await poll(w, id)).toEqual({ state: 'CANCELLED', providerStatus: 'Unknown', waitSeconds: 30 });
    expect(sm.callsOf('describe')).toHaveLength(0);
  });

  it.each(['READY', 'FAILED'] as const)('refuses to record %s for a cancelled request (RequestCancelledError)', async (outcome) => {
    const { w, id } = await accepted();
    await create(w, id);
    await requestDeletion(w.submit, id);

    await expect(recordOutcome(w.workflow, { requestId: id, outcome, error: caught('X', 'y') })).rejects.toBeInstanceOf(
      RequestCancelledError,
    );
    expect((await w.store.require(id)).status).toBe('DELETING');
  });

  it('deletes the cluster a cancelled CREATING request made', async () => {
    const { w, id, sm } = await accepted();
    await create(w, id);
    const [cluster] = sm.clusterIds();
    await requestDeletion(w.submit, id);

    expect(await deleteCluster(w.workflow, { requestId: id })).toEqual({ gone: false });
    expect(sm.isDeleting(cluster!)).toBe(true);
  });
});

/** Races and records the unit tier found wrong once (docs/mutation.md): each is pinned by its own test. */
describe('found by the unit tier', () => {
  it('FAILED records the attempt that failed, not the one of an earlier wait', async () => {
    // Attempt 1 is refused for capacity (lastError.attempt 1); attempt 2 is rejected as invalid (terminal).
    const { w, id, sm } = await accepted();
    sm.refuseCreate(capacityRefusal(), new InvalidProviderRequestError('1 validation error detected'));
    await create(w, id);
    w.clock.advance(15);
    await create(w, id).catch(() => undefined);

    await recordOutcome(w.workflow, {
      requestId: id,
      outcome: 'FAILED',
      error: caught('InvalidProviderRequestError', '1 validation error detected'),
    });

    const record = await w.store.require(id);
    expect(record.attempts).toBe(2);
    expect(record.lastError).toMatchObject({ name: 'InvalidProviderRequestError', attempt: 2 });
  });

  it('a cancel that lands while a lost create is being adopted deletes the adopted cluster (no leak)', async () => {
    // Prepare: attempt 1's answer is lost; on attempt 2 the DELETE lands between ResourceInUse and the adoption write
    const { w, id, sm } = await accepted();
    sm.onCreate = () => {
      sm.onCreate = undefined;
      throw new Error('Task timed out');
    };
    await create(w, id).catch(() => undefined);
    const [cluster] = sm.clusterIds();
    let cancelled = false;
    w.store.beforeWrite = async (kind) => {
      if (kind !== 'transition' || cancelled) return;
      cancelled = true;
      await requestDeletion(w.submit, id);
    };

    // Act: today this throws RecordConflictError and nobody ever deletes the cluster
    const result = await create(w, id).catch((err: unknown) => err);

    // Assess
    expect(result).toEqual({ action: 'CANCELLED' });
    expect(sm.isDeleting(cluster!)).toBe(true);
  });

  it('the delete workflow of a cancelled request finds the cluster whose create answer was lost (no leak)', async () => {
    // Attempt 1 created a HyperPod cluster (tagged with the requestId) but the answer was lost; then the user cancels.
    const { w, id, sm } = await accepted();
    sm.onCreate = () => {
      sm.onCreate = undefined;
      throw new Error('Task timed out');
    };
    await create(w, id).catch(() => undefined);
    const [cluster] = sm.clusterIds();
    await requestDeletion(w.submit, id);

    // Today: no providerId on the record, so the delete answers gone and the tagged cluster is left running.
    const result = await deleteCluster(w.workflow, { requestId: id });

    expect(result).toEqual({ gone: false });
    expect(sm.isDeleting(cluster!)).toBe(true);
  });
});
