/**
 * How the provision wait treats HyperPod's Continuous mode, minimums and regions (functions/core/workflow/poll.ts
 * HYPERPOD_WAITS, functions/core/wake.ts onClusterEvent), in virtual time with the store and provider in memory.
 */
import { describe, expect, it } from 'vitest';
import { HYPERPOD_WAITS, createCluster, pollCluster, type PollInput } from '../../../functions/core/workflow';
import { onClusterEvent, type TaskWaker } from '../../../functions/core/wake';
import { ProvisioningTimeoutError } from '../../../functions/core/errors';
import type { GroupDescription } from '../../../functions/core/provider';
import { RETRY, p5Group, sagemakerRequest, world, type World } from '../../fakes/world';
import type { Phase } from '../../fakes/memory-provider';

const CAPACITY_EVENT = 'We currently do not have sufficient capacity to launch new ml.p5.48xlarge instances. Please try again.';

const poll = (w: World, id: string, overrides: Partial<PollInput> = {}) =>
  pollCluster(w.workflow, {
    requestId: id,
    operation: 'provision',
    lastWaitSeconds: 30,
    maxWaitSeconds: 300,
    eventWaitSeconds: 10800,
    deadlineSeconds: 10800,
    capacityRetry: RETRY,
    ...overrides,
  });

const group = (current: number, target: number, min?: number): GroupDescription => ({
  name: 'gpu-workers',
  current,
  target,
  ...(min !== undefined ? { min } : {}),
  status: current >= (min ?? target) ? 'InService' : 'Creating',
});

/** InService with its one group below target (and below its minimum, when one is given). */
const inServiceShort = (current: number, target: number, min?: number): Phase => ({
  state: 'CREATING',
  providerStatus: 'InService',
  nodes: { current, target },
  groups: [group(current, target, min)],
});

const created = async (w: World, request = sagemakerRequest(), ...phases: Phase[]) => {
  w.providers.sagemaker.scriptNext(...phases);
  const record = await w.accept(request);
  const result = await createCluster(w.workflow, { requestId: record.requestId, capacityRetry: RETRY });
  expect(result.action).toBe('CREATED');
  return record.requestId;
};

const wakes = () => {
  const woken: string[] = [];
  const waker: TaskWaker = { wake: async (token) => (woken.push(token), true) };
  return { woken, waker };
};

describe('Continuous mode: InService below the minimum', () => {
  it('describes the cluster again within 5 minutes, not at the deadline, and is READY once the minimum is there', async () => {
    const w = world();
    const id = await created(w, sagemakerRequest(), { ...inServiceShort(1, 4, 2), describes: 2 }, { state: 'READY' });
    const first = await poll(w, id);
    expect(first.state).toBe('CREATING');
    expect(first.providerStatus).toBe('InService');
    expect(first.waitSeconds).toBeLessThanOrEqual(HYPERPOD_WAITS.belowMinimumSeconds);
    w.clock.advance(first.waitSeconds);
    expect((await poll(w, id, { lastWaitSeconds: first.waitSeconds })).waitSeconds).toBeLessThanOrEqual(300);
    w.clock.advance(300);
    expect((await poll(w, id)).state).toBe('READY');
  });

  it('waits for the event (to the deadline) while the cluster is still Creating', async () => {
    const w = world();
    const id = await created(w, sagemakerRequest(), { state: 'CREATING' });
    expect((await poll(w, id)).waitSeconds).toBeGreaterThan(HYPERPOD_WAITS.belowMinimumSeconds);
  });
});

describe('events by region', () => {
  it('polls every minute a cluster in a region whose events are not wired, and waits for events where they are', async () => {
    const wired = world();
    wired.workflow.eventRegions = ['us-east-1'];
    const east = await created(wired, sagemakerRequest(), { state: 'CREATING' });
    expect((await poll(wired, east)).waitSeconds).toBeGreaterThan(60);

    const unwired = world();
    unwired.workflow.eventRegions = ['us-east-1'];
    const west = await created(unwired, sagemakerRequest({ region: 'us-west-2' }), { state: 'CREATING' });
    expect((await poll(unwired, west)).waitSeconds).toBeLessThanOrEqual(HYPERPOD_WAITS.unwiredRegionSeconds);
  });
});

