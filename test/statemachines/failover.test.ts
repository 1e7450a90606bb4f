/**
 * Failover across regions and providers, and the shared memory of short offerings, through the shipped ASL, the real
 * task handlers, dynalite and the simulators (per-region capacity pools), in scaled virtual time (one deployed second
 * lasts 15 ms; every clock, park and simulator timing in deployed units): each timing is asserted in the system's own
 * clock (the records' times, the simulators' request logs).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DETAIL_TYPES } from '../../functions/core/events';
import type { ClusterRecord } from '../../functions/core/store';
import { requestDeletion } from '../../functions/core/submit';
import { createAwsPriceList } from '../../functions/adapters/pricing-aws';
import { createAwsTrainingPlanOfferings } from '../../functions/adapters/training-plans-aws';
import { createAwsZoneLookup } from '../../functions/adapters/zones-aws';
import { createPriceBook } from '../../functions/core/pricing';
import { waitingSince } from '../../functions/core/offers';
import { startAccountSimulator } from '../../local/simulators/account';
import { hyperpodRequest, startHarness, tirRequest, type Harness, type HarnessOptions } from '../helpers/workflow';

/** Real seconds per deployed second. */
const SCALE = 0.015;
/** HyperPod in the simulator (deployed): instances launched (or a roll back for capacity) 10 s after the create. */
const HYPERPOD = { launchAfterMs: 10_000, readyAfterMs: 30_000, rollbackMs: 10_000, deleteAfterMs: 20_000 };
const TIR = { readyAfterMs: 30_000, deleteAfterMs: 20_000 };
/**
 * A placement found short is followed by the next one at once: the record announces its next attempt 1 s later, and
 * the create there comes within this many deployed seconds of the shortage (the 1 s and the work of two steps, which
 * takes virtual time too: 4–6 s measured), where a wait of a poll interval (30 s, the first) would not.
 */
const NEXT_PLACEMENT_WITHIN_S = 20;

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** A harness in virtual time whose HyperPod state changes reach the clusterEvent function, as the deployed rule does. */
const start = async (options: HarnessOptions = {}): Promise<Harness> => {
  let h: Harness | undefined;
  h = await startHarness({
    virtualTime: SCALE,
    ...options,
    tir: { ...TIR, ...options.tir },
    sagemaker: {
      ...HYPERPOD,
      stateChangeEveryMs: 10,
      onStateChange: (detail) => void h?.deliverClusterEvent({ ...detail }),
      ...options.sagemaker,
    },
  });
  return h;
};

const sleepDeployed = (seconds: number) => new Promise((r) => setTimeout(r, seconds * 1000 * SCALE));

const P5 = 'ml.p5.48xlarge';

/** A p5 request in us-east-1 with the given alternatives. */
const p5Request = (alternatives: unknown[]) => ({
  ...hyperpodRequest({ instanceType: P5, instanceCount: 2 }),
  region: 'us-east-1',
  alternatives,
});

const createsIn = (h: Harness, region: string) =>
  h.sagemaker.requests.filter((r) => r.operation === 'CreateCluster' && r.region === region);

const tirCluster = () => ({ ...tirRequest().cluster });

/** Deployed seconds from the attempt log's `index`-th entry (a shortage) to `at` (the next create's log time). */
const secondsAfter = (record: ClusterRecord, index: number, at: string) =>
  (Date.parse(at) - Date.parse(record.attemptLog![index]!.at)) / 1000;

