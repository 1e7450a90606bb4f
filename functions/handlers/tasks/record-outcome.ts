/** Tasks `RecordReady`, `RecordFailure`, `RecordDeleted` and `RecordDeletionFailure`. */
import { recordOutcome, type CaughtError, type Outcome, type WorkflowDeps } from '../../core/workflow';
import { workflowDepsWithTeardown } from '../../wiring/teardown';
import { taskHandler } from '../../platform/middleware/task';

export const makeHandler = (deps: () => WorkflowDeps) =>
  taskHandler('recordOutcome', (input: { requestId: string; outcome: Outcome; error?: CaughtError }) => recordOutcome(deps(), input));

export const handler = makeHandler(workflowDepsWithTeardown);
