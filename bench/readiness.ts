/**
 * Readiness: how long a cluster sits usable before the record says READY, event-driven against poll-only, in one run.
 *
 * Both runs drive the shipped ASL (aws-local-stepfunctions, the real task handlers, dynalite, the SageMaker and TIR
 * simulators) with 20 HyperPod and 4 TIR provisionings whose creation takes 10 to 30 minutes (seeded), at a time scale
 * of 1/100 (a minute of the deployment's clock is 0.6 s here):
 *   - event-driven: the simulator's state changes reach the clusterEvent function, which wakes the parked workflow (the
 *     deployed design; the poll runs only to the deadline);
 *   - poll-only: the same, without events, the poll every 300 s (the previous design's cap; `hyperPodEventWaitSeconds`
 *     set to 300).
 * Latency is from the moment the simulator's cluster is InService to the record's READY. The event path does not
 * scale with the clock (an event, a Lambda, a DescribeCluster, two writes), so it is reported in real seconds; the poll
 * path is a wait of the deployment's clock, reported in the deployment's seconds (measured / scale). State transitions
 * per provisioning follow from the path: 5 + 3 per poll (ParkUntilChange, DescribeCluster, IsClusterReady).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createDynamoStore } from '../functions/adapters/dynamo-store';
import { ensureClustersTable } from '../functions/adapters/dynamo-table';
import { createHyperPodProvider } from '../functions/adapters/hyperpod';
import { createTirProvider } from '../functions/adapters/tir';
import type { ClusterProvider } from '../functions/core/provider';
import type { ProviderName } from '../functions/core/request';
import { submitRequest } from '../functions/core/submit';
import type { WakeDeps } from '../functions/core/wake';
import type { WorkflowDeps } from '../functions/core/workflow';
import { makeHandler as clusterEvent } from '../functions/handlers/cluster-event';
import { makeHandler as createCluster } from '../functions/handlers/tasks/create-cluster';
import { makeHandler as deleteCluster } from '../functions/handlers/tasks/delete-cluster';
import { makeHandler as parkExecution } from '../functions/handlers/tasks/park-execution';
import { makeHandler as pollCluster } from '../functions/handlers/tasks/poll-cluster';
import { makeHandler as recordOutcome } from '../functions/handlers/tasks/record-outcome';
import { startSageMakerSimulator } from '../local/simulators/sagemaker';
import { startTirSimulator } from '../local/simulators/tir';
import { LocalWorkflows, lambdaContext, type LambdaHandler } from '../local/workflows';
import { stream } from './contention/rng';

const example = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../examples/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

const SCALE = 0.01;
const HYPERPOD = 20;
const TIR = 4;
const SEED = 20261129;

const percentile = (xs: number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

interface ModeResult {
  /** Seconds from InService to READY, per HyperPod cluster (real for events, the deployment's for polls). */
  latencies: number[];
  /** State transitions of each HyperPod provisioning's happy path. */
  transitions: number[];
  /** TIR: transitions per hour of creation. */
  tirTransitionsPerHour: number;
  wallMs: number;
}

