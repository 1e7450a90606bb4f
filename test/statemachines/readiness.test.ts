/**
 * Event-driven readiness through the shipped ASL: the workflow parks (ParkUntilChange, a waitForTaskToken task) and
 * HyperPod's state-change event, relayed by the clusterEvent function, wakes it; the poll is only the fallback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DETAIL_TYPES } from '../../functions/core/events';
import { reconcile } from '../../functions/core/reconcile';
import { onClusterStateChange } from '../../functions/core/wake';
import type { ClusterStateChangeDetail } from '../../local/simulators/sagemaker';
import { hyperpodRequest, startHarness, type Harness } from '../helpers/workflow';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const describes = (h: Harness) => h.sagemaker.requests.filter((r) => r.operation === 'DescribeCluster').length;
const readyEvents = (h: Harness, requestId: string) =>
  h.events.filter((e) => e.DetailType === DETAIL_TYPES.ready && e.Detail.requestId === requestId);

/** A harness whose simulator's state changes go through `relay` (which may drop, repeat or delay them). */
const withEvents = async (
  relay: (detail: ClusterStateChangeDetail, deliver: (d: ClusterStateChangeDetail) => Promise<unknown>) => void,
  pollMs = 60_000,
  readyAfterMs = 300,
) => {
  let deliver: (d: ClusterStateChangeDetail) => Promise<unknown> = async () => undefined;
  const h = await startHarness({
    pollMs,
    sagemaker: { readyAfterMs, onStateChange: (detail) => relay(detail, deliver), stateChangeEveryMs: 10 },
  });
  deliver = (detail) => h.deliverClusterEvent({ ...detail });
  return h;
};

