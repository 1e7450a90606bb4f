/** Task `DeleteCluster` of the delete machine. */
import { deleteCluster, type WorkflowDeps } from '../../core/workflow';
import { workflowDeps } from '../../wiring/workflow';
import { taskHandler } from '../../platform/middleware/task';

export const makeHandler = (deps: () => WorkflowDeps) =>
  taskHandler('deleteCluster', (input: { requestId: string }) => deleteCluster(deps(), input));

export const handler = makeHandler(workflowDeps);
