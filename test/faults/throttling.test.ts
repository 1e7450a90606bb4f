/**
 * No transient error fails an accepted request: each table the workflow touches, each operation on it, and the
 * Step Functions wake are throttled in turn, on the wire (./throttling-proxy.ts answers the services' own throttling
 * errors), past what the SDK retries by itself. Every request still ends READY, with one cluster.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it, inject } from 'vitest';
import { StoreUnavailableError } from '../../functions/core/errors';
import { requestDeletion } from '../../functions/core/submit';
import { createTaskWaker } from '../../functions/adapters/step-functions';
import { SDK_CLIENT_DEFAULTS } from '../../functions/platform/config';
import { startStepFunctionsSimulator } from '../../local/simulators/step-functions';
import { hyperpodRequest, startHarness, type Harness } from '../helpers/workflow';
import { startThrottlingProxy, type ThrottlingProxy } from './throttling-proxy';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
/** More consecutive throttles than the deployed clients' attempts (SDK_CLIENT_DEFAULTS.maxAttempts): the SDK gives up. */
const THROTTLES = SDK_CLIENT_DEFAULTS.maxAttempts * 2;

let harness: Harness | undefined;
let proxies: ThrottlingProxy[] = [];
afterEach(async () => {
  await harness?.close();
  await Promise.all(proxies.map((p) => p.close()));
  harness = undefined;
  proxies = [];
});

const proxied = async (target: string): Promise<ThrottlingProxy> => {
  const proxy = await startThrottlingProxy(target);
  proxies.push(proxy);
  return proxy;
};

const dynamoThrough = (proxy: ThrottlingProxy) =>
  new DynamoDBClient({ ...SDK_CLIENT_DEFAULTS, endpoint: proxy.endpoint, region: 'us-east-1', credentials });

const liveClusters = (h: Harness) => h.sagemaker.clusters().filter((c) => c.status !== 'Deleting');

