/**
 * The reconciler's dependencies: the store, the Step Functions starter (start and describe), the scheduler, the bus,
 * and HyperPod's ListClusters with SendTaskSuccess (a workflow whose state-change event was lost is woken).
 */
import { ENV } from '../contract/environment.js';
import type { ReconcileDeps } from '../core/reconcile';
import { once, required } from '../platform/config';
import { lazyEventPublisher, lazyTaskWaker } from './lazy';
import { providerFor } from './providers';
import { lazyScheduler } from './scheduler';
import { clusterStore } from './store';
import { workflowStarter } from './submit';

export const reconcileDeps = once(
  (): ReconcileDeps => ({
    store: clusterStore(),
    starter: workflowStarter(),
    scheduler: lazyScheduler,
    events: { publisher: lazyEventPublisher(), busName: required(ENV.eventBusName) },
    watch: { provider: providerFor, waker: lazyTaskWaker() },
  }),
);
