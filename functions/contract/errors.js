// @ts-check
/**
 * The error names of the provisioner: what the state machines match in `ErrorEquals`, what records and events carry,
 * and what the HTTP API answers for each. The classes (functions/core/errors.ts) are declared from these names, so a
 * class can only carry a name listed here.
 *
 * retryable: the workflow waits and tries again until the request's horizon (never retried by a Step Functions
 * Retry by name); the others end the request.
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
});

/** @typedef {keyof typeof ERRORS} ErrorName */

export const ERROR_NAMES = /** @type {ErrorName[]} */ (Object.keys(ERRORS));
