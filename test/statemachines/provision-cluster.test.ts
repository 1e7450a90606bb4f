import { afterEach, describe, expect, it } from 'vitest';
import { DETAIL_TYPES } from '../../functions/core/events';
import type { ClusterStore } from '../../functions/core/store';
import { createHyperPodProvider } from '../../functions/adapters/hyperpod';
import { DEPLOYMENT, hyperpodRequest, startHarness, tirRequest, type Harness, type HarnessOptions } from '../helpers/workflow';

/** What differs between the providers in these scenarios. */
const PROVIDERS = {
  sagemaker: {
    request: () => hyperpodRequest(),
    nameOf: (r: ReturnType<typeof hyperpodRequest>) => r.cluster.ClusterName,
    injectCapacityErrors: (h: Harness, n: number) => h.sagemaker.injectErrors('CreateCluster', Array(n).fill('ResourceLimitExceeded')),
    /** HyperPod refuses a create only for the quota; an unparseable ResourceLimitExceeded message is a quota wait. */
    refusal: { name: 'ResourceLimitExceededError', reason: 'quota' },
    failCluster: (h: Harness, name: string, message: string) => h.sagemaker.failCluster(name, message),
    successfulCreates: (h: Harness) => h.sagemaker.requests.filter((r) => r.operation === 'CreateCluster' && r.status === 200).length,
    exists: (h: Harness, name: string) => h.sagemaker.describe(name) !== undefined,
    slow: { sagemaker: { readyAfterMs: 60_000 } } as HarnessOptions,
    /** The failure message the record keeps: HyperPod's FailureMessage. */
    failureMessage: (message: string) => message,
    /** The provider hands back what proves ownership (HyperPod: its tags, always). */
    proofReadBack: {} as HarnessOptions,
  },
  tir: {
    request: () => tirRequest(),
    nameOf: (r: ReturnType<typeof tirRequest>) => r.cluster.name,
    injectCapacityErrors: (h: Harness, n: number) => h.tir.injectErrors('create', Array(n).fill('capacity')),
    refusal: { name: 'InsufficientCapacityError', reason: 'capacity' },
    failCluster: (h: Harness, name: string, message: string) => h.tir.failCluster(name, message),
    successfulCreates: (h: Harness) => h.tir.requests.filter((r) => r.operation === 'create' && r.status === 201).length,
    exists: (h: Harness, name: string) => h.tir.cluster(name) !== undefined,
    slow: { tir: { readyAfterMs: 60_000 } } as HarnessOptions,
    /** TIR publishes no failure message field: the record says the status. */
    failureMessage: (_message: string) => 'TIR reports the cluster as Failed',
    /** The owner marker read back from the cluster (the case TIR's docs leave open; tests/statemachines/ownership.test.ts has the other). */
    proofReadBack: { tir: { returnsLifecycleScript: true } } as HarnessOptions,
  },
} as const;

