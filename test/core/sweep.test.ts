/**
 * The orphan sweeper through the real protocols: records in dynalite, HyperPod through the SDK against the SageMaker
 * simulator, TIR through fetch against the TIR simulator, orphans reported through the EventBridge adapter to the
 * EventBridge simulator (each event checked against its committed schema). Only the clock the sweeper judges the grace
 * period by is moved.
 */
import { CreateClusterCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEventBridgePublisher } from '../../functions/adapters/eventbridge';
import { createHyperPodProvider } from '../../functions/adapters/hyperpod';
import { createTirProvider } from '../../functions/adapters/tir';
import { DETAIL_TYPES } from '../../functions/core/events';
import type { ClusterLocation, ClusterProvider } from '../../functions/core/provider';
import type { ProviderName } from '../../functions/core/request';
import type { ClusterRecord, ClusterStore } from '../../functions/core/store';
import { DEFAULT_SWEEP_GRACE_SECONDS, sweep, type SweepDeps, type SweepItem } from '../../functions/core/sweep';
import { startEventBridgeSimulator, type EventBridgeSimulator } from '../../local/simulators/eventbridge';
import { startSageMakerSimulator, type SageMakerSimulator } from '../../local/simulators/sagemaker';
import { startTirSimulator, type TirSimulator } from '../../local/simulators/tir';
import { hyperpodGroup, tirCluster } from '../fixtures/clusters';
import { freshStore, sampleRecord } from '../helpers/dynamo';
import { assertEventMatchesSchema } from '../helpers/event-schemas';

const DEPLOYMENT = 'gpu-cluster-provisioner-test';
const REGION = 'us-east-1';
const HERE: ClusterLocation = { provider: 'sagemaker', region: REGION };
const TIR_HERE = { provider: 'tir' as const, projectId: 4242, location: 'Delhi' };
const AFTER_GRACE = (DEFAULT_SWEEP_GRACE_SECONDS + 60) * 1000;

