/** Task `CreateCluster` of the provision machine. */
import { createCluster, type RetryPolicy, type WorkflowDeps } from '../../core/workflow';
import { workflowDeps } from '../../wiring/workflow';
import { taskHandler } from '../../platform/middleware/task';

export const makeHandler = (deps: () => WorkflowDeps) =>
  taskHandler('createCluster', (input: { requestId: string; capacityRetry: RetryPolicy }) => createCluster(deps(), input));

export const handler = makeHandler(workflowDeps);