describe('event-driven readiness (HyperPod)', () => {
  it('wakes the parked workflow on the InService event: READY with one DescribeCluster, no poll in between', async () => {
    harness = await withEvents((detail, deliver) => void deliver(detail));
    const h = harness;
    const request = hyperpodRequest();
    const t0 = Date.now();
    const { execution, record } = await h.provision(request);
    expect(execution.status).toBe('SUCCEEDED');
    expect(record.status).toBe('READY');
    // The park's timeout is a minute: only the event can have ended it this soon.
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(describes(h)).toBe(1);
    expect(readyEvents(h, request.requestId)).toHaveLength(1);
    expect(record.parked?.purpose).toBe('poll');
  }, 20_000);

  it('a duplicated and a late event: one READY, one announcement, and no second transition', async () => {
    const seen: ClusterStateChangeDetail[] = [];
    harness = await withEvents((detail, deliver) => {
      seen.push(detail);
      void deliver(detail);
      void deliver(detail); // at least once: twice
    });
    const h = harness;
    const request = hyperpodRequest();
    const { execution, record } = await h.provision(request);
    expect(execution.status).toBe('SUCCEEDED');
    // Late and out of order, after READY: a Creating and an InService again.
    const inService = seen.find((d) => d.ClusterStatus === 'InService')!;
    const late = { ...inService };
    await h.deliverClusterEvent({ ...late, ClusterStatus: 'Creating' });
    await h.deliverClusterEvent(late);
    const after = await h.store.require(request.requestId);
    expect(after.history.filter((e) => e.to === 'READY')).toHaveLength(1);
    expect(readyEvents(h, request.requestId)).toHaveLength(1);
    expect(record.status).toBe('READY');
    expect(describes(h)).toBeLessThanOrEqual(2);
  }, 20_000);

  it('a lost event is caught by the fallback poll', async () => {
    // Polls every 20 ms on a cluster that takes a second: however slow the machine, the first poll finds it Creating.
    harness = await withEvents(() => undefined, 20, 1000);
    const h = harness;
    const request = hyperpodRequest();
    const { execution, record } = await h.provision(request);
    expect(execution.status).toBe('SUCCEEDED');
    expect(record.status).toBe('READY');
    expect(describes(h)).toBeGreaterThan(1);
    expect(readyEvents(h, request.requestId)).toHaveLength(1);
  }, 20_000);

  it("a lost event is caught by the reconciler's one ListClusters per region, long before the workflow's own poll", async () => {
    harness = await withEvents(() => undefined); // every event lost; the park's own timeout is a minute
    const h = harness;
    // Two offerings: two requests on one HyperPod offering take turns until the first one's instances are launched
    // (docs/capacity.md), which is not what this test is about.
    const requests = [hyperpodRequest(), hyperpodRequest({ instanceType: 'ml.g5.4xlarge' })];
    for (const request of requests) await h.submit(request);
    for (const request of requests) await h.waitForStatus(request.requestId, 'CREATING');
    await new Promise((r) => setTimeout(r, 600)); // the clusters come up (readyAfterMs 300), nobody hears
    const { actions } = await reconcile({
      store: h.store,
      starter: h.workflows.starter(),
      graceSeconds: 0,
      watch: { provider: h.taskDeps.provider, waker: h.wakeDeps.waker },
    });
    expect(
      actions
        .filter((a) => a.action === 'woken')
        .map((a) => a.requestId)
        .sort(),
    ).toEqual(requests.map((r) => r.requestId).sort());
    expect(h.sagemaker.requests.filter((r) => r.operation === 'ListClusters')).toHaveLength(1);
    for (const request of requests) {
      const execution = await h.workflows.get(request.requestId)!.done;
      expect(execution.status).toBe('SUCCEEDED');
      expect(readyEvents(h, request.requestId)).toHaveLength(1);
    }
  }, 20_000);

  it('an event for a cluster no request is creating is ignored, and said so', async () => {
    harness = await startHarness();
    const notices: string[] = [];
    const outcome = await onClusterStateChange(
      { ...harness.wakeDeps, onNotice: (message) => notices.push(message) },
      { ClusterArn: 'arn:aws:sagemaker:us-east-1:000000000000:cluster/unknown000000', ClusterStatus: 'InService' },
    );
    expect(outcome).toMatchObject({ woken: false, ignored: 'no request is creating this cluster' });
    expect(notices).toEqual(['State change of a cluster no request is creating: ignored']);
    // A status that changes nothing is not even looked up.
    expect(await onClusterStateChange(harness.wakeDeps, { ClusterArn: 'arn:x', ClusterStatus: 'Creating' })).toMatchObject({
      woken: false,
    });
  });
});

