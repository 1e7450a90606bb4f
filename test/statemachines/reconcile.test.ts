/**
 * The reconciler through the shipped ASL, dynalite and the simulators: an execution that died leaves its record
 * behind; reconcile resumes it and the request ends where it should, with one cluster and one announcement.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DETAIL_TYPES } from '../../functions/core/events';
import { reconcile, type ReconcileDeps } from '../../functions/core/reconcile';
import { requestDeletion } from '../../functions/core/submit';
import { hyperpodRequest, startHarness, type Harness } from '../helpers/workflow';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const deps = (h: Harness): ReconcileDeps => ({ store: h.store, starter: h.workflows.starter(), graceSeconds: 0 });

/** Kills the execution of `name` the way a crash would: it stops mid-way and nothing records it. */
const kill = async (h: Harness, name: string) => {
  const execution = h.workflows.get(name)!;
  execution.abort();
  await execution.done;
};

const creates = (h: Harness) => h.sagemaker.requests.filter((r) => r.operation === 'CreateCluster' && r.status === 200);

describe('reconcile', () => {
  it('resumes a provisioning whose execution died while the cluster was being created: READY, one cluster, one event', async () => {
    harness = await startHarness({ sagemaker: { readyAfterMs: 500 } });
    const request = hyperpodRequest();
    await harness.submit(request);
    const creating = await harness.waitForStatus(request.requestId, 'CREATING');
    await kill(harness, request.requestId);

    const report = await reconcile(deps(harness));
    expect(report.actions).toEqual([
      { requestId: request.requestId, status: 'CREATING', action: 'resumed', executionArn: expect.stringMatching(/-resume-1$/) },
    ]);
    await harness.workflows.settle();
    const record = await harness.store.require(request.requestId);
    expect(record.status).toBe('READY');
    expect(record.providerId).toBe(creating.providerId);
    expect(record.resumes).toBe(1);
    expect(creates(harness)).toHaveLength(1);
    expect(harness.events.map((e) => e.DetailType)).toEqual([DETAIL_TYPES.ready]);
  });

  it('resumes one that died while waiting for capacity, and one whose start never happened', async () => {
    harness = await startHarness({ waitMs: 60_000 });
    harness.sagemaker.injectErrors('CreateCluster', ['ResourceLimitExceeded']);
    const waiting = hyperpodRequest();
    await harness.submit(waiting);
    await harness.waitForStatus(waiting.requestId, 'WAITING_FOR_CAPACITY');
    await kill(harness, waiting.requestId);
    // A record whose execution was never started (the submit died after the write).
    const orphan = hyperpodRequest();
    const { newRecord } = await import('../../functions/core/submit');
    await harness.store.create(newRecord({ ...orphan, region: 'us-east-1' }, new Date(Date.now() - 120_000)));

    const report = await reconcile(deps(harness));
    expect(report.actions.map((a) => [a.requestId, a.action]).sort()).toEqual(
      [
        [orphan.requestId, 'resumed'],
        [waiting.requestId, 'resumed'],
      ].sort(),
    );
    await harness.workflows.settle();
    expect((await harness.store.require(waiting.requestId)).status).toBe('READY');
    expect((await harness.store.require(orphan.requestId)).status).toBe('READY');
    expect(harness.events.filter((e) => e.DetailType === DETAIL_TYPES.ready)).toHaveLength(2);
  });

  it('resumes a deletion whose execution died, to DELETED with the cluster gone', async () => {
    harness = await startHarness({ sagemaker: { deleteAfterMs: 400 } });
    const request = hyperpodRequest();
    const { record: ready } = await harness.provision(request);
    const deleting = await requestDeletion(harness.submitDeps, request.requestId);
    await kill(harness, deleting.deleteExecutionArn!.split(':').pop()!);

    const report = await reconcile(deps(harness));
    expect(report.actions).toEqual([
      { requestId: request.requestId, status: 'DELETING', action: 'resumed', executionArn: expect.stringMatching(/-delete-1-resume-1$/) },
    ]);
    await harness.workflows.settle();
    expect((await harness.store.require(request.requestId)).status).toBe('DELETED');
    expect(harness.sagemaker.describe(ready.providerId!)).toBeUndefined();
    expect(harness.events.map((e) => e.DetailType)).toEqual([DETAIL_TYPES.ready, DETAIL_TYPES.deleted]);
  });

  it('leaves running workflows and fresh records alone, and is safe to run twice', async () => {
    harness = await startHarness({ sagemaker: { readyAfterMs: 60_000 } });
    const request = hyperpodRequest();
    await harness.submit(request);
    await harness.waitForStatus(request.requestId, 'CREATING');

    expect((await reconcile(deps(harness))).actions).toEqual([{ requestId: request.requestId, status: 'CREATING', action: 'running' }]);
    expect((await reconcile({ ...deps(harness), graceSeconds: 3600 })).actions).toEqual([
      { requestId: request.requestId, status: 'CREATING', action: 'recent' },
    ]);
    await kill(harness, request.requestId);
    const [first, second] = await Promise.all([reconcile(deps(harness)), reconcile(deps(harness))]);
    const resumed = [...first.actions, ...second.actions].filter((a) => a.action === 'resumed');
    expect(new Set(resumed.map((a) => a.executionArn)).size).toBe(1);
    expect(harness.workflows.list().filter((e) => e.status === 'RUNNING')).toHaveLength(1);
  });
});
