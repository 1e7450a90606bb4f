/** Dependencies of the submit path (HTTP, SQS, EventBridge, schedules). */
import { createEventBridgePublisher } from '../adapters/eventbridge';
import { createStepFunctionsStarter } from '../adapters/step-functions';
import type { IntakeDeps } from '../core/intake';
import type { SubmitDeps } from '../core/submit';
import { once, required } from '../platform/config';
import { lazyScheduler } from './scheduler';
import { clusterStore } from './store';

/** Each function's role may start only some machines, and only those ARNs are in its environment. */
export const submitDeps = once(
  (): SubmitDeps => ({
    store: clusterStore(),
    starter: createStepFunctionsStarter({
      // Read when first used, and named when missing: each function's environment holds only the ARNs it may start.
      provisionStateMachineArn: () => required('PROVISION_STATE_MACHINE_ARN'),
      deleteStateMachineArn: () => required('DELETE_STATE_MACHINE_ARN'),
    }),
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