describe('Continuous mode (HyperPod): no state change announces the instances', () => {
  /** The deployed waits at 1/100: the park below the minimum lasts 3 s, the event wait 108 s. */
  const SCALE = 0.01;
  const G5 = 'ml.g5.2xlarge';

  /** A harness whose simulator's state changes and cluster events all reach the clusterEvent function. */
  const continuousHarness = async (options: { eventRegions?: string[] } = {}) => {
    const stateChanges: Array<{ at: number; status: string }> = [];
    let h: Harness | undefined;
    h = await startHarness({
      timeScale: SCALE,
      ...options,
      sagemaker: {
        readyAfterMs: 100,
        capacity: { [G5]: 1 },
        stateChangeEveryMs: 10,
        onStateChange: (detail) => {
          stateChanges.push({ at: Date.now(), status: detail.ClusterStatus });
          void h?.deliverClusterEvent({ ...detail });
        },
        onClusterEvent: (detail) => void h?.deliverClusterEvent({ ...detail }, 'SageMaker HyperPod Cluster Event'),
      },
    });
    return { h, stateChanges };
  };

  const continuousRequest = () => {
    const request = hyperpodRequest({ instanceType: G5, instanceCount: 2 });
    return { ...request, cluster: { ...request.cluster, NodeProvisioningMode: 'Continuous' } };
  };

  it('is READY within the 5-minute re-describe (3 s at 1/100) of its group reaching the minimum, without a state change', async () => {
    const { h, stateChanges } = await continuousHarness();
    harness = h;
    const request = continuousRequest();
    await h.submit(request);
    // InService with 1 of 2 nodes: parked, for no longer than 5 minutes of deployed time.
    await expect
      .poll(
        async () => {
          const r = await h.store.require(request.requestId);
          return r.providerStatus === 'InService' && r.parked?.purpose === 'poll' && Date.parse(r.parked.at) >= Date.parse(r.checkedAt!);
        },
        { timeout: 10_000 },
      )
      .toBe(true);
    const parked = (await h.store.require(request.requestId)).parked!;
    expect((Date.parse(parked.until) - Date.parse(parked.at)) / 1000).toBeLessThanOrEqual(300);
    // The shortage was reported as a Cluster Event and recorded as a capacity wait (no alternative: the wait goes on).
    await expect.poll(async () => (await h.store.require(request.requestId)).lastError?.reason, { timeout: 5000 }).toBe('capacity');

    // The second node arrives: HyperPod adds it with the cluster InService all along.
    const arrived = Date.now();
    h.sagemaker.setCapacity(G5, 2);
    const execution = await h.workflows.get(request.requestId)!.done;
    const readyAfter = Date.now() - arrived;
    expect(execution.status).toBe('SUCCEEDED');
    const record = await h.store.require(request.requestId);
    expect(record.status).toBe('READY');
    expect(record.nodes).toEqual({ current: 2, target: 2 });
    expect(stateChanges.filter((c) => c.at >= arrived)).toEqual([]);
    // 300 s × 0.01 = 3 s, plus the time to notice; the event wait alone would have been 108 s.
    expect(readyAfter).toBeLessThan(300 * SCALE * 1000 + 2500);
    expect(readyEvents(h, request.requestId)).toHaveLength(1);
  }, 30_000);

  it('the reconciler wakes a workflow parked on a cluster InService below its minimum, every run', async () => {
    // No event reaches the workflow, and its park lasts longer than the test: only the reconciler can wake it.
    const h = await startHarness({ pollMs: 60_000, sagemaker: { readyAfterMs: 100, capacity: { [G5]: 1 } } });
    harness = h;
    const request = continuousRequest();
    await h.submit(request);
    const run = () =>
      reconcile({
        store: h.store,
        starter: h.workflows.starter(),
        graceSeconds: 0,
        watch: { provider: h.taskDeps.provider, waker: h.wakeDeps.waker },
      });
    const parkedAfterLook = async () => {
      const r = await h.store.require(request.requestId);
      return r.status === 'CREATING' && r.parked !== undefined && Date.parse(r.parked.at) >= Date.parse(r.checkedAt!) ? r : undefined;
    };
    const woken = (report: Awaited<ReturnType<typeof run>>) =>
      report.actions.some((a) => a.requestId === request.requestId && a.action === 'woken');
    // Parked while Creating; the cluster comes up InService with 1 of 2 nodes: a status change, woken as before.
    await expect.poll(parkedAfterLook, { timeout: 10_000, interval: 20 }).toBeDefined();
    await new Promise((r) => setTimeout(r, 200));
    expect(woken(await run())).toBe(true);
    // Described (InService, below its minimum) and parked again: the listing shows no change, and it is woken anyway.
    await expect.poll(async () => (await parkedAfterLook())?.providerStatus, { timeout: 10_000, interval: 20 }).toBe('InService');
    h.sagemaker.setCapacity(G5, 2);
    expect(woken(await run())).toBe(true);
    const execution = await h.workflows.get(request.requestId)!.done;
    expect(execution.status).toBe('SUCCEEDED');
    expect((await h.store.require(request.requestId)).nodes).toEqual({ current: 2, target: 2 });
    expect(readyEvents(h, request.requestId)).toHaveLength(1);
  }, 30_000);
});
