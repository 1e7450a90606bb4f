/**
 * Failover across regions and providers, and the shared memory of short offerings, through the shipped ASL, the real
 * task handlers, dynalite and the simulators (per-region capacity pools).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DETAIL_TYPES } from '../../functions/core/events';
import { requestDeletion } from '../../functions/core/submit';
import { createAwsPriceList } from '../../functions/adapters/pricing-aws';
import { createAwsTrainingPlanOfferings } from '../../functions/adapters/training-plans-aws';
import { createAwsZoneLookup } from '../../functions/adapters/zones-aws';
import { createPriceBook } from '../../functions/core/pricing';
import { startAccountSimulator } from '../../local/simulators/account';
import { hyperpodRequest, startHarness, tirRequest, type Harness } from '../helpers/workflow';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

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

describe('failover', () => {
  it('falls over to a second region when the first rolls back for capacity: READY there, one live cluster', async () => {
    harness = await startHarness({ sagemaker: { regionCapacity: { 'us-east-1': { [P5]: 0 }, 'us-west-2': { [P5]: 8 } } } });
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
    await expect
      .poll(() => harness!.sagemaker.clusters().map((c) => [c.region, c.status]), { timeout: 5000 })
      .toEqual([['us-west-2', 'InService']]);
    // The rollback in us-east-1 was a wait for capacity (announced once), then READY in us-west-2.
    expect(harness.events.map((e) => e.DetailType)).toEqual([DETAIL_TYPES.waiting, DETAIL_TYPES.ready]);
  });

  it('falls over from HyperPod to TIR when every AWS region is short', async () => {
    harness = await startHarness({ sagemaker: { capacity: { [P5]: 0 } } });
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
    expect(harness.tir.requests.filter((r) => r.operation === 'create' && r.status === 201)).toHaveLength(1);
    // DELETE deletes wherever it landed.
    const { record: deleted } = await harness.delete(request.requestId);
    expect(deleted.status).toBe('DELETED');
    expect(harness.tir.cluster(tir.cluster.name)).toBeUndefined();
  });

  it('skips a placement whose quota can never fit (and says so), and lands on the next', async () => {
    harness = await startHarness({ sagemaker: { regionQuotas: { 'us-east-1': { [P5]: 1 } } } });
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
    harness = await startHarness({
      sagemaker: { readyAfterMs: 300, regionCapacity: { 'us-east-1': { [P5]: 0 }, 'us-west-2': { [P5]: 8 } } },
    });
    const request = p5Request([{ provider: 'sagemaker', region: 'us-west-2' }]);
    await harness.submit(request);
    await expect
      .poll(async () => (await harness!.store.require(request.requestId)).landed, { timeout: 10_000 })
      .toEqual({ provider: 'sagemaker', region: 'us-west-2' });
    await requestDeletion(harness.submitDeps, request.requestId);
    const record = await harness.waitForStatus(request.requestId, 'DELETED');
    expect(record.cancelledAt).toBeTruthy();
    await expect.poll(() => harness!.sagemaker.clusters().length, { timeout: 5000 }).toBe(0);
  });
});

describe('the shared memory of short offerings', () => {
  it('lets a second request skip the offering the first found short, with no provider call for it', async () => {
    harness = await startHarness({
      settings: { shortOfferingSeconds: 600 },
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
    harness = await startHarness({ waitMs: 20, settings: { shortOfferingSeconds: 600 } });
    await harness.offerings.remember([`sagemaker#us-east-1#${P5}`], new Date(Date.now() + 600_000), 'Insufficient capacity');
    const until = new Date(Date.now() + 1500).toISOString();
    const request: ReturnType<typeof p5Request> & { retry: { until: string } } = { ...p5Request([]), retry: { until } };
    const { execution, record } = await harness.provision(request);
    expect(execution.status).toBe('FAILED');
    expect(record.lastError!.name).toBe('RetryHorizonExceededError');
    expect(record.retryUntil).toBe(until);
    expect(record.attempts).toBe(0);
    expect(createsIn(harness, 'us-east-1')).toHaveLength(0);
  });

  it('costs about one probe per memory period while many requests wait on one short offering, not one call each', async () => {
    const waiters = 16;
    const windowMs = 2000;
    const run = async (memory: boolean) => {
      const h = await startHarness({
        waitMs: 20,
        noOfferingMemory: !memory,
        settings: { shortOfferingSeconds: 0.5 },
        sagemaker: { readyAfterMs: 50, rollbackMs: 20, deleteAfterMs: 20, regionCapacity: { 'us-east-1': { [P5]: 0 } } },
      });
      try {
        const requests = Array.from({ length: waiters }, () => p5Request([]));
        for (const request of requests) await h.submit(request);
        await new Promise((r) => setTimeout(r, windowMs));
        const calls = createsIn(h, 'us-east-1').length;
        // Capacity frees: every request still gets its cluster.
        h.sagemaker.setCapacity(P5, 2 * waiters, 'us-east-1');
        await h.workflows.settle();
        const records = await Promise.all(requests.map((r) => h.store.require(r.requestId)));
        return { calls, ready: records.filter((r) => r.status === 'READY').length };
      } finally {
        await h.close();
      }
    };
    const shared = await run(true);
    const alone = await run(false);
    // Without the memory each waiting request probes on its own backoff; with it, one probe per memory period.
    expect(shared.ready).toBe(waiters);
    expect(alone.ready).toBe(waiters);
    expect(alone.calls).toBeGreaterThanOrEqual(waiters);
    // One probe per memory period (0.5 s), plus the first creates sent before anyone had found the shortage.
    expect(shared.calls).toBeLessThanOrEqual(Math.ceil(windowMs / 500) + 6);
    expect(shared.calls * 4).toBeLessThan(alone.calls);
  }, 60_000);
});

describe('HyperPod shortages that do not roll back at once', () => {
  it('Continuous mode: an Error-level Cluster Event in capacity wording moves the request to its alternative', async () => {
    let h: Harness | undefined;
    h = await startHarness({
      sagemaker: {
        regionCapacity: { 'us-east-1': { [P5]: 0 }, 'us-west-2': { [P5]: 8 } },
        stateChangeEveryMs: 10,
        onClusterEvent: (detail) => void h?.deliverClusterEvent({ ...detail }, 'SageMaker HyperPod Cluster Event'),
        onStateChange: (detail) => void h?.deliverClusterEvent({ ...detail }),
      },
      // Parked for longer than the test: only the events can move it on.
      pollMs: 60_000,
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
    // The cluster of us-east-1 was given up and deleted.
    await expect.poll(() => h!.sagemaker.clusters('us-east-1'), { timeout: 5000 }).toEqual([]);
  }, 30_000);

  it('a group whose MinInstanceCount is not met rolls back after its window: a shortage, so the request fails over', async () => {
    harness = await startHarness({
      sagemaker: { regionCapacity: { 'us-east-1': { [P5]: 0 }, 'us-west-2': { [P5]: 8 } }, minimumWaitMs: 300 },
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
      harness = await startHarness({
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
    harness = await startHarness({
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
  it('suggests priced training-plan offerings once the request has waited the setting, and announces them', async () => {
    const account = await startAccountSimulator({
      fixture: { regions: {}, prices: [{ region: 'us-east-1', instanceType: P5, component: 'Training', usdPerHour: 50 }] },
    });
    try {
      harness = await startHarness({
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
            afterSeconds: 0.3,
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
