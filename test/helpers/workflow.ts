/**
 * A whole provisioning system on loopback for workflow tests: the shipped ASL run by aws-local-stepfunctions with
 * tasks bound to the real handlers, state in dynalite, providers = the simulators driven through the real SDK and
 * fetch. Retry and wait intervals are shortened through the runner's overrides only.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { createEventBridgePublisher } from '../../functions/adapters/eventbridge';
import { createHyperPodProvider } from '../../functions/adapters/hyperpod';
import { createTirProvider } from '../../functions/adapters/tir';
import type { EventEntry } from '../../functions/core/events';
import type { IntakeDeps } from '../../functions/core/intake';
import type { ClusterProvider } from '../../functions/core/provider';
import type { ProviderName } from '../../functions/core/request';
import type { ClusterRecord, ClusterStatus, ClusterStore } from '../../functions/core/store';
import { requestDeletion, submitRequest, type SubmitDeps } from '../../functions/core/submit';
import type { WorkflowDeps } from '../../functions/core/workflow';
import { makeHandler as createClusterHandler } from '../../functions/handlers/tasks/create-cluster';
import { makeHandler as deleteClusterHandler } from '../../functions/handlers/tasks/delete-cluster';
import { makeHandler as pollClusterHandler } from '../../functions/handlers/tasks/poll-cluster';
import { makeHandler as recordOutcomeHandler } from '../../functions/handlers/tasks/record-outcome';
import { makeHandler as parkExecutionHandler } from '../../functions/handlers/tasks/park-execution';
import type { WakeDeps } from '../../functions/core/wake';
import { makeHandler as clusterEventHandler } from '../../functions/handlers/cluster-event';
import { startEventBridgeSimulator } from '../../local/simulators/eventbridge';
import { startSageMakerSimulator, type SageMakerSimulatorOptions } from '../../local/simulators/sagemaker';
import { startTirSimulator, type TirSimulatorOptions } from '../../local/simulators/tir';
import { LocalWorkflows, lambdaContext, type LambdaHandler } from '../../local/workflows';
import { randomUUID } from 'node:crypto';
import { createDynamoOfferings, ensureOfferingsTable } from '../../functions/adapters/offerings-dynamo';
import { freshStore } from './dynamo';
import { assertEventMatchesSchema } from './event-schemas';

export interface HarnessOptions {
  settings?: Record<string, number>;
  sagemaker?: SageMakerSimulatorOptions;
  tir?: TirSimulatorOptions;
  /** Wraps the store the task Lambdas see (to simulate a crash at a chosen write). */
  wrapStore?: (store: ClusterStore) => ClusterStore;
  /** Milliseconds between retries of every retrier (default 5). */
  retryMs?: number | number[];
  /** Milliseconds of every capacity wait (WaitToRetry, WaitAfterShortage); default 5. */
  waitMs?: number;
  /** Milliseconds a parked workflow waits for an event before it polls (ParkUntilChange's timeout); default 20. */
  pollMs?: number;
  /** Without the shared memory of short offerings (every placement is always tried). */
  noOfferingMemory?: boolean;
  /**
   * Runs the parked waits at this scale of their deployed length (the local stack's LOCAL_TIME_SCALE): ParkUntilChange
   * then times out after the payload's waitSeconds × timeScale instead of `pollMs`.
   */
  timeScale?: number;
  /** Regions whose HyperPod events reach the bus (WorkflowDeps.eventRegions); default: every region. */
  eventRegions?: string[];
  /** More dependencies of the task Lambdas (the zone lookup, reserved-capacity offers). */
  taskDeps?: Partial<WorkflowDeps>;
  /** The DynamoDB client of the store and the offerings (default: straight to dynalite). */
  dynamoClient?: DynamoDBClient;
  /**
   * Runs the system in scaled virtual time: one deployed second lasts `virtualTime` real seconds. The functions, the
   * store and the SageMaker and TIR simulators read one clock (`clock`) that runs 1/virtualTime as fast as the real one
   * from the harness's start, and every park and wait of the ASL lasts its deployed length × virtualTime (`timeScale`,
   * a Wait whose length its input gives waiting that length: `scaleWaitsFromInput`; no overrides: `waitMs` and `pollMs`
   * do not apply), so settings and simulator timings are given in deployed units. Work takes real time too: a
   * millisecond of it lasts 1/virtualTime virtual milliseconds, so a bound on a span leaves room for it.
   */
  virtualTime?: number;
}

