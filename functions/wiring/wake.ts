/** What parks and wakes workflows needs: the store and Step Functions' SendTaskSuccess. */
import type { WakeDeps } from '../core/wake';
import { once } from '../platform/config';
import { logger } from '../platform/observability';
import { lazyTaskWaker } from './lazy';
import { clusterStore } from './store';

export const wakeDeps = once(
  (): WakeDeps => ({
    store: clusterStore(),
    waker: lazyTaskWaker(),
    onNotice: (message, details) => logger.info(message, details),
  }),
);
