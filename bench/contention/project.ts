/**
 * This project's policy, run for real: the shipped provision ASL (statemachines/definitions.js, the committed settings)
 * played on the event queue, its Lambda tasks bound to the core's task functions (createCluster, pollCluster,
 * recordOutcome of functions/core/workflow/), which call the capacity policy, the placements and the shared memory
 * of short offerings themselves. Requests enter through the core's submit path. The ports are in memory: the record
 * store of the unit tests (test/fakes/memory-store.ts), the offerings memory with the DynamoDB adapter's semantics, the
 * simulated provider; each is counted (DynamoDB request units, provider calls).
 */
import { applySettings, provisionClusterAsl } from '../../statemachines/definitions.js';
import type { SageMakerRequest } from '../../functions/core/request';
import type { OfferingMemory } from '../../functions/core/offerings';
import { submitRequest, type SubmitDeps, type WorkflowStarter } from '../../functions/core/submit';
import { onClusterStateChange, park, type TaskWaker, type WakeDeps } from '../../functions/core/wake';
import { createCluster, pollCluster, recordOutcome, type WorkflowDeps } from '../../functions/core/workflow';
import { MemoryStore } from '../../test/fakes/memory-store';
import { AslExecution, type Definition, newCounters, type TaskFunction, TaskTokens } from './asl';
import { DynamoMeter, MeteredOfferings, meteredStore } from './dynamo-meter';
import type { RequestOutcome, StrategyRun } from './outcome';
import { LAMBDA_MS, PRICES, TASK_MEMORY_MB } from './pricing';
import { CapacityWorld, type ProviderKind, SimProvider } from './provider';
import { EventQueue, LivelockError } from './queue';
import { stream } from './rng';
import type { Scenario, Timeline } from './scenarios';

/** A valid request of the scenario: its first region, the others as alternatives (the same cluster there). */
export const requestOf = (scenario: Scenario, requestId: string): SageMakerRequest => {
  const [region, ...others] = scenario.regions;
  return {
    requestId,
    provider: 'sagemaker',
    region: region!,
    retry: { for: `PT${scenario.horizonSeconds}S` },
    cluster: {
      ClusterName: `c-${requestId}`,
      InstanceGroups: [
        {
          InstanceGroupName: 'gpu-workers',
          InstanceCount: scenario.instancesPerRequest,
          InstanceType: scenario.instanceType,
          LifeCycleConfig: { SourceS3Uri: 's3://bench-lifecycle/hyperpod/', OnCreate: 'on_create.sh' },
          ExecutionRole: 'arn:aws:iam::123456789012:role/HyperPodExecutionRole',
        },
      ],
    },
    ...(others.length > 0 ? { alternatives: others.map((r) => ({ provider: 'sagemaker' as const, region: r })) } : {}),
  } as SageMakerRequest;
};

const VARIANTS: Record<string, { strategy: string; label: string }> = {
  queue: { strategy: 'project', label: 'this project (shared memory, probe lease, waiters in submit order, alternatives)' },
  lease: { strategy: 'project-lease', label: 'this project, the memory without the waiters queue (probe lease alone)' },
  false: { strategy: 'project-no-memory', label: 'this project without the shared memory' },
};

export interface ProjectOptions {
  /**
   * The shared memory of short offerings: `queue` as deployed (the probe lease and the waiters' queue in submit
   * order), `lease` the memory without the queue (the port's queue is optional: the lease alone), false none (every
   * request on its own backoff).
   */
  memory: 'queue' | 'lease' | false;
  /** Deployment settings applied to the ASL (statemachines/definitions.js SETTINGS); none: the committed defaults. */
  settings?: Record<string, number>;
  /** The provider's kind: refuses a create it has no capacity for (default), or accepts it and rolls back (HyperPod). */
  kind?: ProviderKind;
}

