/** Task `CreateCluster` of the provision machine. */
import { createCluster, type RetryPolicy, type WorkflowDeps } from '../../core/workflow';
import { workflowDeps } from '../../shared/deps/workflow';
import { taskHandler } from '../../shared/task-handler';

export const makeHandler = (deps: () => WorkflowDeps) =>
  taskHandler('createCluster', (input: { requestId: string; capacityRetry: RetryPolicy }) => createCluster(deps(), input));

export const handler = makeHandler(workflowDeps);
