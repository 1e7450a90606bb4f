/**
 * The queue of requests waiting on a short offering, through the shipped ASL, dynalite and the SageMaker simulator,
 * in scaled virtual time (one deployed second lasts 10 ms; every clock, park and simulator timing in deployed units):
 * one request at a time probes (the earliest submitted), the others wait without a provider call, and when capacity
 * frees the requests get it in the order they were submitted, woken as the ones before them get their capacity (not
 * after their own backoffs), in a window that doubles with each success.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hyperpodRequest, startHarness, type Harness } from '../helpers/workflow';

const P5 = 'ml.p5.48xlarge';
const REGION = 'us-east-1';
const WAITERS = 100;
/** Real seconds per deployed second. */
const SCALE = 0.01;
/** The queue's probe interval, which the memory of a shortage lasts no longer than (deployed seconds). */
const MEMORY_SECONDS = 30;
/** Every waiting request's backoff (deployed seconds; no jitter, below): only a wake can serve it sooner. */
const BACKOFF_SECONDS = 600;
/** The window's cap (docs/capacity.md). */
const WINDOW_MAX = 16;

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const sleepDeployed = (seconds: number) => new Promise((r) => setTimeout(r, seconds * 1000 * SCALE));
const creates = (h: Harness) => h.sagemaker.requests.filter((r) => r.operation === 'CreateCluster');

describe('the queue of an offering', () => {
  it('one probe per memory period while 100 requests wait; capacity goes to them in submit order, each woken by the one before', async () => {
    let h: Harness | undefined;
    h = await startHarness({
      virtualTime: SCALE,
      settings: {
        queueProbeSeconds: MEMORY_SECONDS,
        capacityRetryIntervalSeconds: BACKOFF_SECONDS,
        capacityRetryMaxDelaySeconds: BACKOFF_SECONDS,
      },
      // Backoffs without jitter: every waiting request parks its whole backoff, so only a wake serves it sooner.
      taskDeps: { random: () => 1 },
      sagemaker: {
        readyAfterMs: 60_000,
        rollbackMs: 20_000,
        deleteAfterMs: 20_000,
        regionCapacity: { [REGION]: { [P5]: 0 } },
        // HyperPod's state changes reach the clusterEvent function, as the deployed rule delivers them.
        stateChangeEveryMs: 10,
        onStateChange: (detail) => void h?.deliverClusterEvent({ ...detail }),
      },
    });
    harness = h;
    const requests = Array.from({ length: WAITERS }, () => hyperpodRequest({ instanceType: P5, instanceCount: 1 }));
    const records = () => Promise.all(requests.map((r) => h.store.require(r.requestId)));
    for (const request of requests) {
      await h.submit(request);
      await sleepDeployed(1); // distinct acceptedAt: the submit order
    }
    expect(new Set((await records()).map((r) => r.acceptedAt)).size).toBe(WAITERS);
    // Everyone has found the shortage (or queued behind the one who did).
    await expect
      .poll(async () => (await records()).every((r) => r.status === 'WAITING_FOR_CAPACITY'), { timeout: 30_000, interval: 50 })
      .toBe(true);
    // A few probes after that, timed by the simulator's own log: one per memory period at most, not one per waiting
    // request per backoff (100 requests each calling once per 600 s would call every 6 s).
    const before = creates(h).length;
    await expect.poll(() => creates(h).length - before, { timeout: 30_000, interval: 50 }).toBeGreaterThanOrEqual(3);
    const probeTimes = creates(h)
      .slice(before)
      .map((r) => Date.parse(r.at));
    const gaps = probeTimes.slice(1).map((t, i) => t - probeTimes[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(MEMORY_SECONDS * 1000);

    // Capacity for 5 frees: it goes to the front of the line, well before the waiters' own backoffs would allow.
    const freedAt = h.clock().getTime();
    const createsBeforeFree = creates(h).length;
    h.sagemaker.setCapacity(P5, 5, REGION);
    await expect.poll(async () => (await records()).filter((r) => r.status === 'READY').length, { timeout: 30_000, interval: 50 }).toBe(5);
    const served = await records();
    const servedAt = served.flatMap((r, i) => (r.status === 'READY' ? [i] : []));

    // The first in line is served first; the window (1, 2, 4 … requests of the line trying together once a create got
    // its capacity) lets the creates of one round race for what is left, so the capacity stays at the front of the line:
    // within the first 5 + 16 (the window's cap) requests, never further back (docs/capacity.md).
    expect(servedAt[0]).toBe(0);
    expect(Math.max(...servedAt)).toBeLessThan(5 + WINDOW_MAX);
    // The offering's window grew with each launch (1, 2, 4 …): the next ones tried together, those past the five freed
    // rolled back and wait again; at most the window's cap of extra creates per shortage met.
    await expect
      .poll(async () => (await records()).filter((_, i) => !servedAt.includes(i)).every((r) => r.status === 'WAITING_FOR_CAPACITY'), {
        timeout: 30_000,
        interval: 50,
      })
      .toBe(true);
    // The five served one window after the other, each woken as the ones before it got their capacity: the span from
    // the capacity freed to the fifth READY, in the records' own times, is less than five backoffs.
    const lastReady = Math.max(...served.filter((r) => r.status === 'READY').map((r) => Date.parse(r.readyAt!)));
    const spanMs = lastReady - freedAt;
    expect(spanMs).toBeLessThan(5 * BACKOFF_SECONDS * 1000);
    // Creates since the free: the five, the window's extras, and one probe per memory period over the span at most.
    expect(creates(h).length - createsBeforeFree).toBeLessThanOrEqual(5 + WINDOW_MAX + Math.ceil(spanMs / (MEMORY_SECONDS * 1000)) + 2);
    // Never two live clusters per request.
    const live = h.sagemaker.clusters().filter((c) => c.status !== 'Deleting');
    expect(new Set(live.map((c) => c.name)).size).toBe(live.length);
    console.log(
      `[scenario] queue of an offering: probe_gaps_s=${gaps.map((g) => g / 1000).join(',')} served=${servedAt.join(',')} ` +
        `free_to_fifth_ready_s=${spanMs / 1000} creates_after_free=${creates(h).length - createsBeforeFree}`,
    );
  }, 120_000);
});