export const runProject = async (scenario: Scenario, timeline: Timeline, seed: number, options: ProjectOptions): Promise<StrategyRun> => {
  const queue = new EventQueue(timeline.startMs);
  const now = () => queue.now();
  const world = new CapacityWorld(queue);
  const provider = new SimProvider(world, scenario.readySeconds, (seconds, run) => queue.after(seconds, run), options.kind);
  const raw = new MemoryStore({ now });
  const meter = new DynamoMeter();
  const offerings = new MeteredOfferings(meter);
  let events = 0;
  const deps: WorkflowDeps = {
    store: meteredStore(raw, meter),
    provider: () => provider,
    eventBusName: 'bench',
    events: { publish: async (entries) => void (events += entries.length) },
    now,
    random: stream(seed, `${scenario.name}/jitter`),
    ...(options.memory === 'queue' ? { offerings } : {}),
    ...(options.memory === 'lease'
      ? {
          offerings: {
            claim: (keys, holder, at, lease) => offerings.claim(keys, holder, at, lease),
            remember: (keys, until, reason) => offerings.remember(keys, until, reason),
            forget: (keys) => offerings.forget(keys),
          } satisfies OfferingMemory,
        }
      : {}),
  };
  const definition = applySettings(provisionClusterAsl(), 'provision', options.settings ?? {}) as Definition;
  const counters = newCounters();
  const tokens = new TaskTokens();
  const executions = new Map<string, AslExecution>();
  let billedMs = 0;
  /** The requests of the latest task invocations (named when the run livelocks). */
  const recent: string[] = [];
  /** A task function as its Lambda: counted, and billed by the calls it made. */
  const lambda =
    (fn: (deps: WorkflowDeps, input: never) => Promise<unknown>): TaskFunction =>
    async (parameters) => {
      const dynamo = meter.readRequests + meter.writeRequests;
      const calls = provider.totalCalls;
      const requestId = (parameters as { requestId?: string }).requestId;
      if (requestId) {
        recent.push(requestId);
        if (recent.length > 50) recent.shift();
      }
      try {
        return await fn(deps, parameters as never);
      } finally {
        billedMs +=
          LAMBDA_MS.base +
          LAMBDA_MS.dynamo * (meter.readRequests + meter.writeRequests - dynamo) +
          LAMBDA_MS.provider * (provider.totalCalls - calls);
      }
    };
  // SendTaskSuccess of a parked workflow's token: what the waker does (functions/core/wake.ts).
  const waker: TaskWaker = { wake: async (token) => tokens.sendTaskSuccess(token) };
  deps.waker = waker;
  const wakeDeps: WakeDeps = { store: deps.store, waker, now };
  const tasks: Record<string, TaskFunction> = {
    createCluster: lambda(createCluster),
    pollCluster: lambda(pollCluster),
    recordOutcome: lambda(recordOutcome),
    parkExecution: lambda((_deps, input: Parameters<typeof park>[1]) => park(wakeDeps, input)),
  };
  // HyperPod's state-change events (InService, RollingBack, Failed), relayed by the clusterEvent function.
  const clusterEvent = lambda((_deps, detail: Parameters<typeof onClusterStateChange>[1]) => onClusterStateChange(wakeDeps, detail));
  provider.onStateChange = (_requestId, providerId, status) => {
    counters.invocations.clusterEvent = (counters.invocations.clusterEvent ?? 0) + 1;
    return clusterEvent({ ClusterArn: providerId, ClusterStatus: status }).then(() => undefined);
  };
  if (options.memory === 'queue') provider.windowOf = (pool) => offerings.windowOf(pool);
  const starter: WorkflowStarter = {
    async startProvisioning(requestId) {
      const execution = new AslExecution(definition, tasks, queue, counters, tokens);
      executions.set(requestId, execution);
      execution.start({ requestId });
      return { executionArn: `arn:bench:${requestId}`, alreadyStarted: false };
    },
    startDeletion: async () => ({ executionArn: 'arn:bench:delete', alreadyStarted: false }),
    stopProvisioning: async () => undefined,
  } as WorkflowStarter;
  // The submit path writes through the unmetered store: the figures are the provision workflow's.
  const submitDeps: SubmitDeps = { store: raw, starter, defaultRegion: scenario.regions[0]!, now };

  for (const event of timeline.capacity) queue.at(event.atMs, () => world.apply(event));
  for (const arrival of timeline.arrivals)
    queue.at(arrival.atMs, async () => {
      await submitRequest(submitDeps, requestOf(scenario, arrival.requestId));
    });
  // The run ends at the timeline's end: every horizon has passed by then, so an execution still running is a request
  // that kept waiting past its horizon.
  let livelock: StrategyRun['livelock'];
  try {
    await queue.drain(timeline.endMs);
  } catch (err) {
    if (!(err instanceof LivelockError)) throw err;
    livelock = { atMs: queue.ms, message: err.message, requestIds: [...new Set(recent)].sort() };
  }

  const served = new Map(world.served.map((s) => [s.requestId, s]));
  const outcomes: RequestOutcome[] = [];
  for (const arrival of timeline.arrivals) {
    const record = await raw.get(arrival.requestId);
    if (!record) {
      // Never submitted: the run stopped before its arrival (a livelock).
      outcomes.push({
        requestId: arrival.requestId,
        index: arrival.index,
        submittedMs: arrival.atMs,
        endMs: arrival.atMs,
        inHorizon: false,
      });
      continue;
    }
    const s = served.get(arrival.requestId);
    // In the horizon as the user asked for it: from submit (the record's own horizon starts at its first create attempt).
    const horizon = arrival.atMs + scenario.horizonSeconds * 1000;
    outcomes.push({
      requestId: arrival.requestId,
      index: arrival.index,
      submittedMs: arrival.atMs,
      ...(s ? { servedMs: s.atMs, freedMs: s.freedAtMs, createdMs: s.createdAtMs } : {}),
      ...(record.readyAt ? { readyMs: Date.parse(record.readyAt) } : {}),
      endMs: s?.atMs ?? (record.failedAt ? Date.parse(record.failedAt) : timeline.endMs),
      inHorizon: s !== undefined && s.atMs <= horizon,
      attempts: record.attempts,
      ...(record.retryUntil ? { horizonEndMs: Date.parse(record.retryUntil) } : {}),
      ...(!s && executions.get(arrival.requestId)?.status === 'RUNNING' ? { pastHorizon: true } : {}),
    });
  }
  const invocations = Object.values(counters.invocations).reduce((a, b) => a + b, 0);
  const gbSeconds = (billedMs / 1000) * (TASK_MEMORY_MB / 1024);
  const usd =
    counters.transitions * PRICES.stateTransition +
    invocations * PRICES.lambdaRequest +
    gbSeconds * PRICES.lambdaGbSecond +
    meter.rru * PRICES.readRequestUnit +
    meter.wru * PRICES.writeRequestUnit +
    (counters.events + events) * PRICES.event;
  return {
    ...VARIANTS[String(options.memory)]!,
    outcomes,
    calls: { ...provider.calls },
    doubles: provider.doubles.size,
    ...(livelock ? { livelock } : {}),
    multiClusters: timeline.arrivals.filter((a) => provider.clustersOf(a.requestId) > 1).length,
    rolledBack: provider.rolledBack,
    windowRolledBack: provider.windowRolledBack,
    widestWindow: offerings.widest,
    workflow: {
      transitions: counters.transitions,
      invocations,
      gbSeconds,
      readRequests: meter.readRequests,
      writeRequests: meter.writeRequests,
      rru: meter.rru,
      wru: meter.wru,
      events: counters.events + events,
      usd,
      states: counters.states,
    },
  };
};