describe('failover', () => {
  it('falls over to a second region when the first rolls back for capacity: READY there, one live cluster', async () => {
    harness = await start({ sagemaker: { regionCapacity: { 'us-east-1': { [P5]: 0 }, 'us-west-2': { [P5]: 8 } } } });
    const request = p5Request([{ provider: 'sagemaker', region: 'us-west-2' }]);
    const { execution, record } = await harness.provision(request);

    expect(execution.status).toBe('SUCCEEDED');
    expect(record.status).toBe('READY');
    expect(record.landed).toEqual({ provider: 'sagemaker', region: 'us-west-2' });
    expect(record.attemptLog!.map((e) => [e.where, e.outcome])).toEqual([
      ['sagemaker us-east-1', 'created'],
      ['sagemaker us-east-1', 'short'],
      ['sagemaker us-west-2', 'created'],
    ]);
    expect(createsIn(harness, 'us-east-1')).toHaveLength(1);
    expect(createsIn(harness, 'us-west-2')).toHaveLength(1);
    // In the system's clock: us-east-1 found short when its roll back came, us-west-2 tried at once after it.
    const east = Date.parse(createsIn(harness, 'us-east-1')[0]!.at);
    expect(Date.parse(record.attemptLog![1]!.at) - east).toBeGreaterThanOrEqual(HYPERPOD.launchAfterMs);
    const next = secondsAfter(record, 1, createsIn(harness, 'us-west-2')[0]!.at);
    expect(next).toBeGreaterThanOrEqual(1);
    expect(next).toBeLessThan(NEXT_PLACEMENT_WITHIN_S);
    await expect
      .poll(() => harness!.sagemaker.clusters().map((c) => [c.region, c.status]), { timeout: 10_000 })
      .toEqual([['us-west-2', 'InService']]);
    // The rollback in us-east-1 was a wait for capacity (announced once), then READY in us-west-2.
    expect(harness.events.map((e) => e.DetailType)).toEqual([DETAIL_TYPES.waiting, DETAIL_TYPES.ready]);
  });

  it('falls over from HyperPod to TIR when every AWS region is short', async () => {
    harness = await start({ sagemaker: { capacity: { [P5]: 0 } } });
    const tir = tirRequest();
    const request = p5Request([
      { provider: 'sagemaker', region: 'us-west-2' },
      { provider: 'tir', projectId: tir.projectId, location: tir.location, cluster: tirCluster() },
    ]);
    const { execution, record } = await harness.provision(request);

    expect(execution.status).toBe('SUCCEEDED');
    expect(record.landed).toEqual({ provider: 'tir', projectId: tir.projectId, location: tir.location });
    expect(record.attemptLog!.filter((e) => e.outcome === 'short').map((e) => e.where)).toEqual([
      'sagemaker us-east-1',
      'sagemaker us-west-2',
    ]);
    const tirCreates = harness.tir.requests.filter((r) => r.operation === 'create' && r.status === 201);
    expect(tirCreates).toHaveLength(1);
    // In the system's clock: TIR tried at once after the second region's shortage, READY a creation later.
    const lastShort = record.attemptLog!.findLastIndex((e) => e.outcome === 'short');
    const next = secondsAfter(record, lastShort, tirCreates[0]!.at);
    expect(next).toBeGreaterThanOrEqual(1);
    expect(next).toBeLessThan(NEXT_PLACEMENT_WITHIN_S);
    expect(Date.parse(record.readyAt!) - Date.parse(tirCreates[0]!.at)).toBeGreaterThanOrEqual(TIR.readyAfterMs);
    // DELETE deletes wherever it landed.
    const { record: deleted } = await harness.delete(request.requestId);
    expect(deleted.status).toBe('DELETED');
    expect(harness.tir.cluster(tir.cluster.name)).toBeUndefined();
  });

  it('skips a placement whose quota can never fit (and says so), and lands on the next', async () => {
    harness = await start({ sagemaker: { regionQuotas: { 'us-east-1': { [P5]: 1 } } } });
    const { execution, record } = await harness.provision(p5Request([{ provider: 'sagemaker', region: 'us-west-2' }]));

    expect(execution.status).toBe('SUCCEEDED');
    expect(record.landed).toEqual({ provider: 'sagemaker', region: 'us-west-2' });
    expect(record.excludedPlacements).toEqual([0]);
    expect(record.attemptLog![0]).toMatchObject({
      where: 'sagemaker us-east-1',
      outcome: 'quota',
      reason: expect.stringContaining('Skipping sagemaker us-east-1'),
    });
  });

  it('cancel during failover leaves nothing in any region', async () => {
    // A creation of 10 min (the instances launched after 10 s): the cancel comes while us-west-2 creates.
    harness = await start({
      sagemaker: { readyAfterMs: 600_000, regionCapacity: { 'us-east-1': { [P5]: 0 }, 'us-west-2': { [P5]: 8 } } },
    });
    const request = p5Request([{ provider: 'sagemaker', region: 'us-west-2' }]);
    await harness.submit(request);
    await expect
      .poll(async () => (await harness!.store.require(request.requestId)).landed, { timeout: 15_000, interval: 20 })
      .toEqual({ provider: 'sagemaker', region: 'us-west-2' });
    await requestDeletion(harness.submitDeps, request.requestId);
    const record = await harness.waitForStatus(request.requestId, 'DELETED', 15_000);
    expect(record.cancelledAt).toBeTruthy();
    expect(record.readyAt).toBeUndefined();
    await expect.poll(() => harness!.sagemaker.clusters().length, { timeout: 10_000 }).toBe(0);
  });
});