/** The deployment name the harness's providers give (and recognise on) their clusters. */
export const DEPLOYMENT = 'gpu-cluster-provisioner-test';

/** The waits after a store outage outlasted a task's retries (both state machines): test speed, as the other waits. */
const STORE_OUTAGE_WAITS = [
  'WaitForStoreThenCreate',
  'WaitForStoreThenDescribe',
  'WaitForStoreThenRecordReady',
  'WaitForStoreThenDelete',
  'WaitForStoreThenRecordDeleted',
];

export const startHarness = async (options: HarnessOptions = {}) => {
  const scale = options.virtualTime;
  const started = Date.now();
  /** The clock of the functions, the store and the simulators (the real one, unless `virtualTime`). */
  const clock = scale === undefined ? () => new Date() : () => new Date(started + (Date.now() - started) / scale);
  const virtual = scale === undefined ? {} : { now: clock };
  const { store, client, tableName } = await freshStore(virtual, options.dynamoClient);
  const offeringsTable = `offerings-${randomUUID()}`;
  await ensureOfferingsTable(client, offeringsTable);
  const offerings = createDynamoOfferings({ client, tableName: offeringsTable });
  const sagemaker = await startSageMakerSimulator({
    readyAfterMs: 150,
    deleteAfterMs: 100,
    ...(scale === undefined ? {} : { clock: () => clock().getTime() }),
    ...options.sagemaker,
  });
  const tir = await startTirSimulator({
    readyAfterMs: 150,
    deleteAfterMs: 100,
    ...(scale === undefined ? {} : { clock: () => clock().getTime() }),
    ...options.tir,
  });
  const previousEndpoint = process.env.AWS_ENDPOINT_URL_SAGEMAKER;
  process.env.AWS_ENDPOINT_URL_SAGEMAKER = sagemaker.endpoint;
  const providers: Record<ProviderName, ClusterProvider> = {
    sagemaker: createHyperPodProvider({ deployment: DEPLOYMENT }),
    tir: createTirProvider({
      deployment: DEPLOYMENT,
      baseUrl: tir.baseUrl,
      credentials: async () => ({ apiKey: tir.apiKey, authToken: tir.authToken }),
      timeoutMs: 2000,
    }),
  };
  const events: EventEntry[] = [];
  const publish = async (entries: EventEntry[]) => {
    // Every event the workflows put in any scenario must match its committed schema.
    for (const entry of entries) assertEventMatchesSchema(entry.DetailType, entry.Detail);
    events.push(...entries);
  };
  const taskDeps: WorkflowDeps = {
    store: options.wrapStore ? options.wrapStore(store) : store,
    provider: (name) => providers[name],
    ...(options.noOfferingMemory ? {} : { offerings }),
    eventBusName: 'test-bus',
    events: { publish },
    ...(options.eventRegions ? { eventRegions: options.eventRegions } : {}),
    // Parked workflows are woken through the runner directly (the deployed path is SendTaskSuccess).
    waker: { wake: async (token) => workflows.sendTaskSuccess(token) },
    ...virtual,
    ...options.taskDeps,
  };
  const handlers: Record<string, LambdaHandler> = {
    createCluster: createClusterHandler(() => taskDeps) as LambdaHandler,
    pollCluster: pollClusterHandler(() => taskDeps) as LambdaHandler,
    deleteCluster: deleteClusterHandler(() => taskDeps) as LambdaHandler,
    recordOutcome: recordOutcomeHandler(() => taskDeps) as LambdaHandler,
    parkExecution: parkExecutionHandler(() => wakeDeps) as LambdaHandler,
  };
  const retryMs = options.retryMs ?? 5;
  const wakeDeps: WakeDeps = { store: taskDeps.store, waker: taskDeps.waker!, ...virtual };
  const workflows: LocalWorkflows = new LocalWorkflows({
    handlers,
    publish,
    // The memory of short offerings lasts 50 ms unless a test is about it: other scenarios retry at test speed.
    settings: scale !== undefined ? { ...options.settings } : { shortOfferingSeconds: 0.05, ...options.settings },
    ...(scale !== undefined
      ? { timeScale: scale, scaleWaitsFromInput: true }
      : options.timeScale !== undefined
        ? { timeScale: options.timeScale }
        : {}),
    waitTimeOverrides:
      scale !== undefined
        ? {}
        : {
            WaitForCluster: 20,
            ...(options.timeScale !== undefined && options.pollMs === undefined ? {} : { ParkUntilChange: options.pollMs ?? 20 }),
            WaitForDeletion: 20,
            WaitToRetry: options.waitMs ?? 5,
            ParkToRetry: options.waitMs ?? 5,
            WaitAfterShortage: options.waitMs ?? 5,
            ...Object.fromEntries(STORE_OUTAGE_WAITS.map((state) => [state, options.waitMs ?? 5])),
          },
    retryIntervalOverrides: Object.fromEntries(
      [
        'CreateCluster',
        'ParkToRetry',
        'ParkUntilChange',
        'DescribeCluster',
        'RecordReady',
        'RecordFailure',
        'DeleteCluster',
        'DescribeDeletion',
        'RecordDeleted',
        'RecordDeletionFailure',
      ].map((state) => [state, retryMs]),
    ),
  });
  const submitDeps: SubmitDeps = { store, starter: workflows.starter(), defaultRegion: 'us-east-1', ...virtual };

  /** Resolves with the record once it reaches `status` (polling dynalite). */
  const waitForStatus = async (requestId: string, status: ClusterStatus, timeoutMs = 10_000): Promise<ClusterRecord> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const record = await store.get(requestId);
      if (record?.status === status) return record;
      if (Date.now() > until) throw new Error(`${requestId} did not reach ${status} (is ${record?.status})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  return {
    clock,
    store,
    tableName,
    offeringsTable,
    offerings,
    sagemaker,
    tir,
    providers,
    events,
    workflows,
    taskDeps,
    wakeDeps,
    submitDeps,
    /** Delivers a HyperPod state-change event to the clusterEvent function, as the deployed rule does. */
    deliverClusterEvent: (detail: Record<string, unknown>, detailType = 'SageMaker HyperPod Cluster State Change') =>
      clusterEventHandler(() => wakeDeps)(
        { 'detail-type': detailType, source: 'aws.sagemaker', detail } as never,
        lambdaContext('clusterEvent'),
      ),
    waitForStatus,
    submit: (request: unknown) => submitRequest(submitDeps, request),
    /** Submits and waits for the provision execution to end. */
    async provision(request: { requestId: string }) {
      await submitRequest(submitDeps, request);
      const execution = await workflows.get(request.requestId)!.done;
      return { execution, record: await store.require(request.requestId) };
    },
    async delete(requestId: string) {
      const record = await requestDeletion(submitDeps, requestId);
      const name = record.deleteExecutionArn!.split(':').pop()!;
      const execution = await workflows.get(name)!.done;
      return { execution, record: await store.require(requestId) };
    },
    async close() {
      await workflows.stopAll();
      await Promise.all([sagemaker.close(), tir.close()]);
      if (previousEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_SAGEMAKER;
      else process.env.AWS_ENDPOINT_URL_SAGEMAKER = previousEndpoint;
    },
  };
};

export type Harness = Awaited<ReturnType<typeof startHarness>>;

let counter = 0;
/** A unique, valid request per call. */
export const hyperpodRequest = (overrides: { instanceCount?: number; instanceType?: string } = {}) => {
  const id = `hp-${Date.now().toString(36)}-${++counter}`;
  return {
    requestId: id,
    provider: 'sagemaker' as const,
    cluster: {
      ClusterName: `c-${id}`,
      InstanceGroups: [
        {
          InstanceGroupName: 'workers',
          InstanceCount: overrides.instanceCount ?? 2,
          InstanceType: overrides.instanceType ?? 'ml.g5.2xlarge',
          LifeCycleConfig: { SourceS3Uri: 's3://sagemaker-lifecycle-bucket/scripts/', OnCreate: 'on_create.sh' },
          ExecutionRole: 'arn:aws:iam::123456789012:role/HyperPodExecutionRole',
        },
      ],
    },
  };
};

export const tirRequest = (overrides: { nodes?: number; skuId?: number } = {}) => {
  const id = `tir-${Date.now().toString(36)}-${++counter}`;
  return {
    requestId: id,
    provider: 'tir' as const,
    projectId: 4242,
    location: 'Delhi',
    cluster: {
      name: `c-${id}`,
      image_version_id: 11,
      ssh_key_ids: [7],
      security_group_id: 3,
      sku_id: overrides.skuId ?? 501,
      no_of_nodes: overrides.nodes ?? 2,
      sku_item_price_id: 9001,
    },
  };
};

/**
 * The harness plus what the entry points need: the EventBridge simulator (rejection events go through the real
 * adapter and SDK), and a recording scheduler for startAt / deleteAfter.
 */
export const startEntryHarness = async (options: HarnessOptions = {}) => {
  const base = await startHarness(options);
  const bus = await startEventBridgeSimulator();
  const previous = process.env.AWS_ENDPOINT_URL_EVENTBRIDGE;
  process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = bus.endpoint;
  const schedules: Array<{ action: 'provision' | 'delete'; requestId: string; at: Date }> = [];
  const scheduler = {
    scheduleProvisioning: async (requestId: string, at: Date) => void schedules.push({ action: 'provision', requestId, at }),
    scheduleDeletion: async (requestId: string, at: Date) => void schedules.push({ action: 'delete', requestId, at }),
  };
  base.submitDeps.scheduler = scheduler;
  base.taskDeps.teardown = scheduler;
  const intakeDeps: IntakeDeps = {
    ...base.submitDeps,
    events: createEventBridgePublisher(new EventBridgeClient({})),
    eventBusName: 'test-bus',
  };
  return {
    ...base,
    bus,
    schedules,
    intakeDeps,
    rejections: () => {
      const rejected = bus.entries.filter((e) => e.DetailType === 'Cluster Request Rejected');
      for (const entry of rejected) assertEventMatchesSchema(entry.DetailType, entry.Detail);
      return rejected;
    },
    async close() {
      await base.close();
      await bus.close();
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_EVENTBRIDGE;
      else process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = previous;
    },
  };
};

export type EntryHarness = Awaited<ReturnType<typeof startEntryHarness>>;

/**
 * The SageMaker simulator's timings (deployed ms) for the contention benchmark's HyperPod timing (a create launches,
 * answers the capacity question a launch delay later and a short cluster rolls back), so a state machine test meets
 * the provider the benchmark assumes.
 */
export const hyperPodTimingMs = (t: {
  launchSeconds: number;
  creationSeconds: number;
  rollbackSeconds: number;
  deleteSeconds: number;
}) => ({
  launchAfterMs: t.launchSeconds * 1000,
  readyAfterMs: t.creationSeconds * 1000,
  rollbackMs: t.rollbackSeconds * 1000,
  deleteAfterMs: t.deleteSeconds * 1000,
});
