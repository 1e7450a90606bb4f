/**
 * HyperPod's published shapes (test/fixtures/providers/hyperpod/) are the contract: each goes through the adapter over
 * the real SDK on loopback, or through the clusterEvent handler, and the SageMaker simulator may answer and emit only
 * the members they document.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHyperPodProvider } from '../../functions/adapters/hyperpod';
import type { TaskWaker } from '../../functions/core/wake';
import { makeHandler } from '../../functions/handlers/cluster-event';
import { lambdaContext } from '../../local/workflows';
import {
  startSageMakerSimulator,
  type ClusterEventRecordDetail,
  type ClusterStateChangeDetail,
  type SageMakerSimulator,
} from '../../local/simulators/sagemaker';
import { sagemakerRequest, world } from '../fakes/world';

type Json = Record<string, any>;
const fixture = (name: string): Json =>
  JSON.parse(readFileSync(new URL(`../fixtures/providers/hyperpod/${name}`, import.meta.url), 'utf8')) as Json;

const stateChange = fixture('state-change.event.json');
const clusterEvent = fixture('cluster-event.event.json');
const describeCluster = fixture('describe-cluster.response.json');
const listClusters = fixture('list-clusters.response.json');
const createCluster = fixture('create-cluster.json');

/** Every key path of a JSON value (array items share the path `[]`). */
const keyPaths = (value: unknown, prefix = ''): string[] => {
  if (Array.isArray(value)) return value.flatMap((item) => keyPaths(item, `${prefix}[]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [`${prefix}.${k}`, ...keyPaths(v, `${prefix}.${k}`)]);
};
/** Key paths of `actual` that `documented` does not have. */
const undocumented = (actual: unknown, documented: unknown): string[] => {
  const known = new Set(keyPaths(documented));
  return [...new Set(keyPaths(actual))].filter((path) => !known.has(path));
};

describe('the fixtures', () => {
  it.each([
    ['state-change.event.json', stateChange],
    ['cluster-event.event.json', clusterEvent],
    ['describe-cluster.response.json', describeCluster],
    ['list-clusters.response.json', listClusters],
    ['create-cluster.json', createCluster],
  ])('%s names its source and retrieval date, and says when it is built rather than published', (_name, f) => {
    expect(f.source).toMatch(/^https:\/\/docs\.aws\.amazon\.com\/sagemaker\//);
    expect(f.retrieved).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(f.example).toBeTypeOf('object');
    if (f.documentedMembers) expect(f.built).toBeTypeOf('string');
  });
});

// ---- the adapter, over the real SDK, against a loopback endpoint answering the fixtures ----

describe('the adapter reads the documented answers', () => {
  let server: Server;
  let answers: Record<string, unknown> = {};
  const bodies: Array<{ target: string; body: Json }> = [];
  let endpoint = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '').replace('SageMaker.', '');
        bodies.push({ target, body: JSON.parse(raw || '{}') as Json });
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(answers[target] ?? {}));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  afterEach(() => {
    answers = {};
    bodies.length = 0;
  });

  const provider = () =>
    createHyperPodProvider({
      deployment: 'gpu-cluster-provisioner-test',
      clientFor: (region) => new SageMakerClient({ region, endpoint, credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } }),
    });
  const location = { provider: 'sagemaker' as const, region: 'us-west-2' };
  const ref = { location, clusterName: 'sample-cluster', providerId: describeCluster.example.ClusterArn as string };

  it('DescribeCluster: Continuous mode, InService with its group at MinCount: READY, counting nodes against the target', async () => {
    answers.DescribeCluster = describeCluster.example;
    const d = await provider().describe(ref);
    expect(d).toMatchObject({ state: 'READY', providerStatus: 'InService', nodes: { current: 2, target: 4 } });
    expect(d.groups).toEqual([
      { name: 'p5Inst', current: 2, target: 4, min: 2, status: 'InService', instanceTypes: [{ type: 'ml.p5.48xlarge', count: 2 }] },
    ]);
  });

  it('DescribeCluster: InService below MinCount is still CREATING (the workflow re-describes it)', async () => {
    const group = { ...describeCluster.example.InstanceGroups[0], CurrentCount: 1, Status: 'Creating' };
    answers.DescribeCluster = { ...describeCluster.example, InstanceGroups: [group] };
    expect(await provider().describe(ref)).toMatchObject({ state: 'CREATING', providerStatus: 'InService' });
  });

  it('DescribeCluster: every documented ClusterStatus maps to a state; RollingBack and Failed carry FailureMessage', async () => {
    const expected: Record<string, string> = {
      Creating: 'CREATING',
      Updating: 'CREATING',
      SystemUpdating: 'CREATING',
      InService: 'READY',
      RollingBack: 'FAILED',
      Failed: 'FAILED',
      Deleting: 'DELETING',
    };
    expect(Object.keys(expected).sort()).toEqual([...describeCluster.documentedMembers.clusterStatus].sort());
    for (const [status, state] of Object.entries(expected)) {
      answers.DescribeCluster = { ...describeCluster.example, ClusterStatus: status, FailureMessage: 'why' };
      const d = await provider().describe(ref);
      expect(d.state).toBe(state);
      expect(d.message).toBe('why');
    }
  });

  it('ListClusters: each summary status by ARN', async () => {
    answers.ListClusters = listClusters.example;
    const statuses = await provider().statuses!(location);
    expect(Object.fromEntries(statuses)).toEqual({
      'arn:aws:sagemaker:us-west-2:111122223333:cluster/a1b2c3d4e5f6': 'InService',
      'arn:aws:sagemaker:us-west-2:111122223333:cluster/f6e5d4c3b2a1': 'RollingBack',
    });
  });

  it('CreateCluster: sends the documented Continuous-mode request (MinInstanceCount kept) and reads ClusterArn', async () => {
    answers.CreateCluster = createCluster.example.response;
    const created = await provider().create({ location, requestId: 'req-1', cluster: createCluster.example.request });
    expect(created).toEqual({ providerId: createCluster.example.response.ClusterArn, clusterName: 'sample-cluster' });
    const sent = bodies.find((b) => b.target === 'CreateCluster')!.body;
    expect(sent.NodeProvisioningMode).toBe('Continuous');
    expect(sent.InstanceGroups[0]).toMatchObject({ InstanceCount: 4, MinInstanceCount: 2 });
  });
});

// ---- the event handler ----

describe('the clusterEvent handler reads the published events', () => {
  const setup = async () => {
    const w = world();
    const record = await w.accept(sagemakerRequest());
    await w.store.transition(record.requestId, 'CREATING', {
      providerId: 'arn:aws:sagemaker:us-west-2:111122223333:cluster/sample-cluster',
      createdAt: w.clock.now().toISOString(),
    });
    await w.store.update(record.requestId, { parked: { token: 'tok', purpose: 'poll', at: w.clock.now().toISOString(), until: 'x' } }, [
      'CREATING',
    ]);
    w.clock.advance(1);
    const woken: string[] = [];
    const waker: TaskWaker = { wake: async (t) => (woken.push(t), true) };
    const handler = makeHandler(() => ({ store: w.store, waker, now: w.clock.now }));
    return { w, requestId: record.requestId, woken, handler };
  };

  it('State Change (InService): wakes the workflow creating that cluster', async () => {
    const { handler, woken, requestId } = await setup();
    const out = await handler(stateChange.example as never, lambdaContext('clusterEvent'));
    expect(out).toMatchObject({ requestId, woken: true });
    expect(woken).toEqual(['tok']);
  });

  it('Cluster Event (Error, insufficient capacity): recorded as a capacity wait with its FailureMessage, and wakes the workflow', async () => {
    const { handler, woken, requestId, w } = await setup();
    const out = await handler(clusterEvent.example as never, lambdaContext('clusterEvent'));
    expect(out).toMatchObject({ requestId, woken: true, shortage: true });
    expect(woken).toEqual(['tok']);
    expect((await w.store.require(requestId)).lastError).toMatchObject({
      name: 'InsufficientCapacityError',
      reason: 'capacity',
      operation: 'wait',
      message: clusterEvent.example.detail.EventDetails.EventDetails.EventMetadata.Instance.FailureMessage,
    });
  });
});

// ---- the simulator against the fixtures ----

describe('the SageMaker simulator answers and emits only documented members', () => {
  let sim: SageMakerSimulator;
  const stateChanges: ClusterStateChangeDetail[] = [];
  const clusterEvents: ClusterEventRecordDetail[] = [];
  const P5 = 'ml.p5.48xlarge';

  beforeAll(async () => {
    sim = await startSageMakerSimulator({
      readyAfterMs: 50,
      capacity: { [P5]: 1 },
      stateChangeEveryMs: 10,
      onStateChange: (d) => stateChanges.push(d),
      onClusterEvent: (d) => clusterEvents.push(d),
    });
  });
  afterAll(() => sim.close());

  const call = async (operation: string, body: Json): Promise<Json> => {
    const res = await fetch(sim.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `SageMaker.${operation}`,
        authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=x',
      },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Json;
  };

  it('CreateCluster, DescribeCluster, ListClusters, the State Change and the Cluster Event of a Continuous cluster short of capacity', async () => {
    const created = await call('CreateCluster', {
      ...createCluster.example.request,
      InstanceGroups: [{ ...createCluster.example.request.InstanceGroups[0], MinInstanceCount: 1 }],
    });
    expect(undocumented(created, Object.fromEntries(createCluster.documentedMembers.response.map((k: string) => [k, ''])))).toEqual([]);
    await expect.poll(() => clusterEvents.length, { timeout: 5000 }).toBeGreaterThan(0);
    await expect.poll(() => stateChanges.some((d) => d.ClusterStatus === 'InService'), { timeout: 5000 }).toBe(true);

    const described = await call('DescribeCluster', { ClusterName: 'sample-cluster' });
    const members = describeCluster.documentedMembers;
    expect(Object.keys(described).filter((k) => !members.response.includes(k))).toEqual([]);
    for (const g of described.InstanceGroups as Json[]) {
      expect(Object.keys(g).filter((k) => !members.instanceGroup.includes(k))).toEqual([]);
      expect(members.instanceGroupStatus).toContain(g.Status);
    }
    expect(members.clusterStatus).toContain(described.ClusterStatus);
    expect(described.InstanceGroups[0]).toMatchObject({ CurrentCount: 1, TargetCount: 4, MinCount: 1 });
    expect(described.NodeProvisioningMode).toBe('Continuous');

    const listed = await call('ListClusters', {});
    expect(Object.keys(listed).filter((k) => !listClusters.documentedMembers.response.includes(k))).toEqual([]);
    for (const s of listed.ClusterSummaries as Json[]) {
      expect(Object.keys(s).filter((k) => !listClusters.documentedMembers.summary.includes(k))).toEqual([]);
    }

    // The events: keys of the published examples' detail only, with the same types.
    for (const detail of stateChanges) {
      expect(undocumented(detail, stateChange.example.detail)).toEqual([]);
      expect(typeof detail.CreationTime).toBe(typeof stateChange.example.detail.CreationTime);
      expect(typeof detail.FailureMessage).toBe('string');
    }
    for (const detail of clusterEvents) {
      expect(undocumented(detail, clusterEvent.example.detail)).toEqual([]);
      expect(detail.EventDetails.EventLevel).toBe('Error');
      expect(typeof detail.EventDetails.EventTime).toBe(typeof clusterEvent.example.detail.EventDetails.EventTime);
      expect(detail.EventDetails.EventDetails.EventMetadata.Instance.FailureMessage).toBe(
        `We currently do not have sufficient capacity to launch new ${P5} instances. Please try again.`,
      );
    }
  });
});
