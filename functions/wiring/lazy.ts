/**
 * The ports whose adapters are imported when first called, not at init: each adapter with its SDK client is a chunk
 * of its own in the split bundles (serverless.yml `custom.esbuild.splitting`), read only by an invocation that uses it
 * (a shortage that needs the subnets' zones, a request that waits, a plan's S3 check). Only DynamoDB, which nearly
 * every invocation uses, is loaded at init. `npm run bench -- coldstart` measures what this saves.
 */
import type { EventBridgeClientConfig } from '@aws-sdk/client-eventbridge';
import type { ZoneLookup } from '../core/az-hints';
import type { EventPublisher } from '../core/events';
import type { TrainingPlanOfferings } from '../core/offers';
import type { Planner } from '../core/plan';
import type { ClusterProvider } from '../core/provider';
import type { ExecutionInspector } from '../core/reconcile';
import type { ProvisionScheduler, WorkflowStarter } from '../core/submit';
import type { TaskWaker } from '../core/wake';
import type { TeardownScheduler } from '../core/workflow';
import type { HyperPodProviderOptions } from '../adapters/hyperpod';
import type { TirProviderOptions } from '../adapters/tir';
import type { LambdaPlannerOptions } from '../adapters/lambda-planner';
import type { SchedulerOptions } from '../adapters/scheduler';
import type { StepFunctionsStarterOptions } from '../adapters/step-functions';
import { lazily } from '../platform/config';

/** Step Functions SendTaskSuccess. */
export const lazyTaskWaker = (): TaskWaker => lazily(() => import('./clients/step-functions').then((m) => m.taskWaker()), ['wake']);

/** Step Functions StartExecution / StopExecution / DescribeExecution. */
export const lazyStarter = (options: Omit<StepFunctionsStarterOptions, 'client'>): WorkflowStarter & ExecutionInspector =>
  lazily(
    () => import('./clients/step-functions').then((m) => m.stepFunctionsStarter(options) as Required<WorkflowStarter> & ExecutionInspector),
    ['startProvisioning', 'startDeletion', 'stopProvisioning', 'isRunning'],
  );

/** EventBridge PutEvents. */
export const lazyEventPublisher = (config: EventBridgeClientConfig = {}): EventPublisher =>
  lazily(() => import('./clients/eventbridge').then((m) => m.eventPublisher(config)), ['publish']);

/** EventBridge Scheduler: the schedules of startAt and deleteAfter. */
export const lazySchedulerOf = (options: () => SchedulerOptions): ProvisionScheduler & TeardownScheduler =>
  lazily(() => import('../adapters/scheduler').then((m) => m.createScheduler(options())), ['scheduleProvisioning', 'scheduleDeletion']);

/** The plan function, invoked synchronously (Lambda Invoke). */
export const lazyPlanner = (options: LambdaPlannerOptions): Planner =>
  lazily(() => import('../adapters/lambda-planner').then((m) => m.createLambdaPlanner(options)), ['plan']);

/** EC2 DescribeSubnets: the zones of a shortage's subnets. */
export const lazyZoneLookup = (): ZoneLookup =>
  lazily(() => import('../adapters/zones-aws').then((m) => m.createAwsZoneLookup()), ['subnetZones']);

/** SageMaker SearchTrainingPlanOfferings: suggestions for a long wait. */
export const lazyTrainingPlanOfferings = (): TrainingPlanOfferings =>
  lazily(() => import('../adapters/training-plans-aws').then((m) => m.createAwsTrainingPlanOfferings()), ['search']);

/** HyperPod over the SageMaker SDK. Its name is known at once; it has `statuses` (it announces state changes). */
export const lazyHyperPodProvider = (options: () => HyperPodProviderOptions): ClusterProvider => ({
  ...lazily(
    () => import('../adapters/hyperpod').then((m) => m.createHyperPodProvider(options()) as Required<ClusterProvider>),
    ['create', 'describe', 'delete', 'findByName', 'listOwned', 'statuses'],
  ),
  name: 'sagemaker',
});

/**
 * TIR over fetch: its adapter and its wire format are read by the first TIR call, so a function that serves only
 * HyperPod requests never loads them.
 */
export const lazyTirProvider = (options: () => TirProviderOptions): ClusterProvider => ({
  ...lazily(
    () => import('../adapters/tir').then((m) => m.createTirProvider(options()) as Required<ClusterProvider>),
    ['create', 'describe', 'delete', 'findByName', 'listOwned'],
  ),
  name: 'tir',
  capacityKnownAtCreate: true,
});
