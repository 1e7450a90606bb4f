/** Task `DeleteCluster` of the delete machine. */
import { deleteCluster, type WorkflowDeps } from '../../core/workflow';
import { workflowDeps } from '../../shared/deps/workflow';
import { taskHandler } from '../../shared/task-handler';

export const makeHandler = (deps: () => WorkflowDeps) =>
  taskHandler('deleteCluster', (input: { requestId: string }) => deleteCluster(deps(), input));

export const handler = makeHandler(workflowDeps);
