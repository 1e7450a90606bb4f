import { afterEach, describe, expect, it } from 'vitest';
import { RecordConflictError } from '../../functions/core/errors';
import { DETAIL_TYPES } from '../../functions/core/events';
import { requestDeletion } from '../../functions/core/submit';
import { hyperpodRequest, startHarness, tirRequest, type Harness } from '../helpers/workflow';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const CASES = {
  sagemaker: {
    request: () => hyperpodRequest({ instanceCount: 3, instanceType: 'ml.p5.48xlarge' }),
    name: (r: ReturnType<typeof hyperpodRequest>) => r.cluster.ClusterName,
    exists: (h: Harness, name: string) => h.sagemaker.describe(name) !== undefined,
    available: (h: Harness) => h.sagemaker.available('ml.p5.48xlarge'),
    injectDeleteErrors: (h: Harness, errors: string[]) => h.sagemaker.injectErrors('DeleteCluster', errors),
    authError: 'AccessDeniedException',
  },
  tir: {
    request: () => tirRequest({ nodes: 3, skuId: 777 }),
    name: (r: ReturnType<typeof tirRequest>) => r.cluster.name,
    exists: (h: Harness, name: string) => h.tir.cluster(name) !== undefined,
    available: (h: Harness) => h.tir.available(777),
    injectDeleteErrors: (h: Harness, errors: string[]) => h.tir.injectErrors('delete', errors),
    authError: '403',
  },
} as const;

describe.each(Object.entries(CASES))('delete-cluster on %s', (_provider, c) => {
  const nameOf = (r: unknown) => (c.name as (r: unknown) => string)(r);

  it('deletes a READY cluster, polls until it is gone, records DELETED and announces Cluster Deleted', async () => {
    harness = await startHarness();
    const request = c.request();
    const before = c.available(harness);
    await harness.provision(request);
    expect(c.available(harness)).toBe(before - 3);

    const { execution, record } = await harness.delete(request.requestId);
    expect(execution.status).toBe('SUCCEEDED');
    expect(record.status).toBe('DELETED');
    expect(record.deletedAt).toBeTruthy();
    expect(record.history.map((h) => h.to)).toEqual(['ACCEPTED', 'CREATING', 'READY', 'DELETING', 'DELETED']);
    expect(c.exists(harness, nameOf(request))).toBe(false);
    expect(c.available(harness)).toBe(before);
    expect(harness.events.map((e) => e.DetailType)).toEqual([DETAIL_TYPES.ready, DETAIL_TYPES.deleted]);
    expect(harness.events[1]!.Detail).toMatchObject({
      requestId: request.requestId,
      status: 'DELETED',
      timestamps: { deletedAt: record.deletedAt },
    });
  });

  it('treats a cluster the provider no longer knows as gone', async () => {
    harness = await startHarness();
    const request = c.request();
    await harness.provision(request);
    c.injectDeleteErrors(harness, [c === CASES.sagemaker ? 'ResourceNotFound' : '404']);
    const { execution, record } = await harness.delete(request.requestId);
    expect(execution.status).toBe('SUCCEEDED');
    expect(record.status).toBe('DELETED');
  });

  it('records a failed delete as FAILED (operation delete), announces it, and lets the delete be asked for again', async () => {
    harness = await startHarness();
    const request = c.request();
    await harness.provision(request);
    c.injectDeleteErrors(harness, [c.authError]);
    const failed = await harness.delete(request.requestId);
    expect(failed.execution.status).toBe('FAILED');
    expect(failed.record.status).toBe('FAILED');
    expect(failed.record.lastError).toMatchObject({ name: 'ProviderAuthFailedError', operation: 'delete' });
    expect(harness.events.map((e) => e.DetailType)).toEqual([DETAIL_TYPES.ready, DETAIL_TYPES.deleteFailed]);

    const retried = await harness.delete(request.requestId);
    expect(retried.execution.status).toBe('SUCCEEDED');
    expect(retried.record.status).toBe('DELETED');
    expect(c.exists(harness, nameOf(request))).toBe(false);
  });
});

describe('delete requests', () => {
  it('refuses to delete a request that is already deleted, and changes nothing', async () => {
    harness = await startHarness();
    const request = hyperpodRequest();
    await harness.provision(request);
    await harness.delete(request.requestId);
    const deleted = await harness.store.require(request.requestId);
    await expect(requestDeletion(harness.submitDeps, request.requestId)).rejects.toBeInstanceOf(RecordConflictError);
    expect(await harness.store.require(request.requestId)).toEqual(deleted);
  });
});