describe('the shared memory of short offerings', () => {
  it('lets a second request skip the offering the first found short, with no provider call for it', async () => {
    // The first request's shortage is remembered 600 s (its backoff, the queue's probe interval and the cap all 600 s):
    // longer than its failover and creation elsewhere take.
    harness = await start({
      settings: { shortOfferingSeconds: 600, capacityRetryIntervalSeconds: 600, queueProbeSeconds: 600 },
      sagemaker: { regionCapacity: { 'us-east-1': { [P5]: 0 }, 'us-west-2': { [P5]: 16 } } },
    });
    await harness.provision(p5Request([{ provider: 'sagemaker', region: 'us-west-2' }]));
    const callsBefore = createsIn(harness, 'us-east-1').length;

    const { record } = await harness.provision(p5Request([{ provider: 'sagemaker', region: 'us-west-2' }]));
    expect(record.status).toBe('READY');
    expect(record.landed).toEqual({ provider: 'sagemaker', region: 'us-west-2' });
    expect(createsIn(harness, 'us-east-1')).toHaveLength(callsBefore);
    expect(record.attemptLog![0]).toMatchObject({
      where: 'sagemaker us-east-1',
      outcome: 'skipped',
      reason: expect.stringContaining('remembered short until'),
    });
  });

  it('ends a request at its horizon even when the memory skips every round (it never calls the provider)', async () => {
    const horizonSeconds = 120;
    harness = await start({ settings: { shortOfferingSeconds: 600 } });
    const now = harness.clock().getTime();
    await harness.offerings.remember([`sagemaker#us-east-1#${P5}`], new Date(now + 600_000), 'Insufficient capacity');
    const until = new Date(now + horizonSeconds * 1000).toISOString();
    const request: ReturnType<typeof p5Request> & { retry: { until: string } } = { ...p5Request([]), retry: { until } };
    const { execution, record } = await harness.provision(request);
    expect(execution.status).toBe('FAILED');
    expect(record.lastError!.name).toBe('RetryHorizonExceededError');
    expect(record.retryUntil).toBe(until);
    expect(record.attempts).toBe(0);
    expect(createsIn(harness, 'us-east-1')).toHaveLength(0);
    // At its horizon, in the system's clock: no wait runs past it (the last round starts less than a second before it),
    // and it failed then, not a backoff later.
    const failedAt = Date.parse(record.failedAt!);
    expect(failedAt).toBeGreaterThanOrEqual(Date.parse(until) - 1000);
    expect(failedAt).toBeLessThan(Date.parse(until) + NEXT_PLACEMENT_WITHIN_S * 1000);
    expect(record.attemptLog!.filter((e) => e.outcome === 'skipped').length).toBeGreaterThan(1);
  });

  it('costs about one probe per memory period while many requests wait on one short offering, not one call each', async () => {
    const waiters = 16;
    /** Deployed seconds over which the creates are counted. */
    const windowSeconds = 240;
    /** The memory of a shortage (the queue's probe interval; each request's backoff is at most as long). */
    const memorySeconds = 30;
    const run = async (memory: boolean) => {
      const h = await start({
        noOfferingMemory: !memory,
        // Every request backs off up to 30 s each round (full jitter): alone, each probes about every 15 s + a roll back.
        settings: {
          capacityRetryIntervalSeconds: memorySeconds,
          capacityRetryBackoffRate: 1,
          capacityRetryMaxDelaySeconds: memorySeconds,
          queueProbeSeconds: memorySeconds,
        },
        sagemaker: { launchAfterMs: 20_000, regionCapacity: { 'us-east-1': { [P5]: 0 } } },
      });
      try {
        const from = h.clock().getTime();
        const requests = Array.from({ length: waiters }, () => p5Request([]));
        for (const request of requests) await h.submit(request);
        await sleepDeployed(windowSeconds);
        const times = createsIn(h, 'us-east-1')
          .map((r) => Date.parse(r.at))
          .filter((t) => t < from + windowSeconds * 1000);
        // Capacity frees: every request still gets its cluster.
        h.sagemaker.setCapacity(P5, 2 * waiters, 'us-east-1');
        await h.workflows.settle();
        const records = await Promise.all(requests.map((r) => h.store.require(r.requestId)));
        return {
          calls: times.length,
          minGapMs: Math.min(...times.slice(1).map((t, i) => t - times[i]!)),
          ready: records.filter((r) => r.status === 'READY').length,
        };
      } finally {
        await h.close();
      }
    };
    const shared = await run(true);
    const alone = await run(false);
    console.log(
      `[scenario] probes over ${windowSeconds} s with ${waiters} waiting: shared memory ${JSON.stringify(shared)}, without ${JSON.stringify(alone)}`,
    );
    // Without the memory each waiting request probes on its own backoff; with it, one probe per memory period.
    expect(shared.ready).toBe(waiters);
    expect(alone.ready).toBe(waiters);
    expect(alone.calls).toBeGreaterThanOrEqual(waiters);
    // One probe per memory period at most, in the simulator's log (only the first in line probes, from its first create:
    // requests queue on HyperPod before their first create).
    expect(shared.calls).toBeLessThanOrEqual(Math.ceil(windowSeconds / memorySeconds) + 1);
    expect(shared.minGapMs).toBeGreaterThanOrEqual(memorySeconds * 1000);
    expect(shared.calls * 4).toBeLessThan(alone.calls);
  }, 120_000);
});

