/**
 * `capacityStrategy` recreate against hold, measured on the same timeline through the shipped ASL, dynalite and the
 * SageMaker simulator over its wire protocol, in scaled virtual time (one deployed second lasts 10 ms) at the
 * benchmark's HyperPod timings: one request of 4 × ml.p5.48xlarge in us-east-1 with none free; 1 instance frees after
 * 20 min, 3 more after 40 min. Measured: provider calls until READY, time from the minimum free to READY, and the
 * instance-hours the request's clusters held while the minimum was not free (billed while waiting), and before READY.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HYPERPOD_TIMING } from '../../bench/contention/scenarios';
import { hyperPodTimingMs, hyperpodRequest, startHarness, type Harness } from '../helpers/workflow';

const P5 = 'ml.p5.48xlarge';
const REGION = 'us-east-1';
const SCALE = 0.01;
/** On-demand price of ml.p5.48xlarge in us-east-1, per instance-hour (functions/core/prices.ts). */
const P5_HOURLY = 113.068;
const FIRST_FREE_S = 20 * 60;
const REST_FREE_S = 40 * 60;

const round2 = (n: number) => Math.round(n * 100) / 100;

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const run = async (strategy: 'recreate' | 'hold') => {
  let h: Harness | undefined;
  h = await startHarness({
    virtualTime: SCALE,
    sagemaker: {
      ...hyperPodTimingMs(HYPERPOD_TIMING),
      // HyperPod: a group below its MinInstanceCount rolls back after 3 hours.
      minimumWaitMs: 3 * 3600 * 1000,
      regionCapacity: { [REGION]: { [P5]: 0 } },
      stateChangeEveryMs: 10,
      onStateChange: (detail) => void h?.deliverClusterEvent({ ...detail }),
      onClusterEvent: (detail) => void h?.deliverClusterEvent({ ...detail }, 'SageMaker HyperPod Cluster Event'),
    },
  });
  harness = h;
  const request = { ...hyperpodRequest({ instanceType: P5, instanceCount: 4 }), capacityStrategy: strategy };
  const start = h.clock().getTime();
  await h.submit(request);
  const at = (seconds: number) => start + seconds * 1000;
  let freedAll: number | undefined;
  let heldSeconds = 0;
  let heldWaitingSeconds = 0;
  let last = start;
  for (;;) {
    const now = h.clock().getTime();
    if (now >= at(FIRST_FREE_S) && now < at(REST_FREE_S)) h.sagemaker.setCapacity(P5, 1, REGION);
    if (now >= at(REST_FREE_S) && freedAll === undefined) {
      h.sagemaker.setCapacity(P5, 4, REGION);
      freedAll = h.clock().getTime();
    }
    const held = h.sagemaker.clusters(REGION).reduce((n, c) => n + (c.held[P5] ?? 0), 0);
    const record = await h.store.require(request.requestId);
    heldSeconds += (held * (now - last)) / 1000;
    if (freedAll === undefined) heldWaitingSeconds += (held * (now - last)) / 1000;
    last = now;
    if (record.status === 'READY' || record.status === 'FAILED') break;
    if (now > at(4 * 3600)) throw new Error(`${strategy}: not READY in 4 h (${record.status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const record = await h.store.require(request.requestId);
  const calls = h.sagemaker.requests.filter((r) => r.status === 200 || r.status === 400);
  const figures = {
    strategy,
    status: record.status,
    provider_calls: calls.length,
    creates: calls.filter((r) => r.operation === 'CreateCluster').length,
    minimum_free_to_ready_s: Math.round((Date.parse(record.readyAt ?? '') - freedAll!) / 1000),
    instance_hours_held_while_short: round2(heldWaitingSeconds / 3600),
    cost_held_while_short_usd: round2((heldWaitingSeconds / 3600) * P5_HOURLY),
    instance_hours_held_before_ready: round2(heldSeconds / 3600),
  };
  await h.close();
  harness = undefined;
  return figures;
};

describe('capacity strategies on HyperPod', () => {
  it('recreate probes and holds nothing while short; hold creates once, is READY sooner, and pays for what launched early', async () => {
    const recreate = await run('recreate');
    const hold = await run('hold');
    for (const f of [recreate, hold]) {
      console.log(
        `[scenario] capacity strategy ${f.strategy}: ${Object.entries(f)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')} (1 × p5 free after ${FIRST_FREE_S / 60} min, 3 more after ${REST_FREE_S / 60} min)`,
      );
    }
    expect(recreate.status).toBe('READY');
    expect(hold.status).toBe('READY');
    // recreate: a probe cycle after another while short, nothing held (a cluster that rolls back holds nothing).
    expect(recreate.creates).toBeGreaterThan(2);
    expect(recreate.instance_hours_held_while_short).toBe(0);
    // hold: one create for the whole wait; the instance launched early is held (billed) until the rest come.
    expect(hold.creates).toBe(1);
    expect(hold.provider_calls).toBeLessThan(recreate.provider_calls);
    expect(hold.instance_hours_held_while_short).toBeGreaterThan(0);
    // READY no later than recreate, which first waits for its next probe to launch.
    expect(hold.minimum_free_to_ready_s).toBeLessThanOrEqual(recreate.minimum_free_to_ready_s);
  }, 300_000);
});
