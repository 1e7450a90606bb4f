/**
 * The sweeper's two handlers: the hourly one (deletes and reports) and GET /orphans (a dry run, every answer checked
 * against the committed OpenAPI document). Records in dynalite, HyperPod through the SDK against its simulator.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBridgePublisher } from '../../functions/adapters/eventbridge';
import { createHyperPodProvider } from '../../functions/adapters/hyperpod';
import type { ClusterStore } from '../../functions/core/store';
import { DEFAULT_SWEEP_GRACE_SECONDS, type SweepDeps, type SweepReport } from '../../functions/core/sweep';
import { makeHandler as makeOrphans } from '../../functions/handlers/http/orphans';
import { makeHandler as makeSweep } from '../../functions/handlers/sweep';
import type { HttpResult } from '../../functions/platform/middleware/http';
import { startEventBridgeSimulator, type EventBridgeSimulator } from '../../local/simulators/eventbridge';
import { startSageMakerSimulator, type SageMakerSimulator } from '../../local/simulators/sagemaker';
import { PLATFORM_CALLER, httpEvent, lambdaContext } from '../fixtures/events';
import { hyperpodGroup } from '../fixtures/clusters';
import { freshStore, sampleRecord } from '../helpers/dynamo';
import { validateResponse } from '../helpers/openapi';

const DEPLOYMENT = 'gpu-cluster-provisioner-test';
const REGION = 'us-east-1';
const HERE = { provider: 'sagemaker' as const, region: REGION };

let sm: SageMakerSimulator;
let bus: EventBridgeSimulator;
let store: ClusterStore;
let previousEndpoint: string | undefined;
let deps: SweepDeps;
let leftover: string;
let orphan: string;

beforeAll(async () => {
  [sm, bus, { store }] = await Promise.all([startSageMakerSimulator({ readyAfterMs: 50 }), startEventBridgeSimulator(), freshStore()]);
  previousEndpoint = process.env.AWS_ENDPOINT_URL_SAGEMAKER;
  process.env.AWS_ENDPOINT_URL_SAGEMAKER = sm.endpoint;
  const provider = createHyperPodProvider({ deployment: DEPLOYMENT, maxAttempts: 1 });
  const cluster = (name: string) => ({ ClusterName: name, InstanceGroups: [hyperpodGroup({ InstanceType: 'ml.g5.2xlarge' })] });
  // A DELETED record whose cluster remains, and a cluster of this deployment no record knows
  leftover = (await provider.create({ location: HERE, requestId: 'req-gone', cluster: cluster('left-over') })).providerId;
  const old = new Date(Date.now() - 2 * DEFAULT_SWEEP_GRACE_SECONDS * 1000).toISOString();
  await store.create(
    sampleRecord({
      requestId: 'req-gone',
      clusterName: 'left-over',
      providerId: leftover,
      status: 'DELETED',
      acceptedAt: old,
      updatedAt: old,
    }),
  );
  orphan = (await provider.create({ location: HERE, requestId: 'req-nobody', cluster: cluster('orphaned') })).providerId;
  deps = {
    store,
    provider: () => provider,
    deployment: DEPLOYMENT,
    regions: [REGION],
    // a cluster just made is within its grace: judge it an hour on
    now: () => new Date(Date.now() + 3_600_000),
    events: createEventBridgePublisher(new EventBridgeClient({ endpoint: bus.endpoint, region: REGION })),
    eventBusName: 'test-bus',
  };
});
afterAll(async () => {
  if (previousEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_SAGEMAKER;
  else process.env.AWS_ENDPOINT_URL_SAGEMAKER = previousEndpoint;
  await Promise.all([sm.close(), bus.close()]);
});

type Handler = (event: ReturnType<typeof httpEvent>, context: ReturnType<typeof lambdaContext>) => Promise<HttpResult>;

describe('GET /orphans', () => {
  it('lists the orphan and the leftover with 200, deleting nothing and reporting nothing', async () => {
    const { events: _events, eventBusName: _bus, ...dryRunDeps } = deps;
    const admins = () => [PLATFORM_CALLER];
    const result = await (makeOrphans(() => dryRunDeps, admins) as unknown as Handler)(
      httpEvent('GET /orphans', '/orphans'),
      lambdaContext(),
    );
    const body = JSON.parse(result.body!);
    validateResponse('GET /orphans', result.statusCode!, body);

    expect(result.statusCode).toBe(200);
    expect(body.locations).toEqual([HERE]);
    expect(body.failures).toEqual([]);
    expect(body.orphans.map((o: { providerId: string; finding: string }) => [o.providerId, o.finding]).sort()).toEqual(
      [
        [leftover, 'leftover'],
        [orphan, 'orphan'],
      ].sort(),
    );
    expect(sm.requests.filter((r) => r.operation === 'DeleteCluster')).toEqual([]);
    expect(bus.entries).toEqual([]);
  });

  it('answers 403 to a caller that is not an admin, listing nothing', async () => {
    const { events: _events, eventBusName: _bus, ...dryRunDeps } = deps;
    const before = sm.requests.length;
    const result = await (
      makeOrphans(
        () => dryRunDeps,
        () => [],
      ) as unknown as Handler
    )(httpEvent('GET /orphans', '/orphans'), lambdaContext());
    const body = JSON.parse(result.body!);
    validateResponse('GET /orphans', result.statusCode!, body);
    expect(result.statusCode).toBe(403);
    expect(body.code).toBe('Forbidden');
    expect(sm.requests).toHaveLength(before);
  });
});

describe('the hourly sweep', () => {
  it('deletes the leftover and reports the orphan on the bus', async () => {
    const report = (await makeSweep(() => deps)({}, lambdaContext() as never)) as SweepReport;

    expect(report.items.map((i) => [i.providerId, i.action]).sort()).toEqual(
      [
        [leftover, 'deleted'],
        [orphan, 'reported'],
      ].sort(),
    );
    expect(sm.requests.filter((r) => r.operation === 'DeleteCluster').map((r) => (r.body as { ClusterName: string }).ClusterName)).toEqual([
      leftover,
    ]);
    expect(bus.entries.map((e) => [e.DetailType, (e.Detail as { providerId: string }).providerId])).toEqual([
      ['Orphan Cluster Found', orphan],
    ]);
  });
});