type Case = (typeof PROVIDERS)[keyof typeof PROVIDERS];
type AnyRequest = ReturnType<typeof hyperpodRequest> | ReturnType<typeof tirRequest>;

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe.each(Object.entries(PROVIDERS))('provision-cluster on %s', (_provider, p: Case) => {
  const nameOf = (r: AnyRequest) => (p.nameOf as (r: AnyRequest) => string)(r);

  it('provisions a cluster to READY, records its history and announces Cluster Ready', async () => {
    harness = await startHarness();
    const request = p.request();
    const { execution, record } = await harness.provision(request);

    expect(execution.status).toBe('SUCCEEDED');
    expect(record.status).toBe('READY');
    expect(record.providerId).toBeTruthy();
    expect(record.attempts).toBe(1);
    expect(record.history.map((h) => h.to)).toEqual(['ACCEPTED', 'CREATING', 'READY']);
    expect(record.readyAt).toBeTruthy();
    expect(record.nodes).toEqual({ current: 2, target: 2 });
    expect(p.successfulCreates(harness)).toBe(1);

    expect(harness.events).toHaveLength(1);
    const [event] = harness.events;
    expect(event).toMatchObject({ DetailType: DETAIL_TYPES.ready, EventBusName: 'test-bus', Source: 'gpu-cluster-provisioner' });
    expect(event!.Detail).toMatchObject({
      requestId: request.requestId,
      clusterName: nameOf(request),
      providerId: record.providerId,
      status: 'READY',
      attempts: 1,
      timestamps: { acceptedAt: record.acceptedAt, readyAt: record.readyAt },
    });
  });

  it('waits through three refused creates, records each attempt and why, then creates exactly one cluster', async () => {
    harness = await startHarness({ waitMs: 150 });
    p.injectCapacityErrors(harness, 3);
    const request = p.request();
    await harness.submit(request);

    // While it waits, a status read says why.
    const waiting = await harness.waitForStatus(request.requestId, 'WAITING_FOR_CAPACITY');
    expect(waiting.lastError).toMatchObject({ ...p.refusal, attempt: 1, operation: 'create' });
    // The real time of the next attempt: full jitter from 30 s, so within (at, at + 30 s].
    const wait = Date.parse(waiting.lastError!.nextAttemptAt!) - Date.parse(waiting.lastError!.at);
    expect(wait).toBeGreaterThanOrEqual(1000);
    expect(wait).toBeLessThanOrEqual(30_000);
    expect(Date.parse(waiting.retryUntil!) - Date.parse(waiting.createRequestedAt!)).toBe(6 * 3600_000);

    const execution = await harness.workflows.get(request.requestId)!.done;
    const record = await harness.store.require(request.requestId);
    expect(execution.status).toBe('SUCCEEDED');
    expect(record.status).toBe('READY');
    expect(record.attempts).toBe(4);
    expect(record.maxAttempts).toBe(2000);
    expect(record.history.map((h) => h.to)).toEqual([
      'ACCEPTED',
      'WAITING_FOR_CAPACITY',
      'WAITING_FOR_CAPACITY',
      'WAITING_FOR_CAPACITY',
      'CREATING',
      'READY',
    ]);
    expect(record.history[1]!.reason).toMatch(new RegExp(`attempt 1 waits for ${p.refusal.reason}: ${p.refusal.name}`));
    expect(record.history[3]!.reason).toMatch(/attempt 3 waits/);
    expect(record.lastError).toMatchObject({ ...p.refusal, attempt: 3 });
    expect(p.successfulCreates(harness)).toBe(1);
    // Three refusals for one reason: the first wait is announced, the next rounds are not.
    expect(harness.events.map((e) => e.DetailType)).toEqual([DETAIL_TYPES.waiting, DETAIL_TYPES.ready]);
    expect(harness.events[0]!.Detail).toMatchObject({ status: 'WAITING_FOR_CAPACITY', wait: { reason: p.refusal.reason, attempt: 1 } });
    expect(harness.events[1]!.Detail).toMatchObject({ attempts: 4 });
  });

  it('gives up when the attempt budget is spent: FAILED, the failure event and a failed execution', async () => {
    harness = await startHarness({ settings: { capacityRetryMaxAttempts: 3 } });
    p.injectCapacityErrors(harness, 10);
    const request = p.request();
    const { execution, record } = await harness.provision(request);

    expect(execution.status).toBe('FAILED');
    expect(execution.error?.name).toBe('RetryHorizonExceededError');
    expect(record.status).toBe('FAILED');
    expect(record.attempts).toBe(3);
    expect(record.lastError).toMatchObject({ name: 'RetryHorizonExceededError', operation: 'create' });
    expect(record.lastError!.message).toMatch(new RegExp(`all 3 attempts were made\\. Last: ${p.refusal.name}`));
    expect(record.lastError!.message).not.toMatch(/errorType|trace/);
    expect(record.failedAt).toBeTruthy();
    expect(p.successfulCreates(harness)).toBe(0);
    expect(harness.events.map((e) => e.DetailType)).toEqual([DETAIL_TYPES.waiting, DETAIL_TYPES.failed]);
    expect(harness.events[1]!.Detail).toMatchObject({
      requestId: request.requestId,
      status: 'FAILED',
      attempts: 3,
      error: { name: 'RetryHorizonExceededError' },
    });
  });

  it('stops at the end of the retry horizon (retry.until) with the last refusal in the reason', async () => {
    // The tasks' clock runs ahead of the real one by `skip`, which the test moves past the horizon: the horizon is a
    // minute away, however slow the machine, until the test says it has passed.
    let skip = 0;
    harness = await startHarness({ waitMs: 20, taskDeps: { now: () => new Date(Date.now() + skip) } });
    p.injectCapacityErrors(harness, 10_000);
    const until = new Date(Date.now() + 60_000).toISOString();
    const request = { ...p.request(), retry: { until } };
    await harness.submit(request);
    // Before the horizon, a refusal is a wait and another attempt.
    await expect
      .poll(async () => (await harness!.store.require(request.requestId)).attempts, { timeout: 20_000 })
      .toBeGreaterThanOrEqual(3);
    expect(harness.workflows.get(request.requestId)!.status).toBe('RUNNING');
    skip = 61_000;
    const execution = await harness.workflows.get(request.requestId)!.done;
    const record = await harness.store.require(request.requestId);

    expect(execution.status).toBe('FAILED');
    expect(record.status).toBe('FAILED');
    expect(record.retryUntil).toBe(until);
    expect(record.lastError!.name).toBe('RetryHorizonExceededError');
    expect(record.lastError!.message).toContain(`the retry horizon ended at ${until}`);
    expect(Date.parse(record.failedAt!)).toBeGreaterThan(Date.parse(until));
    expect(p.successfulCreates(harness)).toBe(0);
  });

  it('marks FAILED with the provider message when the provider reports the cluster failed, and deletes the failed cluster', async () => {
    harness = await startHarness(p.slow);
    const request = p.request();
    await harness.submit(request);
    await harness.waitForStatus(request.requestId, 'CREATING');
    p.failCluster(harness, nameOf(request), 'Lifecycle script on_create.sh exited with 1');

    const execution = await harness.workflows.get(request.requestId)!.done;
    const record = await harness.store.require(request.requestId);
    expect(execution.status).toBe('FAILED');
    expect(record.status).toBe('FAILED');
    expect(record.lastError).toMatchObject({ name: 'ClusterFailedError' });
    expect(record.lastError!.message).toContain(p.failureMessage('Lifecycle script on_create.sh exited with 1'));
    expect(harness.events.map((e) => e.DetailType)).toEqual([DETAIL_TYPES.failed]);
    expect(harness.events[0]!.Detail).toMatchObject({ error: { name: 'ClusterFailedError' } });
    // Not a shortage: no second attempt, and the failed cluster (no instances, but it counts) is deleted.
    expect(record.attempts).toBe(1);
    expect(record.discardedClusters).toEqual([expect.objectContaining({ providerId: record.providerId, reason: 'failed' })]);
    await expect.poll(() => p.exists(harness!, nameOf(request)), { timeout: 5000 }).toBe(false);
  });

  it('ends FAILED with a timeout reason when the cluster is not ready by the deadline', async () => {
    harness = await startHarness({ ...p.slow, settings: { provisionDeadlineSeconds: 1 } });
    const request = p.request();
    const { execution, record } = await harness.provision(request);

    expect(execution.status).toBe('FAILED');
    expect(record.status).toBe('FAILED');
    expect(record.lastError).toMatchObject({ name: 'ProvisioningTimeoutError' });
    expect(record.lastError!.message).toMatch(/not ready within 1 s/);
    expect(harness.events[0]).toMatchObject({ DetailType: DETAIL_TYPES.failed });
  });

  it('treats a second start of the same request as the same provisioning: one execution, one cluster', async () => {
    harness = await startHarness();
    const request = p.request();
    const first = await harness.submit(request);
    const second = await harness.submit({ ...request });
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(harness.workflows.list().filter((e) => e.name === request.requestId)).toHaveLength(1);
    expect((await harness.workflows.starter().startProvisioning(request.requestId)).alreadyStarted).toBe(true);

    await harness.workflows.settle();
    expect((await harness.store.require(request.requestId)).status).toBe('READY');
    expect(p.successfulCreates(harness)).toBe(1);
    // Submitting once more after READY replays the record and starts nothing.
    const third = await harness.submit(request);
    expect(third.created).toBe(false);
    expect(third.record.status).toBe('READY');
    expect(harness.workflows.list()).toHaveLength(1);
  });

  it('adopts the cluster it created when the record write after the create was lost', async () => {
    let crashed = false;
    // The first CREATING write dies with the Lambda (as Step Functions reports a crashed function: Lambda.Unknown).
    const crashOnce = (store: ClusterStore): ClusterStore => ({
      ...store,
      transition: async (requestId, to, patch, options) => {
        if (to === 'CREATING' && !crashed) {
          crashed = true;
          const crash = new Error('Runtime exited with error: signal: killed');
          crash.name = 'Lambda.Unknown';
          throw crash;
        }
        return store.transition(requestId, to, patch, options);
      },
    });
    harness = await startHarness({ wrapStore: crashOnce, ...p.proofReadBack });
    const request = p.request();
    const { execution, record } = await harness.provision(request);

    expect(crashed).toBe(true);
    expect(execution.status).toBe('SUCCEEDED');
    expect(record.status).toBe('READY');
    expect(record.attempts).toBe(2);
    expect(record.history.find((h) => h.to === 'CREATING')!.reason).toMatch(/adopted/);
    expect(p.successfulCreates(harness)).toBe(1);
    expect(p.exists(harness, nameOf(request))).toBe(true);
  });

  it('does not adopt a same-named cluster that another request created: it waits, then fails', async () => {
    harness = await startHarness({ settings: { capacityRetryMaxAttempts: 2 } });
    const other = p.request();
    await harness.provision(other);
    const request = p.request() as AnyRequest;
    const clash = JSON.parse(JSON.stringify(request)) as AnyRequest;
    if (clash.provider === 'sagemaker') clash.cluster.ClusterName = (other as AnyRequest & { provider: 'sagemaker' }).cluster.ClusterName;
    else clash.cluster.name = (other as AnyRequest & { provider: 'tir' }).cluster.name;
    const { execution, record } = await harness.provision(clash as { requestId: string });

    expect(execution.status).toBe('FAILED');
    expect(record.status).toBe('FAILED');
    expect(record.lastError).toMatchObject({ name: 'RetryHorizonExceededError' });
    expect(record.lastError!.message).toContain('Last: ResourceInUseError');
    expect(record.history.filter((h) => h.to === 'WAITING_FOR_CAPACITY')[0]!.reason).toMatch(/waits for name-in-use/);
    expect(record.providerId).toBeUndefined();
    expect(p.successfulCreates(harness)).toBe(1);
  });
});

