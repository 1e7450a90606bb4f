/** Dependencies of the submit path (HTTP, SQS, EventBridge, schedules). */
import { createEventBridgePublisher } from '../adapters/eventbridge';
import { createStepFunctionsStarter } from '../adapters/step-functions';
import type { IntakeDeps } from '../core/intake';
import type { SubmitDeps } from '../core/submit';
import { once, required } from '../platform/config';
import { lazyScheduler } from './scheduler';
import { clusterStore } from './store';

/**
 * The Step Functions starter. Each function's role may start only some machines, and only those ARNs are in its
 * environment: they are read when first used, and named when missing.
 */
export const workflowStarter = once(() =>
  createStepFunctionsStarter({
    provisionStateMachineArn: () => required('PROVISION_STATE_MACHINE_ARN'),
    deleteStateMachineArn: () => required('DELETE_STATE_MACHINE_ARN'),
  }),
);

export const submitDeps = once(
  (): SubmitDeps => ({
    store: clusterStore(),
    starter: workflowStarter(),
    scheduler: lazyScheduler,
    defaultRegion: required('AWS_REGION'),
  }),
);

export const intakeDeps = once(
  (): IntakeDeps => ({
    ...submitDeps(),
    events: createEventBridgePublisher(),
    eventBusName: required('EVENT_BUS_NAME'),
  }),
);
