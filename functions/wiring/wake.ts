/** What parks and wakes workflows needs: the store and Step Functions' SendTaskSuccess. */
import { SFNClient } from '@aws-sdk/client-sfn';
import { createTaskWaker } from '../adapters/step-functions';
import type { WakeDeps } from '../core/wake';
import { SDK_CLIENT_DEFAULTS, once } from '../platform/config';
import { logger } from '../platform/observability';
import { clusterStore } from './store';

export const wakeDeps = once(
  (): WakeDeps => ({
    store: clusterStore(),
    waker: createTaskWaker(new SFNClient({ ...SDK_CLIENT_DEFAULTS })),
    onNotice: (message, details) => logger.info(message, details),
  }),
);