describe('MinInstanceCount', () => {
  const withMinimum = () => sagemakerRequest({ cluster: { ClusterName: 'unit-p5', InstanceGroups: [p5Group({ MinInstanceCount: 1 })] } });

  it("keeps waiting past the deployment's deadline until HyperPod's 3 h window and a margin have passed", async () => {
    const w = world();
    const id = await created(w, withMinimum(), { state: 'CREATING' });
    w.clock.advance(10800 + 60);
    const during = await poll(w, id);
    expect(during.state).toBe('CREATING');
    // Never parked past the extended deadline.
    expect(during.waitSeconds).toBeLessThanOrEqual(HYPERPOD_WAITS.minimumRollbackSeconds + HYPERPOD_WAITS.rollbackMarginSeconds - 10800);
    w.clock.advance(HYPERPOD_WAITS.rollbackMarginSeconds);
    await expect(poll(w, id)).rejects.toBeInstanceOf(ProvisioningTimeoutError);
  });

  it('a request without a minimum times out at the deadline as before', async () => {
    const w = world();
    const id = await created(w, sagemakerRequest(), { state: 'CREATING' });
    w.clock.advance(10800 + 60);
    await expect(poll(w, id)).rejects.toBeInstanceOf(ProvisioningTimeoutError);
  });

  it('a roll back saying the minimum was not met is a shortage: the request waits for capacity', async () => {
    const w = world();
    const id = await created(w, withMinimum(), {
      state: 'FAILED',
      providerStatus: 'RollingBack',
      message: 'Instance group gpu-workers could not reach its MinInstanceCount of 1 within 3 hours',
    });
    const result = await poll(w, id);
    expect(result.state).toBe('RETRY');
    const record = await w.store.require(id);
    expect(record.status).toBe('WAITING_FOR_CAPACITY');
    expect(record.lastError).toMatchObject({ reason: 'capacity' });
    expect(record.discardedClusters?.[0]).toMatchObject({ reason: 'capacity' });
  });
});

describe('Cluster Event shortages', () => {
  const event = (arn: string, level = 'Error', message = CAPACITY_EVENT) => ({
    EventDetails: {
      ClusterArn: arn,
      ResourceType: 'Instance',
      EventLevel: level,
      Description: 'Instance creation failed',
      EventDetails: { EventMetadata: { Instance: { FailureMessage: message } } },
    },
  });

  it('records an Error-level capacity event as a capacity wait and wakes the workflow; with an alternative the request moves on', async () => {
    const w = world();
    const request = sagemakerRequest({ alternatives: [{ provider: 'sagemaker', region: 'us-west-2' }] } as never);
    const id = await created(w, request, inServiceShort(0, 4));
    const { woken, waker } = wakes();
    await w.store.update(id, { parked: { token: 'tok', purpose: 'poll', at: w.clock.now().toISOString(), until: 'x' } }, ['CREATING']);
    const arn = (await w.store.require(id)).providerId!;
    w.clock.advance(5);
    const outcome = await onClusterEvent({ store: w.store, waker, now: w.clock.now }, event(arn));
    expect(outcome).toMatchObject({ requestId: id, woken: true, shortage: true });
    expect(woken).toEqual(['tok']);
    expect((await w.store.require(id)).lastError).toMatchObject({ reason: 'capacity', operation: 'wait', message: CAPACITY_EVENT });

    w.clock.advance(1);
    const result = await poll(w, id);
    expect(result.state).toBe('RETRY');
    const record = await w.store.require(id);
    expect(record.status).toBe('WAITING_FOR_CAPACITY');
    expect(record.placement).toBe(1);
    expect(record.discardedClusters).toEqual([expect.objectContaining({ providerId: arn, reason: 'capacity' })]);
  });

  it('without an alternative the wait goes on (HyperPod keeps adding instances), the shortage recorded', async () => {
    const w = world();
    const id = await created(w, sagemakerRequest(), inServiceShort(0, 4));
    const arn = (await w.store.require(id)).providerId!;
    w.clock.advance(5);
    await onClusterEvent({ store: w.store, waker: wakes().waker, now: w.clock.now }, event(arn));
    const result = await poll(w, id);
    expect(result.state).toBe('CREATING');
    expect(result.waitSeconds).toBeLessThanOrEqual(HYPERPOD_WAITS.belowMinimumSeconds);
    const record = await w.store.require(id);
    expect(record.status).toBe('CREATING');
    expect(record.lastError).toMatchObject({ reason: 'capacity' });
  });

  it('an Info event, or an Error in other wording, wakes the workflow and records nothing', async () => {
    const w = world();
    const id = await created(w, sagemakerRequest(), inServiceShort(0, 4));
    const arn = (await w.store.require(id)).providerId!;
    const deps = { store: w.store, waker: wakes().waker, now: w.clock.now };
    expect(await onClusterEvent(deps, event(arn, 'Info', 'Instance i-1 added'))).toMatchObject({ requestId: id, shortage: false });
    expect(await onClusterEvent(deps, event(arn, 'Error', 'Lifecycle script failed'))).toMatchObject({ shortage: false });
    expect((await w.store.require(id)).lastError).toBeUndefined();
    expect(await onClusterEvent(deps, event('arn:aws:sagemaker:us-east-1:123456789012:cluster/other0000000'))).toMatchObject({
      woken: false,
      ignored: 'no request is creating this cluster',
    });
  });
});
