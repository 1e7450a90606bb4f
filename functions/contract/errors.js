// @ts-check
/**
 * The error names of the provisioner: what the state machines match in `ErrorEquals`, what records and events carry,
 * and what the HTTP API answers for each. The classes (functions/core/errors.ts) are declared from these names, so a
 * class can only carry a name listed here.
 *
 * retryable: the workflow waits and tries again until the request's horizon (never retried by a Step Functions
 * Retry by name); the others end the request. The pre-flight plan's and the notifier's errors never reach the
 * workflow: each is handled where it arises, as its meaning says, and none is retryable in that sense.
 *
 * Not listed, on purpose: errors that never leave the platform or an adapter and name nothing of the product —
 * ConfigError (functions/platform/config.ts: a deployment without a variable fails at start), HttpError
 * (functions/platform/middleware/http.ts: the HTTP layer's own answers, 415, 413, malformed bodies, which the docs list
 * beside these), TirWireError (functions/adapters/tir-wire.ts: the scrubbed wire failure kept as the `cause` of one of
 * these). PreflightFailedError (functions/core/errors.ts) is a RequestValidationError and carries that name.
 */
export const ERRORS = /** @type {const} */ ({
  InsufficientCapacityError: { retryable: true, meaning: 'The provider has no capacity for the instance type now.' },
  ResourceInUseError: { retryable: true, meaning: 'The cluster name is taken, or another operation holds the cluster.' },
  ResourceLimitExceededError: { retryable: true, meaning: 'The account quota is used up; it fits once usage falls.' },
  ProviderThrottledError: { retryable: true, meaning: 'The provider asked us to slow down.' },
  ProviderUnavailableError: { retryable: true, meaning: 'A 5xx, a timeout, a refused connection, or IAM propagation.' },
  InvalidProviderRequestError: { retryable: false, meaning: 'The provider rejected the request as malformed or impossible.' },
  ProviderAuthFailedError: { retryable: false, meaning: 'Credentials missing, wrong or not allowed.' },
  ClusterNotFoundError: { retryable: false, meaning: 'The provider does not know the cluster (for a delete: gone).' },
  ClusterFailedError: { retryable: false, meaning: 'The provider reports the cluster failed for a reason other than capacity.' },
  QuotaTooLowError: { retryable: false, meaning: 'The account quota is below what the request adds: no wait can help.' },
  RetryHorizonExceededError: { retryable: false, meaning: 'The retry horizon (or the attempt budget) ended while still short.' },
  RequestCancelledError: { retryable: false, meaning: 'A DELETE cancelled the request.' },
  ProvisioningTimeoutError: { retryable: false, meaning: 'The cluster was not ready (or gone) before the deadline.' },
  StoreUnavailableError: {
    retryable: false,
    infrastructure: true,
    meaning: 'The record store (DynamoDB) is throttled or unavailable: every task retries it for a few minutes.',
    http: { status: 503, code: 'ServiceUnavailable' },
  },
  EventPublishError: {
    retryable: false,
    infrastructure: true,
    meaning: 'The event bus refused or did not take a completion event: the recording task retries it for a few minutes.',
  },
  RecordConflictError: {
    retryable: false,
    meaning: 'An illegal status change, or the same requestId with another request.',
    http: { status: 409, code: 'Conflict' },
  },
  RecordNotFoundError: { retryable: false, meaning: 'No record for the requestId.', http: { status: 404, code: 'NotFound' } },
  InvalidCursorError: {
    retryable: false,
    meaning: 'A list cursor this store did not issue.',
    http: { status: 400, code: 'InvalidCursor' },
  },
  RequestValidationError: {
    retryable: false,
    meaning: 'The request breaks the contract.',
    http: { status: 400, code: 'ValidationFailed' },
  },
  CheckSkippedError: {
    retryable: false,
    meaning:
      'A pre-flight check could not run (access denied, the service unreachable, throttled or too slow): it is skipped, never failed.',
  },
  TirAuthRejectedError: {
    retryable: false,
    meaning: 'TIR refused the credentials (401 / 403) to a pre-flight read: the plan fails its credentials check.',
  },
  TirProjectRejectedError: {
    retryable: false,
    meaning: 'TIR refused the project or location (another 4xx) to a pre-flight read: the plan fails its project check.',
  },
  PlanUnavailableError: {
    retryable: false,
    meaning:
      'The plan function could not be invoked, failed, or answered unreadably: a submit goes on without the plan, a dry run answers 503.',
  },
  NotifyTransientError: {
    retryable: false,
    meaning: 'A notification that may pass if sent again (5xx, 429, a timeout, a refused connection): the notifier sends it again itself.',
  },
  NotifyRejectedError: {
    retryable: false,
    meaning: 'A notification that will not pass as it is (4xx, a refused address, a missing secret, no such topic).',
  },
  NotificationFailedError: {
    retryable: false,
    meaning: 'Some target was not told after the retries: the notify invocation fails (Lambda retries it, then its dead-letter queue).',
  },
});

/** @typedef {keyof typeof ERRORS} ErrorName */

export const ERROR_NAMES = /** @type {ErrorName[]} */ (Object.keys(ERRORS));