describe('throttling of every store the workflow touches', () => {
  const cases: Array<{ table: 'clusters' | 'offerings'; operation: string }> = [
    { table: 'clusters', operation: 'GetItem' },
    { table: 'clusters', operation: 'UpdateItem' },
    { table: 'offerings', operation: 'GetItem' },
    { table: 'offerings', operation: 'UpdateItem' },
    { table: 'offerings', operation: 'PutItem' },
  ];
  for (const { table, operation } of cases) {
    it(`${operation} on the ${table} table throttled ${THROTTLES} times in a row: the request still ends READY`, async () => {
      const proxy = await proxied(inject('dynamoEndpoint'));
      // A short offering (a rollback on the first try) makes the workflow remember it: the offerings table is written.
      harness = await startHarness({
        dynamoClient: dynamoThrough(proxy),
        sagemaker: { readyAfterMs: 80, rollbackMs: 20, regionCapacity: { 'us-east-1': { 'ml.g5.2xlarge': 0 } } },
        settings: { shortOfferingSeconds: 0.05 },
      });
      const h = harness;
      const request = hyperpodRequest();
      const rule = { operation, table: table === 'clusters' ? h.tableName : h.offeringsTable, count: THROTTLES };
      // The submit does not touch the offerings table; the clusters table is throttled once the request is accepted.
      if (table === 'offerings') proxy.arm(rule);
      await h.submit(request);
      // Accepted: from here on, every transient failure must be waited out.
      if (table === 'clusters') proxy.arm(rule);
      // The first cluster rolls back for capacity and the request waits (the offering remembered short) before any frees.
      await expect
        .poll(async () => (await h.store.get(request.requestId))?.history.some((e) => e.to === 'WAITING_FOR_CAPACITY'), { timeout: 20_000 })
        .toBe(true);
      h.sagemaker.setCapacity('ml.g5.2xlarge', 10, 'us-east-1');
      const execution = await h.workflows.get(request.requestId)!.done;
      const record = await h.store.require(request.requestId);

      // At least one call failed past the SDK's own retries.
      expect(proxy.throttled()).toBeGreaterThanOrEqual(SDK_CLIENT_DEFAULTS.maxAttempts);
      expect(execution.status).toBe('SUCCEEDED');
      expect(record.status).toBe('READY');
      expect(record.history.map((e) => e.to)).not.toContain('FAILED');
      expect(liveClusters(h).filter((c) => c.name === request.cluster.ClusterName)).toHaveLength(1);
    }, 30_000);
  }

  /** The state machines' own retries of StoreUnavailableError (statemachines/*.asl.json: 20 attempts). */
  const TASK_RETRIES = 20;
  /** Throttles that outlast the SDK's attempts on every one of a task's retries: the task's Catch is reached. */
  const OUTAGE = SDK_CLIENT_DEFAULTS.maxAttempts * (TASK_RETRIES + 1) + 4;

  it(`an offerings table outage that outlasts every retry of CreateCluster (${OUTAGE} throttles): the request waits it out and ends READY`, async () => {
    const proxy = await proxied(inject('dynamoEndpoint'));
    harness = await startHarness({
      dynamoClient: dynamoThrough(proxy),
      sagemaker: { readyAfterMs: 80, rollbackMs: 20, regionCapacity: { 'us-east-1': { 'ml.g5.2xlarge': 10 } } },
    });
    const h = harness;
    const request = hyperpodRequest();
    proxy.arm({ operation: 'GetItem', table: h.offeringsTable, count: OUTAGE });
    await h.submit(request);
    const execution = await h.workflows.get(request.requestId)!.done;
    const record = await h.store.require(request.requestId);

    expect(proxy.throttled()).toBe(OUTAGE);
    expect(execution.status).toBe('SUCCEEDED');
    expect(record.status).toBe('READY');
    expect(record.history.map((e) => e.to)).not.toContain('FAILED');
    expect(liveClusters(h).filter((c) => c.name === request.cluster.ClusterName)).toHaveLength(1);
  }, 90_000);

  it(`a clusters table outage that outlasts every retry of a deletion's tasks (${OUTAGE} throttles): the cluster is still deleted`, async () => {
    const proxy = await proxied(inject('dynamoEndpoint'));
    harness = await startHarness({ dynamoClient: dynamoThrough(proxy), sagemaker: { readyAfterMs: 20, deleteAfterMs: 20 } });
    const h = harness;
    const request = hyperpodRequest();
    await h.submit(request);
    await h.waitForStatus(request.requestId, 'READY', 10_000);
    // The provisioning is over (its last step's writes too): only the deletion's tasks meet the outage. (A delete
    // racing the READY step is the unit test "a READY step that ends after a delete began".)
    expect((await h.workflows.get(request.requestId)!.done).status).toBe('SUCCEEDED');
    const asked = await requestDeletion(h.submitDeps, request.requestId);
    proxy.arm({ operation: 'UpdateItem', table: h.tableName, count: OUTAGE });
    const execution = await h.workflows.get(asked.deleteExecutionArn!.split(':').pop()!)!.done;
    const record = await h.store.require(request.requestId);

    expect(proxy.throttled()).toBe(OUTAGE);
    expect(execution.status, JSON.stringify(execution.error)).toBe('SUCCEEDED');
    expect(record.status).toBe('DELETED');
    expect(liveClusters(h).filter((c) => c.name === request.cluster.ClusterName)).toHaveLength(0);
  }, 90_000);

  it('a wake throttled past the SDK retries is StoreUnavailableError (the name the state machines retry)', async () => {
    harness = await startHarness();
    const sfn = await startStepFunctionsSimulator(harness.workflows);
    const proxy = await proxied(sfn.endpoint);
    try {
      const waker = createTaskWaker(new SFNClient({ ...SDK_CLIENT_DEFAULTS, endpoint: proxy.endpoint, region: 'us-east-1', credentials }));
      proxy.arm({ operation: 'SendTaskSuccess', count: SDK_CLIENT_DEFAULTS.maxAttempts, type: 'ThrottlingException' });
      await expect(waker.wake('a-token')).rejects.toBeInstanceOf(StoreUnavailableError);
      // A token Step Functions does not know is still an answer, not a failure.
      await expect(waker.wake('a-token')).resolves.toBe(false);
    } finally {
      await sfn.close();
    }
  });

  it(`SendTaskSuccess throttled ${THROTTLES} times in a row while a queue wakes its next waiter: all READY`, async () => {
    const P5 = 'ml.p5.48xlarge';
    harness = await startHarness({
      // Each waiter parks 1 s per backoff: the queue's wakes (SendTaskSuccess) are what serve them.
      waitMs: 1000,
      settings: { shortOfferingSeconds: 0.2 },
      sagemaker: { readyAfterMs: 60, rollbackMs: 20, deleteAfterMs: 20, regionCapacity: { 'us-east-1': { [P5]: 0 } } },
    });
    const h = harness;
    const sfn = await startStepFunctionsSimulator(h.workflows);
    const proxy = await proxied(sfn.endpoint);
    const waker = createTaskWaker(new SFNClient({ ...SDK_CLIENT_DEFAULTS, endpoint: proxy.endpoint, region: 'us-east-1', credentials }));
    h.taskDeps.waker = waker;
    h.wakeDeps.waker = waker;
    try {
      const requests = Array.from({ length: 4 }, () => hyperpodRequest({ instanceType: P5, instanceCount: 1 }));
      for (const request of requests) {
        await h.submit(request);
        await new Promise((r) => setTimeout(r, 3));
      }
      await expect
        .poll(
          async () =>
            (await Promise.all(requests.map((r) => h.store.require(r.requestId)))).every((r) => r.status === 'WAITING_FOR_CAPACITY'),
          {
            timeout: 10_000,
          },
        )
        .toBe(true);
      proxy.arm({ operation: 'SendTaskSuccess', count: THROTTLES, type: 'ThrottlingException' });
      h.sagemaker.setCapacity(P5, requests.length, 'us-east-1');
      for (const request of requests) await h.waitForStatus(request.requestId, 'READY', 20_000);
      const records = await Promise.all(requests.map((r) => h.store.require(r.requestId)));

      expect(proxy.throttled()).toBeGreaterThanOrEqual(SDK_CLIENT_DEFAULTS.maxAttempts);
      expect(records.every((r) => !r.history.some((e) => e.to === 'FAILED'))).toBe(true);
      const live = liveClusters(h);
      expect(new Set(live.map((c) => c.name)).size).toBe(live.length);
    } finally {
      await sfn.close();
    }
  }, 60_000);
});
