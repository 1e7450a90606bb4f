/**
 * Freed capacity on HyperPod, through the shipped ASL, dynalite and the SageMaker simulator over its wire protocol,
 * in scaled virtual time (one deployed second lasts 30 ms; every clock, park and simulator timing in deployed
 * units): HyperPod accepts every create and answers the capacity question later (its instances launched, or a roll
 * back), at the timings the contention benchmark assumes (bench/contention/scenarios.ts HYPERPOD_TIMING).
 *
 * Requests wait on one offering with 0 free: the provider sees about as many creates with 10 waiting as with 2 (one
 * probe at a time). Then 10 instances free at once: every request is READY, the first submitted first, all within
 * one creation time (plus a few seconds) of each other, because the turn passes on when a create's instances are
 * launched, not at READY, and the offering's window widens with each launch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HYPERPOD_TIMING } from '../../bench/contention/scenarios';
import type { ClusterRecord } from '../../functions/core/store';
import { hyperPodTimingMs, hyperpodRequest, startHarness, type Harness } from '../helpers/workflow';

const P5 = 'ml.p5.48xlarge';
const REGION = 'us-east-1';
/** Real seconds per deployed second. */
const SCALE = 0.03;
const T = HYPERPOD_TIMING;
/** Deployed seconds over which the creates of each phase are counted. */
const SHORT_WINDOW_SECONDS = 1200;
/** "A few seconds" of the READY spread's bound, deployed. */
const FEW_SECONDS = 10;

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const sleepDeployed = (seconds: number) => new Promise((r) => setTimeout(r, seconds * 1000 * SCALE));

describe('freed capacity on HyperPod', () => {
  it('10 waiting cost about as many creates as 2; 10 freed at once: all READY, first submitted first, within one creation time', async () => {
    let h: Harness | undefined;
    h = await startHarness({
      virtualTime: SCALE,
      sagemaker: {
        ...hyperPodTimingMs(HYPERPOD_TIMING),
        regionCapacity: { [REGION]: { [P5]: 0 } },
        // HyperPod's state changes reach the clusterEvent function, as the deployed rule delivers them.
        stateChangeEveryMs: 10,
        onStateChange: (detail) => void h?.deliverClusterEvent({ ...detail }),
      },
    });
    harness = h;
    const creates = (fromMs: number, toMs = Number.POSITIVE_INFINITY) =>
      h.sagemaker.requests.filter((r) => {
        const at = Date.parse(r.at);
        return r.operation === 'CreateCluster' && r.status === 200 && at >= fromMs && at < toMs;
      });
    const records = (ids: string[]) => Promise.all(ids.map((id) => h.store.require(id)));
    const allWaiting = async (ids: string[]) => (await records(ids)).every((r) => r.status === 'WAITING_FOR_CAPACITY');
    const submit = async (n: number) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const request = hyperpodRequest({ instanceType: P5, instanceCount: 1 });
        await h.submit(request);
        ids.push(request.requestId);
        await sleepDeployed(1); // distinct acceptedAt: the submit order
      }
      await expect.poll(() => allWaiting(ids), { timeout: 30_000, interval: 50 }).toBe(true);
      return ids;
    };
    /** Creates the provider accepts over SHORT_WINDOW_SECONDS from now, while everyone waits. */
    const createsWhileShort = async (ids: string[]) => {
      const from = h.clock().getTime();
      await sleepDeployed(SHORT_WINDOW_SECONDS);
      const n = creates(from, from + SHORT_WINDOW_SECONDS * 1000).length;
      expect((await records(ids)).filter((r) => r.status !== 'WAITING_FOR_CAPACITY' && r.status !== 'CREATING')).toEqual([]);
      return n;
    };

    // Short, with 2 waiting, then with 10 (8 more behind them).
    const first = await submit(2);
    const withTwo = await createsWhileShort(first);
    const ids = [...first, ...(await submit(8))];
    const withTen = await createsWhileShort(ids);

    // 10 instances free at once.
    const freedAt = h.clock().getTime();
    h.sagemaker.setCapacity(P5, 10, REGION);
    await expect
      .poll(async () => (await records(ids)).filter((r) => r.status === 'READY').length, { timeout: 120_000, interval: 100 })
      .toBe(10);
    const done = await records(ids);
    const readyAt = done.map((r) => Date.parse(r.readyAt!));
    const spread = (Math.max(...readyAt) - Math.min(...readyAt)) / 1000;
    const after = creates(freedAt);
    const createdAt = (r: ClusterRecord) => Date.parse(r.createdAt!);
    /** Pairs (earlier, later submitted) whose creates came in the other order, by more than `slackMs`. */
    const inversions = (slackMs: number) =>
      done.flatMap((r, j) =>
        done.slice(0, j).flatMap((earlier, i) => (createdAt(r) < createdAt(earlier) - slackMs ? [`#${j} before #${i}`] : [])),
      );
    const overtaken = inversions((T.launchSeconds / 2) * 1000);
    const figures = {
      creates_short_2_waiting: withTwo,
      creates_short_10_waiting: withTen,
      window_s: SHORT_WINDOW_SECONDS,
      first_create_after_free_s: (Math.min(...done.map(createdAt)) - freedAt) / 1000,
      last_create_after_free_s: (Math.max(...done.map(createdAt)) - freedAt) / 1000,
      first_ready_after_free_s: (Math.min(...readyAt) - freedAt) / 1000,
      ready_spread_s: spread,
      creates_after_free: after.length,
      given_up_for_capacity_after_free: done
        .flatMap((r) => r.discardedClusters ?? [])
        .filter((d) => d.reason === 'capacity' && Date.parse(d.at) >= freedAt).length,
      creates_out_of_submit_order_within_a_round: inversions(0).length,
      created_a_round_early: overtaken.length,
      timing: `launch ${T.launchSeconds} s, creation ${T.creationSeconds} s, roll back ${T.rollbackSeconds} s, delete ${T.deleteSeconds} s`,
    };
    console.log(
      `[scenario] freed capacity on HyperPod: ${Object.entries(figures)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
    );

    // About as many creates while short with 10 waiting as with 2: one probe at a time, however many wait.
    expect(withTwo).toBeGreaterThanOrEqual(1);
    expect(withTen).toBeLessThanOrEqual(Math.ceil(withTwo * 1.5));
    // All ten READY within one creation time (plus a few seconds) of each other.
    expect(spread).toBeLessThanOrEqual(T.creationSeconds + FEW_SECONDS);
    // The first submitted first: it is created and READY first, and no request is created a round before one submitted
    // earlier. A round opens when a create's instances launch, so rounds are at least a launch delay apart; the creates
    // of one round (a window's requests, woken together) race, so within half a launch delay they may come in any order.
    expect(createdAt(done[0]!)).toBe(Math.min(...done.map(createdAt)));
    expect(readyAt[0]).toBe(Math.min(...readyAt));
    expect(overtaken).toEqual([]);
    // Every request holds one live cluster.
    const live = h.sagemaker.clusters(REGION).filter((c) => c.status !== 'Deleting');
    expect(live.map((c) => c.status).sort()).toEqual(Array(10).fill('InService'));
    expect(new Set(live.map((c) => c.name)).size).toBe(10);
  }, 300_000);
});
