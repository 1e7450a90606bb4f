/**
 * The turn of an offering's queue (functions/core/queue-turn.ts, functions/core/offerings.ts) and the capacity
 * strategies (functions/core/strategy.ts), through the workflow's tasks with the store, the provider and the offerings
 * memory in memory (the bench's metered memory: the DynamoDB adapter's semantics).
 */
import { describe, expect, it } from 'vitest';
import { queuedBehind, sentAfterNarrowing, turnsOf, type Waiter, widened, widenedFor } from '../../../functions/core/offerings';
import { instancesLaunched } from '../../../functions/core/queue-turn';
import { heldCluster } from '../../../functions/core/strategy';
import { createCluster, pollCluster, type WorkflowDeps } from '../../../functions/core/workflow';
import { DynamoMeter, MeteredOfferings } from '../../../bench/contention/dynamo-meter';
import { RETRY, p5Group, sagemakerRequest, world } from '../../fakes/world';

const KEY = 'sagemaker#us-east-1#ml.p5.48xlarge';
const NOW = new Date('2026-03-02T09:00:00Z');
const waiter = (requestId: string, second: number): Waiter => ({
  requestId,
  acceptedAt: new Date(NOW.getTime() - 60_000 + second * 1000).toISOString(),
  until: new Date(NOW.getTime() + 3_600_000).toISOString(),
});

describe('the window of an offering', () => {
  const queue = [waiter('c', 3), waiter('a', 1), waiter('b', 2), { ...waiter('gone', 0), until: '2026-03-02T08:00:00Z' }];

  it('lets the first `window` live waiters try, in submit order, and queues the rest behind the earliest', () => {
    expect(turnsOf(queue, NOW, 1).map((w) => w.requestId)).toEqual(['a']);
    expect(turnsOf(queue, NOW, 2).map((w) => w.requestId)).toEqual(['a', 'b']);
    expect(queuedBehind(queue, NOW, 1, 'b', waiter('b', 2).acceptedAt)?.requestId).toBe('a');
    expect(queuedBehind(queue, NOW, 2, 'b', waiter('b', 2).acceptedAt)).toBeUndefined();
    expect(queuedBehind(queue, NOW, 2, 'c', waiter('c', 3).acceptedAt)?.requestId).toBe('a');
    // A request not in the queue yet, accepted after them all, waits behind the window too.
    expect(queuedBehind(queue, NOW, 3, 'late', waiter('late', 9).acceptedAt)?.requestId).toBe('a');
  });

  it('doubles after a success, up to its cap, and is at least 1', () => {
    expect(widened(undefined, 16)).toBe(2);
    expect(widened(8, 16)).toBe(16);
    expect(widened(16, 16)).toBe(16);
    expect(widened(4, 1)).toBe(1);
  });

  it('doubles only for a create sent after it was last narrowed', () => {
    const narrowedAt = '2026-03-02T08:50:00.000Z';
    expect(sentAfterNarrowing(undefined, undefined)).toBe(true);
    expect(sentAfterNarrowing(undefined, '2026-03-02T08:00:00.000Z')).toBe(true);
    expect(sentAfterNarrowing(narrowedAt, '2026-03-02T08:50:00.001Z')).toBe(true);
    expect(sentAfterNarrowing(narrowedAt, narrowedAt)).toBe(false);
    expect(sentAfterNarrowing(narrowedAt, '2026-03-02T08:49:00.000Z')).toBe(false);
    expect(sentAfterNarrowing(narrowedAt, undefined)).toBe(false);
    expect(widenedFor({ window: 4 }, '2026-03-02T08:00:00.000Z', 16)).toBe(8);
    expect(widenedFor({ window: 4, narrowedAt }, '2026-03-02T08:55:00.000Z', 16)).toBe(8);
    expect(widenedFor({ window: 4, narrowedAt }, '2026-03-02T08:45:00.000Z', 16)).toBe(4);
    expect(widenedFor({ narrowedAt }, '2026-03-02T08:45:00.000Z', 16)).toBe(1);
    expect(widenedFor({ window: 8, narrowedAt }, '2026-03-02T08:55:00.000Z', 8)).toBe(8);
  });

  it('goes back to one probe at the first shortage, and the round that met it does not widen it again', async () => {
    const memory = new MeteredOfferings(new DynamoMeter());
    for (const w of queue) await memory.enqueue([KEY], w);
    await memory.widen([KEY], 16, '2026-03-02T08:40:00.000Z');
    await memory.widen([KEY], 16, '2026-03-02T08:41:00.000Z');
    expect((await memory.turns(KEY, NOW)).length).toBe(3);
    await memory.narrow([KEY], new Date('2026-03-02T08:50:00Z'));
    expect((await memory.turns(KEY, NOW)).map((w) => w.requestId)).toEqual(['a']);
    await memory.widen([KEY], 16, '2026-03-02T08:45:00.000Z');
    expect((await memory.turns(KEY, NOW)).map((w) => w.requestId)).toEqual(['a']);
    await memory.widen([KEY], 16, '2026-03-02T08:51:00.000Z');
    expect((await memory.turns(KEY, NOW)).map((w) => w.requestId)).toEqual(['a', 'b']);
  });
});

