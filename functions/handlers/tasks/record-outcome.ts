/** Tasks `RecordReady`, `RecordFailure`, `RecordDeleted` and `RecordDeletionFailure`. */
import { recordOutcome, type CaughtError, type Outcome, type WorkflowDeps } from '../../core/workflow';
import { workflowDeps } from '../../shared/deps/workflow';
import { taskHandler } from '../../shared/task-handler';

export const makeHandler = (deps: () => WorkflowDeps) =>
  taskHandler('recordOutcome', (input: { requestId: string; outcome: Outcome; error?: CaughtError }) => recordOutcome(deps(), input));

export const handler = makeHandler(workflowDeps);