const runMode = async (client: DynamoDBClient, mode: 'events' | 'poll'): Promise<ModeResult> => {
  const random = stream(SEED, 'readiness-creation');
  const creationMs = new Map<string, number>(); // cluster name -> creation time (scaled ms)
  const creationOf = (name: string) => {
    let ms = creationMs.get(name);
    if (ms === undefined) {
      ms = (10 + 20 * random()) * 60_000 * SCALE;
      creationMs.set(name, ms);
    }
    return ms;
  };
  const inServiceAt = new Map<string, number>();
  let deliver: (detail: Record<string, unknown>) => void = () => undefined;
  const sagemaker = await startSageMakerSimulator({
    readyAfterMsOf: creationOf,
    deleteAfterMs: 100,
    defaultCapacity: 100_000,
    stateChangeEveryMs: 10,
    onStateChange: (detail) => {
      if (detail.ClusterStatus === 'InService' && !inServiceAt.has(detail.ClusterArn))
        inServiceAt.set(detail.ClusterArn, performance.now());
      deliver({ ...detail });
    },
  });
  const tirCreationMs = 20 * 60_000 * SCALE;
  const tir = await startTirSimulator({ readyAfterMs: tirCreationMs, deleteAfterMs: 100, defaultCapacity: 100_000 });
  const previousEndpoint = process.env.AWS_ENDPOINT_URL_SAGEMAKER;
  process.env.AWS_ENDPOINT_URL_SAGEMAKER = sagemaker.endpoint;
  const tableName = `readiness-${mode}-${randomUUID().slice(0, 8)}`;
  await ensureClustersTable(client, tableName);
  const store = createDynamoStore({ client, tableName });
  const describes = new Map<string, number>();
  const counting = (provider: ClusterProvider): ClusterProvider => ({
    ...provider,
    describe: (ref) => {
      const id = ref.providerId ?? '';
      describes.set(id, (describes.get(id) ?? 0) + 1);
      return provider.describe(ref);
    },
  });
  const providers: Record<ProviderName, ClusterProvider> = {
    sagemaker: counting(createHyperPodProvider({ deployment: 'readiness-bench' })),
    tir: counting(
      createTirProvider({
        deployment: 'readiness-bench',
        baseUrl: tir.baseUrl,
        credentials: async () => ({ apiKey: tir.apiKey, authToken: tir.authToken }),
      }),
    ),
  };
  const waker = { wake: async (token: string) => workflows.sendTaskSuccess(token) };
  const deps: WorkflowDeps = {
    store,
    provider: (n) => providers[n],
    eventBusName: 'bench',
    events: { publish: async () => undefined },
    waker,
  };
  const wakeDeps: WakeDeps = { store, waker };
  const workflows: LocalWorkflows = new LocalWorkflows({
    handlers: {
      createCluster: createCluster(() => deps) as LambdaHandler,
      pollCluster: pollCluster(() => deps) as LambdaHandler,
      deleteCluster: deleteCluster(() => deps) as LambdaHandler,
      recordOutcome: recordOutcome(() => deps) as LambdaHandler,
      parkExecution: parkExecution(() => wakeDeps) as LambdaHandler,
    },
    publish: async () => undefined,
    timeScale: SCALE,
    settings: mode === 'poll' ? { hyperPodEventWaitSeconds: 300 } : {},
  });
  const onEvent = clusterEvent(() => wakeDeps);
  if (mode === 'events') {
    deliver = (detail) =>
      void onEvent(
        { 'detail-type': 'SageMaker HyperPod Cluster State Change', source: 'aws.sagemaker', detail } as never,
        lambdaContext('clusterEvent'),
      );
  }
  const submitDeps = { store, starter: workflows.starter(), defaultRegion: 'us-east-1' };
  const t0 = performance.now();
  try {
    const ids: string[] = [];
    for (let i = 0; i < HYPERPOD; i++) {
      const id = `rd-${mode}-hp-${i}`;
      ids.push(id);
      const hp = example('hyperpod-minimal.json') as { cluster: { InstanceGroups: Array<Record<string, unknown>> } };
      await submitRequest(submitDeps, {
        ...hp,
        requestId: id,
        cluster: {
          ...hp.cluster,
          ClusterName: id,
          InstanceGroups: hp.cluster.InstanceGroups.map((g) => ({ ...g, InstanceType: 'ml.p5.48xlarge' })),
        },
      });
    }
    const tirIds: string[] = [];
    for (let i = 0; i < TIR; i++) {
      const id = `rd-${mode}-tir-${i}`;
      tirIds.push(id);
      const tirExample = example('tir-minimal.json') as { cluster: Record<string, unknown> };
      await submitRequest(submitDeps, { ...tirExample, requestId: id, cluster: { ...tirExample.cluster, name: id } });
    }
    await workflows.settle();
    const wallMs = performance.now() - t0;
    const latencies: number[] = [];
    const transitions: number[] = [];
    for (const id of ids) {
      const record = await store.require(id);
      if (record.status !== 'READY' || !record.providerId) throw new Error(`${id} ended ${record.status}`);
      const up = inServiceAt.get(record.providerId);
      const readyMs = Date.parse(record.readyAt!) - (performance.timeOrigin + (up ?? 0));
      latencies.push(mode === 'events' ? readyMs / 1000 : readyMs / 1000 / SCALE);
      transitions.push(5 + 3 * (describes.get(record.providerId) ?? 0));
    }
    let tirPolls = 0;
    for (const id of tirIds) {
      const record = await store.require(id);
      if (record.status !== 'READY' || !record.providerId) throw new Error(`${id} ended ${record.status}`);
      tirPolls += describes.get(record.providerId) ?? 0;
    }
    const tirHours = (tirCreationMs / SCALE / 3_600_000) * TIR;
    return { latencies, transitions, tirTransitionsPerHour: (3 * tirPolls) / tirHours, wallMs };
  } finally {
    await workflows.stopAll();
    await Promise.all([sagemaker.close(), tir.close()]);
    if (previousEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_SAGEMAKER;
    else process.env.AWS_ENDPOINT_URL_SAGEMAKER = previousEndpoint;
  }
};

export const benchReadiness = async (client: DynamoDBClient): Promise<void> => {
  const events = await runMode(client, 'events');
  const poll = await runMode(client, 'poll');
  const line = (name: string, r: ModeResult, unit: string, digits: number) =>
    `readiness ${name.padEnd(13)} InService -> READY p50 ${percentile(r.latencies, 50).toFixed(digits)} ${unit}, p99 ${percentile(r.latencies, 99).toFixed(digits)} ${unit}; ` +
    `${Math.max(...r.transitions)} state transitions at most per HyperPod provisioning (${Math.min(...r.transitions)} at least); ` +
    `TIR ${r.tirTransitionsPerHour.toFixed(0)} transitions per hour of creation; ${(r.wallMs / 1000).toFixed(1)} s wall`;
  console.log(line('event-driven', events, 's (real)', 3));
  console.log(line('poll-only', poll, "s (deployment's clock)", 0));
  console.log(
    `readiness ratio  poll-only p50 / event-driven p50 = ×${(percentile(poll.latencies, 50) / percentile(events.latencies, 50)).toFixed(0)}; ` +
      `${HYPERPOD} HyperPod clusters created in 10-30 min (seeded), ${TIR} TIR in 20 min, time scale ${SCALE}`,
  );
};