describe('HyperPod shortages that do not roll back at once', () => {
  it('Continuous mode: an Error-level Cluster Event in capacity wording moves the request to its alternative', async () => {
    let h: Harness | undefined;
    const errorEvents: number[] = [];
    // The instances launch (or find no capacity) 40 s after the create: between the first describe (30 s) and the
    // next (75 s), so only the event can move the request on in between.
    h = await start({
      sagemaker: {
        launchAfterMs: 40_000,
        readyAfterMs: 60_000,
        regionCapacity: { 'us-east-1': { [P5]: 0 }, 'us-west-2': { [P5]: 8 } },
        onClusterEvent: (detail) => {
          errorEvents.push(h!.clock().getTime());
          void h?.deliverClusterEvent({ ...detail }, 'SageMaker HyperPod Cluster Event');
        },
      },
    });
    harness = h;
    const request = p5Request([{ provider: 'sagemaker', region: 'us-west-2' }]);
    const continuous = { ...request, cluster: { ...request.cluster, NodeProvisioningMode: 'Continuous' } };
    const { execution, record } = await h.provision(continuous);

    expect(execution.status).toBe('SUCCEEDED');
    expect(record.landed).toEqual({ provider: 'sagemaker', region: 'us-west-2' });
    const short = record.attemptLog!.find((e) => e.outcome === 'short')!;
    expect(short.where).toBe('sagemaker us-east-1');
    expect(short.reason).toMatch(/do not have sufficient capacity to launch new ml\.p5\.48xlarge/);
    // Moved on when the event came, in the system's clock: not at the next describe (75 s after the create).
    expect(errorEvents.length).toBeGreaterThan(0);
    const createdAt = Date.parse(createsIn(h, 'us-east-1')[0]!.at);
    expect(errorEvents[0]! - createdAt).toBeGreaterThanOrEqual(40_000);
    expect((Date.parse(short.at) - errorEvents[0]!) / 1000).toBeLessThan(NEXT_PLACEMENT_WITHIN_S);
    expect(Date.parse(short.at) - createdAt).toBeLessThan(75_000);
    // The cluster of us-east-1 was given up and deleted.
    await expect.poll(() => h!.sagemaker.clusters('us-east-1'), { timeout: 10_000 }).toEqual([]);
  }, 30_000);

  it('a group whose MinInstanceCount is not met rolls back after its window: a shortage, so the request fails over', async () => {
    // HyperPod's window for a group's minimum: 1 min here (deployed).
    harness = await start({
      sagemaker: { regionCapacity: { 'us-east-1': { [P5]: 0 }, 'us-west-2': { [P5]: 8 } }, minimumWaitMs: 60_000 },
    });
    const request = p5Request([{ provider: 'sagemaker', region: 'us-west-2' }]);
    const group = { ...request.cluster.InstanceGroups[0]!, MinInstanceCount: 1 };
    const withMinimum = { ...request, cluster: { ...request.cluster, InstanceGroups: [group] } };
    const { execution, record } = await harness.provision(withMinimum);

    expect(execution.status).toBe('SUCCEEDED');
    expect(record.landed).toEqual({ provider: 'sagemaker', region: 'us-west-2' });
    const short = record.attemptLog!.find((e) => e.outcome === 'short')!;
    expect(short.where).toBe('sagemaker us-east-1');
    expect(short.reason).toMatch(/MinInstanceCount/);
    // After its window, in the system's clock: the launch, then the minute the group waited for its minimum.
    const createdAt = Date.parse(createsIn(harness, 'us-east-1')[0]!.at);
    expect(Date.parse(short.at) - createdAt).toBeGreaterThanOrEqual(HYPERPOD.launchAfterMs + 60_000);
  }, 30_000);
});
describe('the Availability Zones a shortage names', () => {
  it('tries next the alternative whose subnet lies in a zone EC2 names, before the others, and says why', async () => {
    const account = await startAccountSimulator({
      fixture: {
        regions: {
          'us-east-1': {
            subnets: [
              { id: 'subnet-aaaa', availableIps: 100, availabilityZone: 'us-east-1a' },
              { id: 'subnet-bbbb', availableIps: 100, availabilityZone: 'us-east-1b' },
            ],
          },
        },
      },
    });
    const previous = process.env.AWS_ENDPOINT_URL_EC2;
    process.env.AWS_ENDPOINT_URL_EC2 = account.endpoints.ec2;
    try {
      // us-east-1 is short (the simulator's wording names us-east-1b and us-east-1c); us-west-2 has capacity.
      harness = await start({
        sagemaker: { regionCapacity: { 'us-east-1': { [P5]: 0 }, 'us-west-2': { [P5]: 8 } } },
        taskDeps: { zones: createAwsZoneLookup() },
      });
      const vpc = (subnet: string) => ({ VpcConfig: { SecurityGroupIds: ['sg-1'], Subnets: [subnet] } });
      const base = p5Request([]);
      const request = {
        ...base,
        cluster: { ...base.cluster, ...vpc('subnet-aaaa') },
        alternatives: [
          { provider: 'sagemaker', region: 'us-west-2' },
          { provider: 'sagemaker', region: 'us-east-1', patch: vpc('subnet-bbbb') },
        ],
      };
      const { record } = await harness.provision(request);

      expect(record.status).toBe('READY');
      // Placement 2 (its subnet in us-east-1b) came right after the shortage naming us-east-1b, before placement 1.
      expect(record.attemptLog!.map((e) => [e.placement, e.outcome])).toEqual([
        [0, 'created'],
        [0, 'short'],
        [2, 'created'],
        [2, 'short'],
        [1, 'created'],
      ]);
      expect(record.attemptLog![1]!.reason).toContain('EC2 names capacity in us-east-1b, us-east-1c: trying placement 2 next');
      expect(record.attemptLog![1]!.reason).toContain('its subnets lie in us-east-1b');
      expect(record.zoneHint).toMatchObject({ zones: ['us-east-1b', 'us-east-1c'], shortIn: 'us-east-1a' });
      expect(account.requests.filter((r) => r.operation === 'DescribeSubnets').length).toBeGreaterThan(0);
    } finally {
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_EC2;
      else process.env.AWS_ENDPOINT_URL_EC2 = previous;
      await account.close();
    }
  }, 30_000);

  it('keeps the usual order when no alternative has a subnet in a named zone', async () => {
    harness = await start({
      sagemaker: { regionCapacity: { 'us-east-1': { [P5]: 0 }, 'us-west-2': { [P5]: 8 } } },
      taskDeps: { zones: { subnetZones: async () => ({}) } },
    });
    const { record } = await harness.provision(p5Request([{ provider: 'sagemaker', region: 'us-west-2' }]));
    expect(record.attemptLog!.map((e) => [e.placement, e.outcome])).toEqual([
      [0, 'created'],
      [0, 'short'],
      [1, 'created'],
    ]);
    expect(record.zoneHint?.zones).toEqual(['us-east-1b', 'us-east-1c']);
    expect(record.zoneHint?.detour).toBeUndefined();
  });
});

