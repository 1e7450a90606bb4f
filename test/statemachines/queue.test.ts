/**
 * The queue of requests waiting on a short offering, through the shipped ASL: one request at a time probes (the
 * earliest submitted), the others wait without a provider call, and when capacity frees the requests get it in the
 * order they were submitted, woken as the ones before them get their capacity (not after their own backoffs), in a
 * window that doubles with each success.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hyperpodRequest, startHarness, type Harness } from '../helpers/workflow';

const P5 = 'ml.p5.48xlarge';
const WAITERS = 100;
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const creates = (h: Harness) => h.sagemaker.requests.filter((r) => r.operation === 'CreateCluster').length;

describe('the queue of an offering', () => {
  it('one probe at a time while 100 requests wait; capacity goes to them in submit order, each woken by the one before', async () => {
    harness = await startHarness({
      // Each request parks 4 s per backoff: only a wake can serve them faster than that.
      waitMs: 4000,
      settings: { shortOfferingSeconds: 0.4 },
      sagemaker: { readyAfterMs: 60, rollbackMs: 20, deleteAfterMs: 20, regionCapacity: { 'us-east-1': { [P5]: 0 } } },
    });
    const h = harness;
    const requests = Array.from({ length: WAITERS }, () => hyperpodRequest({ instanceType: P5, instanceCount: 1 }));
    for (const request of requests) {
      await h.submit(request);
      await new Promise((r) => setTimeout(r, 3)); // distinct acceptedAt: the submit order
    }
    // Everyone has found the shortage (or queued behind the one who did).
    await expect
      .poll(
        async () =>
          (await Promise.all(requests.map((r) => h.store.require(r.requestId)))).every((r) => r.status === 'WAITING_FOR_CAPACITY'),
        {
          timeout: 10_000,
        },
      )
      .toBe(true);
    // A few probes after that, timed by the simulator's own log: one per memory period (0.4 s) at most, not one per
    // waiting request per backoff (100 requests parked 4 s each would make 25 calls a second).
    const before = creates(h);
    await expect.poll(() => creates(h) - before, { timeout: 30_000, interval: 50 }).toBeGreaterThanOrEqual(3);
    const probeTimes = h.sagemaker.requests
      .filter((r) => r.operation === 'CreateCluster')
      .slice(before)
      .map((r) => Date.parse(r.at));
    const gaps = probeTimes.slice(1).map((t, i) => t - probeTimes[i]!);

    // Capacity for 5 frees: it goes to the front of the line, well before the waiters' own 4 s backoffs would allow.
    const freedAt = Date.now();
    const createsBeforeFree = creates(h);
    h.sagemaker.setCapacity(P5, 5, 'us-east-1');
    const readyNow = async () => (await Promise.all(requests.map((r) => h.store.require(r.requestId)))).filter((r) => r.status === 'READY');
    await expect.poll(async () => (await readyNow()).length, { timeout: 20_000, interval: 50 }).toBe(5);
    const records = await Promise.all(requests.map((r) => h.store.require(r.requestId)));
    const servedAt = records.flatMap((r, i) => (r.status === 'READY' ? [i] : []));

    // The first in line is served first; the window (1, 2, 4 … requests of the line trying together once a create got
    // its capacity) lets the creates of one round race for what is left, so the capacity stays at the front of the line:
    // within the first 5 + 16 (the window's cap) requests, never further back (docs/capacity.md).
    expect(servedAt[0]).toBe(0);
    expect(Math.max(...servedAt)).toBeLessThan(5 + 16);
    // The offering's window grew with each READY (1, 2, 4 …): the next ones tried together, those past the five freed
    // rolled back and wait again; at most the window's cap (16) of extra creates per shortage met.
    await expect
      .poll(
        async () =>
          (await Promise.all(requests.map((r) => h.store.require(r.requestId))))
            .filter((_, i) => !servedAt.includes(i))
            .every((r) => r.status === 'WAITING_FOR_CAPACITY'),
        {
          timeout: 10_000,
        },
      )
      .toBe(true);
    // Five creations one after the other, each woken as the one before is READY: the span from the capacity freed to
    // the fifth READY, in the records' own times, is less than five backoffs of 4 s.
    const lastReady = Math.max(...records.filter((r) => r.status === 'READY').map((r) => Date.parse(r.readyAt!)));
    expect(lastReady - freedAt).toBeLessThan(5 * 4000);
    expect(creates(h) - createsBeforeFree).toBeLessThanOrEqual(5 + 16 + Math.ceil((lastReady - freedAt) / 400) + 2);
    // One probe per memory period (0.4 s) at most (the log's timestamps are whole milliseconds).
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(400 - 1);
    // Never two live clusters per request.
    const live = h.sagemaker.clusters().filter((c) => c.status !== 'Deleting');
    expect(new Set(live.map((c) => c.name)).size).toBe(live.length);
  }, 120_000);
});
