/**
 * What the state machines' Lambda tasks do. No SDK here: the store, the providers and the teardown scheduler come in
 * as ports. Each function is safe to run twice for the same input (Step Functions retries a task whose Lambda timed
 * out or crashed), and every error it throws is one of ../errors.ts, so Retry / Catch can match it by name.
 *
 *   create.ts         the create step (placements, the shared memory, adoption)
 *   poll.ts           the wait loop of both workflows (and a cluster the provider reports failed)
 *   delete.ts         the delete step
 *   outcome.ts        how a workflow ended, recorded and announced (announce.ts: the completion event)
 *   capacity-wait.ts  after a failed attempt: the next placement, or the wait for capacity
 *   queue.ts          the offering queues and the memory of short offerings
 *   discard.ts        clusters given up or found at the provider
 *   record.ts         what the tasks read off a record; deps.ts: the ports and settings
 */
export type { CreateResult, RetryPolicy, TeardownScheduler, WorkflowDeps } from './deps';
export { locationOf, placementsOfRecord } from './record';
export { CLEANUP_POLL_SECONDS, createCluster } from './create';
export { HYPERPOD_WAITS, pollCluster, type PollInput, type PollResult } from './poll';
export { deleteCluster } from './delete';
export { causeMessage, recordOutcome, type CaughtError, type Outcome, type OutcomeResult } from './outcome';
export { announce, announcementPending } from './announce';
