/** The reconciler's dependencies: the store, the Step Functions starter (start and describe), the scheduler. */
import type { ReconcileDeps } from '../core/reconcile';
import { once } from '../platform/config';
import { lazyScheduler } from './scheduler';
import { clusterStore } from './store';
import { workflowStarter } from './submit';

export const reconcileDeps = once((): ReconcileDeps => ({ store: clusterStore(), starter: workflowStarter(), scheduler: lazyScheduler }));