describe('a provider outage while polling', () => {
  it('keeps polling a cluster the provider cannot describe for a while, records why, and ends READY (not FAILED)', async () => {
    // One SDK attempt per call (maxAttempts: 1), so each failed answer is a failed poll without the SDK's own backoff
    // (real seconds of sleep between its attempts): 14 failed answers are more than a dozen polls in a row that fail.
    const hyperpod = createHyperPodProvider({ deployment: DEPLOYMENT, maxAttempts: 1 });
    harness = await startHarness({ sagemaker: { readyAfterMs: 300 }, taskDeps: { provider: () => hyperpod } });
    harness.sagemaker.injectErrors('DescribeCluster', [...Array(7).fill('InternalFailure'), ...Array(7).fill('ThrottlingException')]);
    const request = hyperpodRequest();
    await harness.submit(request);
    await expect.poll(async () => (await harness!.store.require(request.requestId)).lastError?.operation, { timeout: 10_000 }).toBe('wait');
    const waiting = await harness.store.require(request.requestId);
    expect(waiting.status).toBe('CREATING');
    expect(['ProviderUnavailableError', 'ProviderThrottledError']).toContain(waiting.lastError!.name);

    const execution = await harness.workflows.get(request.requestId)!.done;
    const record = await harness.store.require(request.requestId);
    expect(execution.status).toBe('SUCCEEDED');
    expect(record.status).toBe('READY');
    expect(harness.events.map((e) => e.DetailType)).toEqual([DETAIL_TYPES.ready]);
    // Every failed answer was a poll: the workflow polled on through all 14 before the cluster was READY.
    const failedPolls = harness.sagemaker.requests.filter((r) => r.operation === 'DescribeCluster' && (r.status ?? 0) >= 400);
    expect(failedPolls).toHaveLength(14);
  });
});
