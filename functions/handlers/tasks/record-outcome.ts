/** Tasks `RecordReady`, `RecordFailure`, `RecordDeleted` and `RecordDeletionFailure`. */
import { recordOutcome, type CaughtError, type Outcome, type WorkflowDeps } from '../../core/workflow';
import { workflowDepsWithTeardown } from '../../shared/deps/teardown';
import { taskHandler } from '../../shared/task-handler';

export const makeHandler = (deps: () => WorkflowDeps) =>
  taskHandler('recordOutcome', (input: { requestId: string; outcome: Outcome; error?: CaughtError }) => recordOutcome(deps(), input));

export const handler = makeHandler(workflowDepsWithTeardown);
