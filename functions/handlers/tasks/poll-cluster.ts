/** Tasks `DescribeCluster` (provision machine) and `DescribeDeletion` (delete machine). */
import { pollCluster, type PollInput, type WorkflowDeps } from '../../core/workflow';
import { workflowDeps } from '../../wiring/workflow';
import { taskHandler } from '../../platform/middleware/task';

export const makeHandler = (deps: () => WorkflowDeps) => taskHandler('pollCluster', (input: PollInput) => pollCluster(deps(), input));

export const handler = makeHandler(workflowDeps);