let sm: SageMakerSimulator;
let tir: TirSimulator;
let bus: EventBridgeSimulator;
let store: ClusterStore;
let providers: Record<ProviderName, ClusterProvider>;
let previousEndpoint: string | undefined;
let n = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(n += 1)}`;

beforeEach(async () => {
  [sm, tir, bus, { store }] = await Promise.all([
    startSageMakerSimulator({ readyAfterMs: 50, deleteAfterMs: 60_000 }),
    // The owner marker read back (the case TIR's docs leave open): an orphan naming an unknown request can be seen.
    startTirSimulator({ readyAfterMs: 50, deleteAfterMs: 60_000, returnsLifecycleScript: true }),
    startEventBridgeSimulator(),
    freshStore(),
  ]);
  previousEndpoint = process.env.AWS_ENDPOINT_URL_SAGEMAKER;
  process.env.AWS_ENDPOINT_URL_SAGEMAKER = sm.endpoint;
  providers = {
    sagemaker: createHyperPodProvider({ deployment: DEPLOYMENT, maxAttempts: 1 }),
    tir: createTirProvider({ deployment: DEPLOYMENT, baseUrl: tir.baseUrl, credentials: { apiKey: tir.apiKey, authToken: tir.authToken } }),
  };
});
afterEach(async () => {
  if (previousEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_SAGEMAKER;
  else process.env.AWS_ENDPOINT_URL_SAGEMAKER = previousEndpoint;
  await Promise.all([sm.close(), tir.close(), bus.close()]);
});

const deps = (overrides: Partial<SweepDeps> = {}): SweepDeps => ({
  store,
  provider: (name) => providers[name],
  deployment: DEPLOYMENT,
  regions: [REGION],
  events: createEventBridgePublisher(new EventBridgeClient({ endpoint: bus.endpoint, region: REGION })),
  eventBusName: 'test-bus',
  ...overrides,
});
/** The sweeper's clock this far from now. */
const at = (ms: number) => () => new Date(Date.now() + ms);

/** A HyperPod cluster this deployment created for `requestId`. */
const hyperpodCluster = async (requestId: string, location: ClusterLocation = HERE) => {
  const name = unique('c');
  const { providerId } = await providers.sagemaker.create({
    location,
    requestId,
    cluster: { ClusterName: name, InstanceGroups: [hyperpodGroup({ InstanceType: 'ml.g5.2xlarge' })] },
  });
  return { name, providerId };
};
const tirClusterOf = async (requestId: string, location: typeof TIR_HERE = TIR_HERE) => {
  const name = unique('t');
  const { providerId } = await providers.tir.create({ location, requestId, cluster: tirCluster(name) });
  return { name, providerId };
};
const record = async (overrides: Partial<ClusterRecord>): Promise<ClusterRecord> => {
  const now = new Date().toISOString();
  return (await store.create(sampleRecord({ acceptedAt: now, updatedAt: now, attempts: 1, ...overrides }))).record;
};
const deleted = (sim: { requests: Array<{ operation: string; body?: unknown }> }, operation: string) =>
  sim.requests.filter((r) => r.operation === operation);
const itemOf = (items: SweepItem[], providerId: string) => items.find((i) => i.providerId === providerId);

describe('sweep: leftovers', () => {
  it('deletes the leftover cluster of a DELETED record once the grace period has passed, and not before', async () => {
    // Prepare: the record says DELETED, but its cluster is still there (its delete never reached HyperPod)
    const requestId = unique('gone');
    const cluster = await hyperpodCluster(requestId);
    await record({ requestId, clusterName: cluster.name, providerId: cluster.providerId, status: 'DELETED' });

    // Act 1: within the grace period
    const early = await sweep(deps());

    // Assess 1: found, waiting, untouched
    expect(itemOf(early.items, cluster.providerId)).toMatchObject({
      finding: 'leftover',
      recordStatus: 'DELETED',
      action: 'grace',
      requestId,
      dueAt: expect.any(String),
    });
    expect(deleted(sm, 'DeleteCluster')).toEqual([]);

    // Act 2: past it
    const late = await sweep(deps({ now: at(AFTER_GRACE) }));

    // Assess 2: deleted, by its ARN
    expect(itemOf(late.items, cluster.providerId)).toMatchObject({ finding: 'leftover', action: 'deleted' });
    expect(deleted(sm, 'DeleteCluster').map((r) => (r.body as { ClusterName: string }).ClusterName)).toEqual([cluster.providerId]);
    expect((await providers.sagemaker.describe({ location: HERE, clusterName: cluster.name, providerId: cluster.providerId })).state).toBe(
      'DELETING',
    );
    expect(bus.entries).toEqual([]);
  });

  it('deletes the leftovers of a FAILED record, of a cancelled one and a cluster its record discarded; keeps the record’s own', async () => {
    const failed = unique('failed');
    const ofFailed = await hyperpodCluster(failed);
    await record({ requestId: failed, clusterName: ofFailed.name, providerId: ofFailed.providerId, status: 'FAILED' });
    const cancelled = unique('cancelled');
    const ofCancelled = await hyperpodCluster(cancelled);
    await record({
      requestId: cancelled,
      clusterName: ofCancelled.name,
      providerId: ofCancelled.providerId,
      status: 'DELETED',
      cancelledAt: new Date().toISOString(),
    });
    const ready = unique('ready');
    const discarded = await hyperpodCluster(ready);
    const current = await hyperpodCluster(ready);
    await record({
      requestId: ready,
      clusterName: current.name,
      providerId: current.providerId,
      status: 'READY',
      discardedClusters: [{ providerId: discarded.providerId, reason: 'capacity', at: new Date().toISOString() }],
    });

    const report = await sweep(deps({ now: at(AFTER_GRACE) }));

    expect(itemOf(report.items, ofFailed.providerId)).toMatchObject({
      finding: 'leftover',
      reason: 'its request is FAILED',
      action: 'deleted',
    });
    expect(itemOf(report.items, ofCancelled.providerId)).toMatchObject({
      finding: 'leftover',
      reason: 'its request is DELETED (cancelled)',
      action: 'deleted',
    });
    expect(itemOf(report.items, discarded.providerId)).toMatchObject({
      finding: 'leftover',
      reason: 'discarded by its request',
      action: 'deleted',
    });
    expect(itemOf(report.items, current.providerId)).toMatchObject({ finding: 'owned', recordStatus: 'READY', action: 'none' });
    expect(
      deleted(sm, 'DeleteCluster')
        .map((r) => (r.body as { ClusterName: string }).ClusterName)
        .sort(),
    ).toEqual([ofFailed.providerId, ofCancelled.providerId, discarded.providerId].sort());
  });
});

describe('sweep: what it leaves alone', () => {
  it('leaves a live READY cluster, and one a request still creating may adopt, however old', async () => {
    const ready = unique('ready');
    const live = await hyperpodCluster(ready);
    await record({ requestId: ready, clusterName: live.name, providerId: live.providerId, status: 'READY' });
    const waiting = unique('waiting');
    const lost = await hyperpodCluster(waiting); // created, but the create's answer was never recorded
    await record({ requestId: waiting, clusterName: lost.name, status: 'WAITING_FOR_CAPACITY' });

    const report = await sweep(deps({ now: at(10 * AFTER_GRACE) }));

    expect(itemOf(report.items, live.providerId)).toMatchObject({ finding: 'owned', action: 'none' });
    expect(itemOf(report.items, lost.providerId)).toMatchObject({
      finding: 'in-flight',
      recordStatus: 'WAITING_FOR_CAPACITY',
      action: 'none',
    });
    expect(deleted(sm, 'DeleteCluster')).toEqual([]);
  });

  it("never touches a cluster without this deployment's tag, even one naming a DELETED request", async () => {
    // Prepare: an untagged cluster, and one another deployment created for a requestId this deployment has DELETED
    const client = new SageMakerClient({ region: REGION });
    const untagged = unique('untagged');
    await client.send(
      new CreateClusterCommand({ ClusterName: untagged, InstanceGroups: [hyperpodGroup({ InstanceType: 'ml.g5.2xlarge' })] } as never),
    );
    const requestId = unique('shared-id');
    const other = createHyperPodProvider({ deployment: 'gpu-cluster-provisioner-other' });
    const theirs = await other.create({
      location: HERE,
      requestId,
      cluster: { ClusterName: unique('theirs'), InstanceGroups: [hyperpodGroup({ InstanceType: 'ml.g5.2xlarge' })] },
    });
    await record({ requestId, clusterName: theirs.clusterName, providerId: theirs.providerId, status: 'DELETED' });

    // Act
    const report = await sweep(deps({ now: at(AFTER_GRACE) }));

    // Assess: not even listed; nothing deleted, nothing reported
    expect(report.items).toEqual([]);
    expect(deleted(sm, 'DeleteCluster')).toEqual([]);
    expect(bus.entries).toEqual([]);
  });
});

describe('sweep: orphans', () => {
  it('reports a tagged cluster with no record as Orphan Cluster Found (valid against its schema), and never deletes it', async () => {
    const nobody = unique('nobody');
    const orphan = await hyperpodCluster(nobody);

    const report = await sweep(deps({ now: at(10 * AFTER_GRACE) }));

    expect(itemOf(report.items, orphan.providerId)).toMatchObject({
      finding: 'orphan',
      reason: `no record of request ${nobody}`,
      action: 'reported',
    });
    expect(bus.entries).toHaveLength(1);
    const [event] = bus.entries;
    expect(event).toMatchObject({ Source: 'gpu-cluster-provisioner', DetailType: DETAIL_TYPES.orphan, EventBusName: 'test-bus' });
    assertEventMatchesSchema(event!.DetailType, event!.Detail);
    expect(event!.Detail).toEqual({
      provider: 'sagemaker',
      region: REGION,
      clusterName: orphan.name,
      providerId: orphan.providerId,
      requestId: nobody,
      providerStatus: expect.any(String),
      createdAt: expect.any(String),
      deployment: DEPLOYMENT,
      reason: `no record of request ${nobody}`,
      foundAt: expect.any(String),
    });
    expect(deleted(sm, 'DeleteCluster')).toEqual([]);
  });

  it('sweeps every TIR project and location a record names: a leftover deleted, an orphan reported, other places unseen', async () => {
    // Prepare: a FAILED TIR record whose cluster remains, an orphan beside it, and one of ours where no record points
    const failed = unique('tir-failed');
    const leftover = await tirClusterOf(failed);
    await record({
      requestId: failed,
      provider: 'tir',
      region: undefined,
      projectId: TIR_HERE.projectId,
      location: TIR_HERE.location,
      clusterName: leftover.name,
      providerId: leftover.providerId,
      status: 'FAILED',
    });
    const orphan = await tirClusterOf(unique('tir-nobody'));
    const elsewhere = await tirClusterOf(unique('tir-elsewhere'), { ...TIR_HERE, location: 'Chennai' });

    // Act
    const report = await sweep(deps({ now: at(AFTER_GRACE) }));

    // Assess
    expect(report.locations).toEqual([HERE, TIR_HERE]);
    expect(itemOf(report.items, leftover.providerId)).toMatchObject({ location: TIR_HERE, finding: 'leftover', action: 'deleted' });
    expect(tir.cluster(Number(leftover.providerId))).toMatchObject({ status: 'Deleting' });
    expect(itemOf(report.items, orphan.providerId)).toMatchObject({ finding: 'orphan', action: 'reported' });
    expect(itemOf(report.items, elsewhere.providerId)).toBeUndefined();
    expect(tir.cluster(Number(elsewhere.providerId))).not.toMatchObject({ status: 'Deleting' });
    const [event] = bus.entries;
    assertEventMatchesSchema(event!.DetailType, event!.Detail);
    expect(event!.Detail).toMatchObject({
      provider: 'tir',
      projectId: TIR_HERE.projectId,
      location: 'Delhi',
      providerId: orphan.providerId,
    });
    expect(deleted(tir, 'delete')).toHaveLength(1);
  });
});

describe('sweep: TIR as its published examples show it (no lifecycle_script handed back)', () => {
  it('deletes a leftover whose id its record holds, and never sees a cluster no record holds', async () => {
    // Prepare: a simulator in the documented shapes; a FAILED record whose cluster remains, and a cluster of ours no
    // record holds (a create whose answer was lost)
    const plain = await startTirSimulator({ readyAfterMs: 50, deleteAfterMs: 60_000 });
    try {
      providers.tir = createTirProvider({
        deployment: DEPLOYMENT,
        baseUrl: plain.baseUrl,
        credentials: { apiKey: plain.apiKey, authToken: plain.authToken },
      });
      const failed = unique('tir-failed');
      const leftover = await tirClusterOf(failed);
      await record({
        requestId: failed,
        provider: 'tir',
        region: undefined,
        projectId: TIR_HERE.projectId,
        location: TIR_HERE.location,
        clusterName: leftover.name,
        providerId: leftover.providerId,
        status: 'FAILED',
      });
      const lost = await tirClusterOf(unique('tir-lost'));

      // Act
      const report = await sweep(deps({ now: at(AFTER_GRACE) }));

      // Assess: the recorded id is the proof; the unproven cluster is neither deleted nor reported
      expect(itemOf(report.items, leftover.providerId)).toMatchObject({ requestId: failed, finding: 'leftover', action: 'deleted' });
      expect(plain.cluster(Number(leftover.providerId))).toMatchObject({ status: 'Deleting' });
      expect(itemOf(report.items, lost.providerId)).toBeUndefined();
      expect(plain.cluster(Number(lost.providerId))).not.toMatchObject({ status: 'Deleting' });
      expect(deleted(plain, 'delete')).toHaveLength(1);
      expect(bus.entries).toHaveLength(0);
    } finally {
      await plain.close();
    }
  });
});

describe('sweep: failures and the dry run', () => {
  it('records a location it cannot list and a delete refused, and sweeps the rest', async () => {
    const failed = unique('tir-failed');
    const leftover = await tirClusterOf(failed);
    await record({
      requestId: failed,
      provider: 'tir',
      projectId: TIR_HERE.projectId,
      location: TIR_HERE.location,
      clusterName: leftover.name,
      providerId: leftover.providerId,
      status: 'FAILED',
    });
    const refused = unique('tir-refused');
    const stuck = await tirClusterOf(refused);
    await record({
      requestId: refused,
      provider: 'tir',
      projectId: TIR_HERE.projectId,
      location: TIR_HERE.location,
      clusterName: stuck.name,
      providerId: stuck.providerId,
      status: 'DELETED',
    });
    sm.injectErrors('ListClusters', ['AccessDeniedException']);
    tir.injectErrors('delete', ['500']);

    const report = await sweep(deps({ now: at(AFTER_GRACE) }));

    expect(report.failures).toEqual([{ location: HERE, error: { name: 'ProviderAuthFailedError', message: expect.any(String) } }]);
    const actions = [itemOf(report.items, leftover.providerId)?.action, itemOf(report.items, stuck.providerId)?.action].sort();
    expect(actions).toEqual(['delete-failed', 'deleted']);
    expect(report.items.find((i) => i.action === 'delete-failed')?.error).toMatchObject({ name: 'ProviderUnavailableError' });
  });

  it('a dry run lists the orphans and leftovers and does nothing about them', async () => {
    const gone = unique('gone');
    const leftover = await hyperpodCluster(gone);
    await record({ requestId: gone, clusterName: leftover.name, providerId: leftover.providerId, status: 'DELETED' });
    const orphan = await hyperpodCluster(unique('nobody'));

    const report = await sweep(deps({ now: at(AFTER_GRACE), events: undefined, eventBusName: undefined }), { dryRun: true });

    expect(itemOf(report.items, leftover.providerId)).toMatchObject({ finding: 'leftover', action: 'none', dueAt: expect.any(String) });
    expect(itemOf(report.items, orphan.providerId)).toMatchObject({ finding: 'orphan', action: 'none' });
    expect(deleted(sm, 'DeleteCluster')).toEqual([]);
    expect(bus.entries).toEqual([]);
  });
});