describe('instancesLaunched', () => {
  const base = { providerId: 'arn', clusterName: 'c', providerStatus: 'Creating', nodes: { current: 0, target: 4 } } as const;

  it('says launched when every group has its minimum (or its target), while the cluster is still Creating', () => {
    expect(instancesLaunched({ ...base, state: 'CREATING', groups: [{ name: 'g', current: 0, target: 4 }] })).toBe(false);
    expect(instancesLaunched({ ...base, state: 'CREATING', groups: [{ name: 'g', current: 4, target: 4 }] })).toBe(true);
    expect(instancesLaunched({ ...base, state: 'CREATING', groups: [{ name: 'g', current: 2, target: 4, min: 2 }] })).toBe(true);
    expect(
      instancesLaunched({
        ...base,
        state: 'CREATING',
        groups: [
          { name: 'g', current: 4, target: 4 },
          { name: 'h', current: 0, target: 1 },
        ],
      }),
    ).toBe(false);
    expect(instancesLaunched({ ...base, state: 'CREATING', nodes: { current: 4, target: 4 } })).toBe(true);
    expect(instancesLaunched({ ...base, state: 'FAILED', nodes: { current: 4, target: 4 } })).toBe(false);
  });
});

describe('the turn passes on when a HyperPod cluster is launched', () => {
  it('queues HyperPod requests before their first create, and hands the turn to the next at the launch, not at READY', async () => {
    // Prepare: two requests of one offering, A submitted first.
    const w = world();
    const memory = new MeteredOfferings(new DynamoMeter());
    const woken: string[] = [];
    const deps: WorkflowDeps = {
      ...w.workflow,
      offerings: memory,
      waker: {
        wake: async (token) => {
          woken.push(token);
          return true;
        },
      },
    };
    const a = await w.accept(sagemakerRequest({ requestId: 'turn-a', cluster: { ClusterName: 'turn-a', InstanceGroups: [p5Group()] } }));
    w.clock.advance(1);
    const b = await w.accept(sagemakerRequest({ requestId: 'turn-b', cluster: { ClusterName: 'turn-b', InstanceGroups: [p5Group()] } }));
    const sm = w.providers.sagemaker;
    const groups = (current: number) => [{ name: 'gpu-workers', current, target: 4 }];
    sm.scriptNext(
      { state: 'CREATING', providerStatus: 'Creating', nodes: { current: 0, target: 4 }, groups: groups(0) },
      { state: 'CREATING', providerStatus: 'Creating', nodes: { current: 4, target: 4 }, groups: groups(4), describes: 2 },
      { state: 'READY' },
    );

    // Act: A creates; B, behind it, waits without a call.
    expect((await createCluster(deps, { requestId: a.requestId, capacityRetry: RETRY })).action).toBe('CREATED');
    expect((await createCluster(deps, { requestId: b.requestId, capacityRetry: RETRY })).action).toBe('WAIT');
    expect(sm.callsOf('create')).toHaveLength(1);
    const parkedB = await w.store.require(b.requestId);
    expect(parkedB.status).toBe('WAITING_FOR_CAPACITY');
    await w.store.update(
      b.requestId,
      { parked: { token: 'token-b', purpose: 'retry', at: NOW.toISOString(), until: '2026-03-02T10:00:00Z' } },
      ['WAITING_FOR_CAPACITY'],
    );
    const input = {
      requestId: a.requestId,
      operation: 'provision' as const,
      lastWaitSeconds: 30,
      maxWaitSeconds: 300,
      deadlineSeconds: 7200,
      eventWaitSeconds: 7200,
      capacityRetry: { ...RETRY, QueueProbeSeconds: 30 },
    };
    const first = await pollCluster(deps, input);
    // Assess: still creating, nothing launched: the turn is held, and the next look comes soon (not at the deadline).
    expect(first.state).toBe('CREATING');
    expect(first.waitSeconds).toBeLessThanOrEqual(60);
    expect(woken).toEqual([]);
    expect((await w.store.require(a.requestId)).launched).toBeUndefined();

    // Act: the instances are launched (the cluster still Creating).
    const second = await pollCluster(deps, { ...input, lastWaitSeconds: first.waitSeconds });
    // Assess: the turn passed on: B is woken, A left the queue, the window doubled, and A waits for READY by events.
    expect(second.state).toBe('CREATING');
    expect(woken).toEqual(['token-b']);
    const recordA = await w.store.require(a.requestId);
    expect(recordA.launched?.providerId).toBe(recordA.providerId);
    expect((await memory.turns(KEY, w.clock.now())).map((x) => x.requestId)).toEqual(['turn-b']);
    expect(memory.windowOf(KEY)).toBe(2);
    expect(second.waitSeconds).toBeGreaterThan(60);
    // B now may create; a second look at A's launched cluster passes nothing on again.
    expect((await createCluster(deps, { requestId: b.requestId, capacityRetry: RETRY })).action).toBe('CREATED');
    await pollCluster(deps, input);
    expect(woken).toEqual(['token-b']);
  });

  it('takes a head whose request ended without leaving the queue (a crash between the two writes) out of it: the next creates', async () => {
    // Prepare: A and B queue on one offering, A first; A is created, then its record ends FAILED while it is still
    // queued (the process died between the record write and the dequeue).
    const w = world();
    const memory = new MeteredOfferings(new DynamoMeter());
    const deps: WorkflowDeps = { ...w.workflow, offerings: memory };
    const a = await w.accept(sagemakerRequest({ requestId: 'gone-a', cluster: { ClusterName: 'gone-a', InstanceGroups: [p5Group()] } }));
    w.clock.advance(1);
    const b = await w.accept(sagemakerRequest({ requestId: 'gone-b', cluster: { ClusterName: 'gone-b', InstanceGroups: [p5Group()] } }));
    expect((await createCluster(deps, { requestId: a.requestId, capacityRetry: RETRY })).action).toBe('CREATED');
    expect((await createCluster(deps, { requestId: b.requestId, capacityRetry: RETRY })).action).toBe('WAIT');
    await w.store.transition(a.requestId, 'FAILED', { failedAt: w.clock.iso() });
    expect((await memory.turns(KEY, w.clock.now())).map((x) => x.requestId)).toEqual(['gone-a']);

    // Act: B's next attempt.
    const next = await createCluster(deps, { requestId: b.requestId, capacityRetry: RETRY });

    // Assess: A is out of the queue and B created, without waiting for A's horizon.
    expect(next.action).toBe('CREATED');
    expect((await memory.turns(KEY, w.clock.now())).map((x) => x.requestId)).not.toContain('gone-a');
    expect(w.warnings.map((x) => x.message)).toContain('Took a request that no longer waits out of an offering queue');
  });

  it('does not widen the window for a launch whose create was sent before the window was last narrowed', async () => {
    // Prepare: A creates; then, before A's answer, another create of the same round rolls back (the window narrowed).
    const w = world();
    const memory = new MeteredOfferings(new DynamoMeter());
    const deps: WorkflowDeps = { ...w.workflow, offerings: memory };
    const a = await w.accept(sagemakerRequest({ requestId: 'round-a', cluster: { ClusterName: 'round-a', InstanceGroups: [p5Group()] } }));
    w.clock.advance(1);
    const b = await w.accept(sagemakerRequest({ requestId: 'round-b', cluster: { ClusterName: 'round-b', InstanceGroups: [p5Group()] } }));
    const sm = w.providers.sagemaker;
    const groups = [{ name: 'gpu-workers', current: 4, target: 4 }];
    sm.scriptNext({ state: 'CREATING', providerStatus: 'Creating', nodes: { current: 4, target: 4 }, groups }, { state: 'READY' });
    expect((await createCluster(deps, { requestId: a.requestId, capacityRetry: RETRY })).action).toBe('CREATED');
    expect((await createCluster(deps, { requestId: b.requestId, capacityRetry: RETRY })).action).toBe('WAIT');
    w.clock.advance(200);
    await memory.narrow([KEY], w.clock.now());
    w.clock.advance(40);

    // Act: A's instances are launched.
    await pollCluster(deps, {
      requestId: a.requestId,
      operation: 'provision',
      lastWaitSeconds: 30,
      maxWaitSeconds: 300,
      deadlineSeconds: 7200,
      eventWaitSeconds: 7200,
      capacityRetry: { ...RETRY, QueueProbeSeconds: 30 },
    });

    // Assess: the turn passed on (A left the queue) but the window stayed at one: A's round had met a shortage.
    expect((await w.store.require(a.requestId)).launched).toBeDefined();
    expect((await memory.turns(KEY, w.clock.now())).map((x) => x.requestId)).toEqual(['round-b']);
    expect(memory.windowOf(KEY)).toBe(1);
  });
});