describe('reserved capacity while waiting', () => {
  /** Deployed seconds a request waits for capacity before training-plan offerings are looked up. */
  const OFFERS_AFTER_SECONDS = 120;
  it('suggests priced training-plan offerings once the request has waited the setting, and announces them', async () => {
    const account = await startAccountSimulator({
      fixture: { regions: {}, prices: [{ region: 'us-east-1', instanceType: P5, component: 'Training', usdPerHour: 50 }] },
    });
    try {
      harness = await start({
        sagemaker: {
          regionCapacity: { 'us-east-1': { [P5]: 0 } },
          trainingPlanOfferings: [
            {
              region: 'us-east-1',
              instanceType: P5,
              maxInstances: 8,
              availabilityZone: 'us-east-1b',
              startsInHours: 2,
              durationHours: 24,
              usdPerInstanceHour: 40,
            },
            {
              region: 'us-east-1',
              instanceType: P5,
              maxInstances: 1,
              availabilityZone: 'us-east-1c',
              startsInHours: 1,
              durationHours: 24,
              usdPerInstanceHour: 30,
            },
          ],
        },
        taskDeps: {
          reserved: {
            offerings: createAwsTrainingPlanOfferings(),
            afterSeconds: OFFERS_AFTER_SECONDS,
            prices: createPriceBook({
              live: createAwsPriceList({
                endpoint: account.endpoints.pricing,
                credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 's' }),
              }),
            }),
          },
        },
      });
      const request = { ...p5Request([]), retry: { for: 'PT12H' } };
      await harness.submit(request);
      const id = request.requestId;
      const record = await expectPoll(async () => (await harness!.store.get(id))?.reservedOffers, 15_000);
      // Looked once the request had waited the setting, in the system's clock.
      const since = waitingSince((await harness.store.require(id)).history);
      expect(Date.parse(record.at) - Date.parse(since!)).toBeGreaterThanOrEqual(OFFERS_AFTER_SECONDS * 1000);

      // The 2-instance request: only the offering that sells 2 instances; never bought.
      expect(record.suggestions).toHaveLength(1);
      const [s] = record.suggestions;
      expect(s).toMatchObject({
        instanceType: P5,
        instanceCount: 2,
        availabilityZone: 'us-east-1b',
        durationHours: 24,
        upfrontFee: 40 * 2 * 24,
        currency: 'USD',
      });
      expect(s!.offeringId).toMatch(/^tpo-/);
      expect(s!.source).toBe('SageMaker SearchTrainingPlanOfferings, us-east-1');
      expect(s!.onDemand).toMatchObject({ usd: 50 * 2 * 24 });
      expect(s!.onDemand!.source).toContain('AWS Price List Query API');
      expect(harness.sagemaker.requests.some((r) => r.operation === 'SearchTrainingPlanOfferings')).toBe(true);
      expect(harness.sagemaker.requests.some((r) => r.operation === 'CreateTrainingPlan')).toBe(false);
      await expect
        .poll(
          () =>
            harness!.events.filter((e) => e.DetailType === DETAIL_TYPES.waiting && 'reservedOffers' in (e.Detail.wait as object)).length,
        )
        .toBeGreaterThan(0);
      await requestDeletion(harness.submitDeps, id);
      await harness.waitForStatus(id, 'DELETED');
    } finally {
      await account.close();
    }
  }, 30_000);
});

const expectPoll = async <T>(read: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};
