/**
 * The reconciler's dependencies: the store, the Step Functions starter (start and describe), the scheduler, the bus,
 * and HyperPod's ListClusters with SendTaskSuccess (a workflow whose state-change event was lost is woken).
 */
import { ENV } from '../contract/environment.js';
import type { ReconcileDeps } from '../core/reconcile';
import { createEventBridgePublisher } from '../adapters/eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { createTaskWaker } from '../adapters/step-functions';
import { SDK_CLIENT_DEFAULTS, once, required } from '../platform/config';
import { providerFor } from './providers';
import { lazyScheduler } from './scheduler';
import { clusterStore } from './store';
import { workflowStarter } from './submit';

export const reconcileDeps = once(
  (): ReconcileDeps => ({
    store: clusterStore(),
    starter: workflowStarter(),
    scheduler: lazyScheduler,
    events: { publisher: createEventBridgePublisher(), busName: required(ENV.eventBusName) },
    watch: { provider: providerFor, waker: createTaskWaker(new SFNClient({ ...SDK_CLIENT_DEFAULTS })) },
  }),
);