describe('capacityStrategy hold', () => {
  it('creates once in Continuous mode with each group at its minimum, without the memory or the queue', async () => {
    const w = world();
    const memory = new MeteredOfferings(new DynamoMeter());
    const deps: WorkflowDeps = { ...w.workflow, offerings: memory };
    const request = sagemakerRequest({
      requestId: 'hold-1',
      capacityStrategy: 'hold',
      cluster: {
        ClusterName: 'hold-1',
        InstanceGroups: [p5Group(), p5Group({ InstanceGroupName: 'small', InstanceCount: 8, MinInstanceCount: 2 })],
      },
    });
    // The offering is remembered short and another request waits on it: a held request creates anyway.
    await memory.remember([KEY], new Date(NOW.getTime() + 600_000), 'short');
    await memory.enqueue([KEY], waiter('earlier', 0));
    const record = await w.accept(request);
    expect((await createCluster(deps, { requestId: record.requestId, capacityRetry: RETRY })).action).toBe('CREATED');
    const sent = w.providers.sagemaker.callsOf('create')[0]!.input.cluster as Record<string, unknown>;
    expect(sent.NodeProvisioningMode).toBe('Continuous');
    expect((sent.InstanceGroups as Array<{ MinInstanceCount: number }>).map((g) => g.MinInstanceCount)).toEqual([4, 2]);
    expect((await memory.turns(KEY, w.clock.now())).map((x) => x.requestId)).toEqual(['earlier']);
  });

  it('leaves a recreate request as it was sent', () => {
    const cluster = { ClusterName: 'x', InstanceGroups: [p5Group()] };
    expect(heldCluster(cluster).InstanceGroups[0]!.MinInstanceCount).toBe(4);
    expect(cluster.InstanceGroups[0]!.MinInstanceCount).toBeUndefined();
  });
});
