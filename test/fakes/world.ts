/**
 * Everything a unit test of the core use cases needs, in memory: the store, both providers, a starter, the schedulers
 * and a hand-moved clock, wired into WorkflowDeps and SubmitDeps; plus valid requests of each provider.
 */
import type { ProviderName, SageMakerInstanceGroup, SageMakerRequest, TirRequest } from '../../functions/core/request';
import type { ClusterRecord } from '../../functions/core/store';
import { submitRequest, type ProvisionScheduler, type SubmitDeps, type WorkflowStarter } from '../../functions/core/submit';
import type { RetryPolicy, TeardownScheduler, WorkflowDeps } from '../../functions/core/workflow';
import { testClock, type TestClock } from './clock';
import { MemoryProvider, type MemoryProviderOptions } from './memory-provider';
import { MemoryStore } from './memory-store';

export const DEFAULT_REGION = 'us-east-1';

export const p5Group = (overrides: Partial<SageMakerInstanceGroup> = {}): SageMakerInstanceGroup => ({
  InstanceGroupName: 'gpu-workers',
  InstanceCount: 4,
  InstanceType: 'ml.p5.48xlarge',
  LifeCycleConfig: { SourceS3Uri: 's3://unit-lifecycle/hyperpod/', OnCreate: 'on_create.sh' },
  ExecutionRole: 'arn:aws:iam::123456789012:role/HyperPodExecutionRole',
  ...overrides,
});

export const sagemakerRequest = (overrides: Partial<SageMakerRequest> = {}): SageMakerRequest => ({
  requestId: 'unit-sm-001',
  provider: 'sagemaker',
  region: DEFAULT_REGION,
  cluster: { ClusterName: 'unit-p5', InstanceGroups: [p5Group()] },
  ...overrides,
});

export const tirRequest = (overrides: Partial<TirRequest> = {}): TirRequest => ({
  requestId: 'unit-tir-001',
  provider: 'tir',
  projectId: 12345,
  location: 'Delhi',
  cluster: {
    name: 'unit-tir',
    image_version_id: 101,
    ssh_key_ids: [2001],
    security_group_id: 301,
    sku_id: 401,
    no_of_nodes: 2,
    sku_item_price_id: 501,
  },
  ...overrides,
});

/**
 * The capacity backoff the tests use unless they are about it: 30 s doubling to 600 s, 100 attempts (enough that the
 * default six-hour horizon does not stretch the cap: see capacity.effectiveCap).
 */
export const RETRY: RetryPolicy = { IntervalSeconds: 30, BackoffRate: 2, MaxDelaySeconds: 600, MaxAttempts: 100 };

export type StartCall =
  | { op: 'startProvisioning'; requestId: string; executionName: string }
  | { op: 'startDeletion'; requestId: string; executionName: string }
  | { op: 'stopProvisioning'; executionArn: string; cause: string };

/** Step Functions as the submit path sees it: execution names are unique, a second start is `alreadyStarted`. */
export class FakeStarter implements WorkflowStarter {
  readonly calls: StartCall[] = [];
  /** Runs before a start answers (the workflow it starts may move the record at once). */
  onStart?: (call: StartCall) => Promise<void> | void;
  private readonly started = new Set<string>();
  private readonly refusals: Error[] = [];

  /** The next start (of either workflow) throws `err`. */
  refuseNextStart(err: Error): this {
    this.refusals.push(err);
    return this;
  }

  async startProvisioning(requestId: string, executionName = requestId) {
    const call: StartCall = { op: 'startProvisioning', requestId, executionName };
    this.calls.push(call);
    await this.onStart?.(call);
    return this.start(`provision-cluster:${executionName}`);
  }

  async startDeletion(requestId: string, executionName: string) {
    const call: StartCall = { op: 'startDeletion', requestId, executionName };
    this.calls.push(call);
    await this.onStart?.(call);
    return this.start(`delete-cluster:${executionName}`);
  }

  async stopProvisioning(executionArn: string, cause: string) {
    this.calls.push({ op: 'stopProvisioning', executionArn, cause });
  }

  ops(): string[] {
    return this.calls.map((c) => c.op);
  }

  private start(name: string) {
    const refusal = this.refusals.shift();
    if (refusal) return Promise.reject(refusal);
    const alreadyStarted = this.started.has(name);
    this.started.add(name);
    return Promise.resolve({ executionArn: `arn:aws:states:us-east-1:123456789012:execution:${name}`, alreadyStarted });
  }
}

export class FakeProvisionScheduler implements ProvisionScheduler {
  readonly calls: Array<{ requestId: string; at: string }> = [];
  async scheduleProvisioning(requestId: string, at: Date) {
    this.calls.push({ requestId, at: at.toISOString() });
  }
}

export class FakeTeardown implements TeardownScheduler {
  readonly calls: Array<{ requestId: string; at: string }> = [];
  private readonly refusals: Error[] = [];
  refuseNext(err: Error): this {
    this.refusals.push(err);
    return this;
  }
  async scheduleDeletion(requestId: string, at: Date) {
    this.calls.push({ requestId, at: at.toISOString() });
    const refusal = this.refusals.shift();
    if (refusal) throw refusal;
  }
}

export interface World {
  clock: TestClock;
  store: MemoryStore;
  providers: Record<ProviderName, MemoryProvider>;
  starter: FakeStarter;
  scheduler: FakeProvisionScheduler;
  teardown: FakeTeardown;
  warnings: Array<{ message: string; details: Record<string, unknown> }>;
  workflow: WorkflowDeps;
  submit: SubmitDeps;
  /**
   * Submits a valid request (ACCEPTED, its provision execution started) and forgets the starter's calls, so a workflow
   * test starts from what the submit path leaves.
   */
  accept(request: SageMakerRequest | TirRequest): Promise<ClusterRecord>;
}

export const world = (options: { start?: string; random?: number; provider?: MemoryProviderOptions } = {}): World => {
  const clock = testClock(options.start);
  const store = new MemoryStore({ now: clock.now });
  const providers: Record<ProviderName, MemoryProvider> = {
    sagemaker: new MemoryProvider('sagemaker', { now: clock.now, ...options.provider }),
    tir: new MemoryProvider('tir', { now: clock.now, ...options.provider }),
  };
  const starter = new FakeStarter();
  const scheduler = new FakeProvisionScheduler();
  const teardown = new FakeTeardown();
  const warnings: World['warnings'] = [];
  const random = options.random ?? 0.5;
  const workflow: WorkflowDeps = {
    store,
    provider: (name) => providers[name],
    eventBusName: 'unit-bus',
    teardown,
    now: clock.now,
    random: () => random,
    onWarning: (message, details) => warnings.push({ message, details }),
  };
  const submit: SubmitDeps = { store, starter, scheduler, defaultRegion: DEFAULT_REGION, now: clock.now };
  return {
    clock,
    store,
    providers,
    starter,
    scheduler,
    teardown,
    warnings,
    workflow,
    submit,
    async accept(request) {
      const { record } = await submitRequest(submit, request);
      if (record.status !== 'ACCEPTED') throw new Error(`${record.requestId} was submitted ${record.status}`);
      starter.calls.length = 0;
      return record;
    },
  };
};
