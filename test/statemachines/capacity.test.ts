/**
 * Capacity as HyperPod reports it, through the shipped ASL, the real task handlers, dynalite and the SageMaker
 * simulator driven by the real SDK: post-create shortages, quota versus capacity, cancel.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DETAIL_TYPES } from '../../functions/core/events';
import { requestDeletion } from '../../functions/core/submit';
import { DEPLOYMENT, hyperpodRequest, startHarness, type Harness } from '../helpers/workflow';

const SHORTAGE =
  'We currently do not have sufficient ml.g5.2xlarge capacity in the Availability Zone you requested (us-east-1a). Our ' +
  'system will be working on provisioning additional capacity. You can currently get ml.g5.2xlarge capacity by not ' +
  'specifying an Availability Zone in your request or choosing us-east-1b, us-east-1c.';

const quotaMessage = (limit: number, usage: number, delta: number) =>
  `The account-level service limit 'ml.p5.48xlarge for cluster usage' is ${limit} Instances, with current utilization of ` +
  `${usage} Instances and a request delta of ${delta} Instances. Please use AWS Service Quotas to request an increase for ` +
  'this quota. If AWS Service Quotas is not available, contact AWS support to request an increase for this quota.';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const creates = (h: Harness) => h.sagemaker.requests.filter((r) => r.operation === 'CreateCluster');

/** Resolves with the providerId of the request's cluster once the record is CREATING with a cluster other than `not`. */
const nextCluster = async (h: Harness, requestId: string, not: string[] = []): Promise<string> => {
  for (;;) {
    const record = await h.store.require(requestId);
    if (record.status === 'CREATING' && record.providerId && !not.includes(record.providerId)) return record.providerId;
    if (['READY', 'FAILED', 'DELETED'].includes(record.status)) throw new Error(`${requestId} ended ${record.status}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('post-create capacity shortage (Failed with an insufficient-capacity FailureMessage)', () => {
  it('deletes the rolled-back cluster, waits until it is gone, creates again: two shortages then READY, one live cluster, one Ready event', async () => {
    harness = await startHarness({ sagemaker: { readyAfterMs: 400, deleteAfterMs: 150 } });
    const request = hyperpodRequest();
    await harness.submit(request);

    const first = await nextCluster(harness, request.requestId);
    harness.sagemaker.failCluster(first, SHORTAGE, 'RollingBack');
    const waiting = await harness.waitForStatus(request.requestId, 'WAITING_FOR_CAPACITY');
    expect(waiting.lastError).toMatchObject({ name: 'InsufficientCapacityError', reason: 'capacity', message: SHORTAGE, attempt: 1 });
    expect(Date.parse(waiting.lastError!.nextAttemptAt!)).toBeGreaterThan(Date.parse(waiting.lastError!.at));

    const second = await nextCluster(harness, request.requestId, [first]);
    harness.sagemaker.failCluster(second, 'Insufficient capacity for ml.g5.2xlarge (InsufficientInstanceCapacity)');
    const third = await nextCluster(harness, request.requestId, [first, second]);

    const execution = await harness.workflows.get(request.requestId)!.done;
    const record = await harness.store.require(request.requestId);
    expect(execution.status).toBe('SUCCEEDED');
    expect(record.status).toBe('READY');
    expect(record.providerId).toBe(third);
    expect(record.attempts).toBe(3);
    expect(record.history.map((h) => h.to)).toEqual([
      'ACCEPTED',
      'CREATING',
      'WAITING_FOR_CAPACITY',
      'CREATING',
      'WAITING_FOR_CAPACITY',
      'CREATING',
      'READY',
    ]);
    expect(record.discardedClusters).toEqual([
      expect.objectContaining({ providerId: first, reason: 'capacity', goneAt: expect.any(String) }),
      expect.objectContaining({ providerId: second, reason: 'capacity', goneAt: expect.any(String) }),
    ]);

    // Never two live clusters: every create after the first came once the discarded one was gone (the name is
    // reused, so a create while it still existed would have answered ResourceInUse).
    expect(creates(harness).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(harness.sagemaker.describe(first)).toBeUndefined();
    expect(harness.sagemaker.describe(second)).toBeUndefined();
    expect(harness.sagemaker.describe(third)).toMatchObject({ ClusterStatus: 'InService' });
    const deletes = harness.sagemaker.requests.filter((r) => r.operation === 'DeleteCluster');
    expect(deletes.map((r) => (r.body as { ClusterName: string }).ClusterName)).toEqual(expect.arrayContaining([first, second]));

    // The wait was announced once (Cluster Waiting For Capacity), then the outcome.
    expect(harness.events.map((e) => e.DetailType)).toEqual([DETAIL_TYPES.waiting, DETAIL_TYPES.ready]);
    expect(harness.events.at(-1)!.Detail).toMatchObject({
      attempts: 3,
      providerId: third,
      nodes: { current: 2, target: 2 },
      groups: [{ name: 'workers', current: 2, target: 2, instanceTypes: [{ type: 'ml.g5.2xlarge', count: 2 }] }],
    });
  });
});

describe('ResourceLimitExceeded is the account quota, not capacity', () => {
  it('fails on the first refusal when the quota is below what the request adds, naming the quota, the limit, the delta and how to raise it', async () => {
    harness = await startHarness();
    harness.sagemaker.injectErrors('CreateCluster', [{ name: 'ResourceLimitExceeded', message: quotaMessage(1, 0, 2) }]);
    const request = hyperpodRequest();
    const { execution, record } = await harness.provision(request);

    expect(execution.status).toBe('FAILED');
    expect(execution.error?.name).toBe('QuotaTooLowError');
    expect(record.status).toBe('FAILED');
    expect(record.attempts).toBe(1);
    expect(creates(harness)).toHaveLength(1);
    expect(record.lastError!.name).toBe('QuotaTooLowError');
    expect(record.lastError!.message).toContain("'ml.p5.48xlarge for cluster usage' is 1 instances and this request adds 2");
    expect(record.lastError!.message).toContain('Service Quotas');
    expect(harness.events.map((e) => e.DetailType)).toEqual([DETAIL_TYPES.failed]);
    expect(harness.events[0]!.Detail).toMatchObject({ error: { name: 'QuotaTooLowError' } });
  });

  it("waits while the quota is used by the account's other clusters (history says quota), then succeeds", async () => {
    harness = await startHarness({ waitMs: 100 });
    harness.sagemaker.injectErrors('CreateCluster', [
      { name: 'ResourceLimitExceeded', message: quotaMessage(4, 4, 2) },
      { name: 'ResourceLimitExceeded', message: quotaMessage(4, 3, 2) },
    ]);
    const request = hyperpodRequest();
    await harness.submit(request);
    const waiting = await harness.waitForStatus(request.requestId, 'WAITING_FOR_CAPACITY');
    expect(waiting.lastError).toMatchObject({
      name: 'ResourceLimitExceededError',
      reason: 'quota',
      quota: { name: 'ml.p5.48xlarge for cluster usage', limit: 4, usage: 4, delta: 2 },
    });

    const execution = await harness.workflows.get(request.requestId)!.done;
    const record = await harness.store.require(request.requestId);
    expect(execution.status).toBe('SUCCEEDED');
    expect(record.status).toBe('READY');
    expect(record.attempts).toBe(3);
    const waits = record.history.filter((h) => h.to === 'WAITING_FOR_CAPACITY');
    expect(waits).toHaveLength(2);
    expect(waits[0]!.reason).toMatch(/waits for quota 'ml.p5.48xlarge for cluster usage' \(4 of 4 used, 2 more needed\)/);
    // Two waits for quota: one announcement, saying quota.
    expect(harness.events.map((e) => e.DetailType)).toEqual([DETAIL_TYPES.waiting, DETAIL_TYPES.ready]);
    expect(harness.events[0]!.Detail).toMatchObject({ wait: { reason: 'quota', quota: { name: 'ml.p5.48xlarge for cluster usage' } } });
  });
});

describe('cancel', () => {
  it('DELETE during a capacity wait stops the retries at once: no create after it answers, no cluster, DELETED with reason cancelled', async () => {
    harness = await startHarness({ waitMs: 30 });
    harness.sagemaker.injectErrors('CreateCluster', Array(10_000).fill('ResourceLimitExceeded'));
    const request = hyperpodRequest();
    await harness.submit(request);
    await harness.waitForStatus(request.requestId, 'WAITING_FOR_CAPACITY');

    const cancelled = await requestDeletion(harness.submitDeps, request.requestId);
    const createsAtCancel = creates(harness).length;
    expect(cancelled.status).toBe('DELETING');
    expect(cancelled.cancelledAt).toBeTruthy();

    const record = await harness.waitForStatus(request.requestId, 'DELETED');
    await harness.workflows.settle();
    await new Promise((r) => setTimeout(r, 200)); // several backoff rounds' worth: nothing may follow
    expect(creates(harness)).toHaveLength(createsAtCancel);
    expect(harness.workflows.get(request.requestId)!.status).toBe('ABORTED');
    expect(harness.sagemaker.describe(request.cluster.ClusterName)).toBeUndefined();
    expect(record.history.at(-2)).toMatchObject({ from: 'WAITING_FOR_CAPACITY', to: 'DELETING', reason: 'cancelled' });
    expect(record.history.at(-1)).toMatchObject({ to: 'DELETED', reason: 'cancelled' });
    expect(harness.events.map((e) => e.DetailType)).toEqual([DETAIL_TYPES.waiting, DETAIL_TYPES.deleted]);
    expect(harness.events.at(-1)!.Detail).toMatchObject({ status: 'DELETED', reason: 'cancelled' });
  });

  it('DELETE while the cluster is being created deletes it and never announces it ready', async () => {
    harness = await startHarness({ sagemaker: { readyAfterMs: 60_000, deleteAfterMs: 100 } });
    const request = hyperpodRequest();
    await harness.submit(request);
    const providerId = await nextCluster(harness, request.requestId);

    await requestDeletion(harness.submitDeps, request.requestId);
    const record = await harness.waitForStatus(request.requestId, 'DELETED');
    await harness.workflows.settle();
    expect(record.providerId).toBe(providerId);
    expect(harness.sagemaker.describe(providerId)).toBeUndefined();
    expect(creates(harness)).toHaveLength(1);
    expect(harness.events.map((e) => e.DetailType)).toEqual([DETAIL_TYPES.deleted]);
    expect(harness.events[0]!.Detail).toMatchObject({ reason: 'cancelled' });
  });
});

describe("against the simulator's capacity and quota model", () => {
  it('waits out a shortage of the pool until capacity is freed, then READY with the one cluster', async () => {
    harness = await startHarness({
      sagemaker: { readyAfterMs: 100, deleteAfterMs: 50, rollbackMs: 20, capacity: { 'ml.p4d.24xlarge': 1 } },
    });
    const request = hyperpodRequest({ instanceType: 'ml.p4d.24xlarge', instanceCount: 2 });
    await harness.submit(request);
    await expect
      .poll(async () => (await harness!.store.require(request.requestId)).discardedClusters?.length ?? 0, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(2);
    harness.sagemaker.setCapacity('ml.p4d.24xlarge', 2);

    const execution = await harness.workflows.get(request.requestId)!.done;
    const record = await harness.store.require(request.requestId);
    expect(execution.status).toBe('SUCCEEDED');
    expect(record.status).toBe('READY');
    expect(record.lastError).toMatchObject({
      reason: 'capacity',
      message: expect.stringContaining('do not have sufficient ml.p4d.24xlarge capacity'),
    });
    expect(harness.sagemaker.clusters().map((c) => c.status)).toEqual(['InService']);
    expect(harness.events.map((e) => e.DetailType)).toEqual([DETAIL_TYPES.waiting, DETAIL_TYPES.ready]);
  });

  it('waits for quota held by another cluster of the account, and creates once that cluster is deleted', async () => {
    harness = await startHarness({ waitMs: 20, sagemaker: { quotas: { 'ml.p5.48xlarge': 4 }, deleteAfterMs: 50 } });
    const holder = hyperpodRequest({ instanceType: 'ml.p5.48xlarge', instanceCount: 3 });
    await harness.provision(holder);
    const request = hyperpodRequest({ instanceType: 'ml.p5.48xlarge', instanceCount: 2 });
    await harness.submit(request);
    const waiting = await harness.waitForStatus(request.requestId, 'WAITING_FOR_CAPACITY');
    expect(waiting.lastError).toMatchObject({
      reason: 'quota',
      quota: { name: 'ml.p5.48xlarge for cluster usage', limit: 4, usage: 3, delta: 2 },
    });

    await harness.delete(holder.requestId);
    const execution = await harness.workflows.get(request.requestId)!.done;
    expect(execution.status).toBe('SUCCEEDED');
    expect((await harness.store.require(request.requestId)).status).toBe('READY');
  });

  it('fails at once, without waiting, when the quota is below the request', async () => {
    harness = await startHarness({ sagemaker: { quotas: { 'ml.p5.48xlarge': 1 } } });
    const { execution, record } = await harness.provision(hyperpodRequest({ instanceType: 'ml.p5.48xlarge', instanceCount: 2 }));
    expect(execution.error?.name).toBe('QuotaTooLowError');
    expect(record.attempts).toBe(1);
    expect(record.history.map((h) => h.to)).toEqual(['ACCEPTED', 'FAILED']);
  });
});

describe("the API's capacity features, end to end", () => {
  it('takes a request with every CreateCluster member (flexible group, Continuous, MinInstanceCount) to READY at the minimum, and records which types came up', async () => {
    // p5 and g7 are short; p5e has 3 nodes: the flexible group comes up on p5e with 3 of 4 (its minimum is 2), and HyperPod
    // (Continuous) goes on adding the fourth by itself.
    harness = await startHarness({
      sagemaker: { readyAfterMs: 100, capacity: { 'ml.p5.48xlarge': 0, 'ml.p5e.48xlarge': 3, 'ml.g7.48xlarge': 0 } },
    });
    const fixture = JSON.parse(readFileSync('test/fixtures/requests/hyperpod-every-member.json', 'utf8')) as Record<string, unknown>;
    const { startAt: _later, deleteAfter: _teardown, ...now } = fixture;
    const request = { ...now, requestId: `every-member-${Date.now()}` };
    const { execution, record } = await harness.provision(request);

    expect(execution.status).toBe('SUCCEEDED');
    expect(record.status).toBe('READY');
    const flexible = record.groups!.find((g) => g.name === 'flexible-gpu')!;
    expect(flexible).toMatchObject({ min: 2, target: 4, current: 3, instanceTypes: [{ type: 'ml.p5e.48xlarge', count: 3 }] });
    const ready = harness.events.find((e) => e.DetailType === DETAIL_TYPES.ready)!;
    expect((ready.Detail as { groups: unknown[] }).groups).toContainEqual(
      expect.objectContaining({ name: 'flexible-gpu', current: 3, target: 4, min: 2 }),
    );
    // Everything the API accepts was forwarded unchanged (plus the provisioner's own tags); a timestamp travels as epoch
    // seconds, as AWS JSON 1.1 writes it.
    const sent = harness.sagemaker.requests.find((r) => r.operation === 'CreateCluster')!.body as Record<string, unknown>;
    const { Tags: sentTags, ...sentRest } = sent;
    const onTheWire = JSON.parse(JSON.stringify(fixture.cluster), (key, value: unknown) =>
      key === 'NextPatchDate' && typeof value === 'string' ? Date.parse(value) / 1000 : value,
    ) as Record<string, unknown>;
    const { Tags: ownTags, ...ownRest } = onTheWire;
    expect(sentRest).toEqual(ownRest);
    expect(sentTags).toEqual([
      ...(ownTags as unknown[]),
      { Key: 'provisioner:request-id', Value: request.requestId },
      { Key: 'provisioner:deployment', Value: DEPLOYMENT },
    ]);
  });
});
