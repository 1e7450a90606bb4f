/**
 * The one error taxonomy of the provisioner.
 *
 * Every class sets a literal `name`: the state machines match these names in `ErrorEquals`, and bundles are minified,
 * so `constructor.name` cannot be trusted. Adapters translate SDK / HTTP failures into these classes and keep the
 * original as `cause`. Messages never carry a credential (adapters scrub them before constructing an error).
 *
 * Retryable (the workflow waits and tries again until the request's horizon): InsufficientCapacityError,
 * ResourceLimitExceededError (a quota that can fit once usage falls), ResourceInUseError, ProviderThrottledError,
 * ProviderUnavailableError.
 * Terminal (the workflow marks the cluster FAILED): everything else.
 */

export interface ErrorDetails {
  /** The provider's own error code or HTTP status, as received on the wire. */
  providerCode?: string;
  cause?: unknown;
}

export abstract class ProvisionerError extends Error {
  abstract override readonly name: string;
  abstract readonly retryable: boolean;
  readonly providerCode?: string;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    if (details.providerCode !== undefined) this.providerCode = details.providerCode;
  }

  /** What may leave the process: name and message, never the cause chain or a stack. */
  toJSON(): { name: string; message: string; providerCode?: string } {
    return { name: this.name, message: this.message, ...(this.providerCode ? { providerCode: this.providerCode } : {}) };
  }
}

// ---- retryable: the provider may accept the same request later ----

/** The cluster name is taken (possibly by a cluster still being deleted), or another operation holds the cluster. */
export class ResourceInUseError extends ProvisionerError {
  override readonly name = 'ResourceInUseError' as const;
  readonly retryable = true;
}

/** The account quota (HyperPod ResourceLimitExceeded): it fits once the account's other clusters release instances. */
export class ResourceLimitExceededError extends ProvisionerError {
  override readonly name = 'ResourceLimitExceededError' as const;
  readonly retryable = true;
}

/** The provider has no capacity for the instance type now (refused at create, or the cluster rolled back for it). */
export class InsufficientCapacityError extends ProvisionerError {
  override readonly name = 'InsufficientCapacityError' as const;
  readonly retryable = true;
}

/** The provider asked us to slow down (HTTP 429, ThrottlingException). */
export class ProviderThrottledError extends ProvisionerError {
  override readonly name = 'ProviderThrottledError' as const;
  readonly retryable = true;
}

/** 5xx, a timeout, a refused connection, or a condition known to clear by itself (IAM role propagation). */
export class ProviderUnavailableError extends ProvisionerError {
  override readonly name = 'ProviderUnavailableError' as const;
  readonly retryable = true;
}

// ---- terminal: retrying the same request cannot help ----

/** The provider rejected the request as malformed or impossible (ValidationException, TIR 400). */
export class InvalidProviderRequestError extends ProvisionerError {
  override readonly name = 'InvalidProviderRequestError' as const;
  readonly retryable = false;
}

/** Credentials missing, wrong or not allowed (401 / 403, AccessDenied, an unrecognized client). */
export class ProviderAuthFailedError extends ProvisionerError {
  override readonly name = 'ProviderAuthFailedError' as const;
  readonly retryable = false;
}

/** The provider does not know the cluster. For a delete this means it is gone. */
export class ClusterNotFoundError extends ProvisionerError {
  override readonly name = 'ClusterNotFoundError' as const;
  readonly retryable = false;
}

/** The provider reports the cluster itself as failed (HyperPod Failed / RollingBack, TIR failure states). */
export class ClusterFailedError extends ProvisionerError {
  override readonly name = 'ClusterFailedError' as const;
  readonly retryable = false;
}

/** The account quota is below what the request adds: no wait can help (the message says how to raise it). */
export class QuotaTooLowError extends ProvisionerError {
  override readonly name = 'QuotaTooLowError' as const;
  readonly retryable = false;
}

/** The request's retry horizon ended (or its attempt budget ran out) while capacity or quota was still short. */
export class RetryHorizonExceededError extends ProvisionerError {
  override readonly name = 'RetryHorizonExceededError' as const;
  readonly retryable = false;
}

/** The request was cancelled (DELETE while it waited or was being created): the workflow stops. */
export class RequestCancelledError extends ProvisionerError {
  override readonly name = 'RequestCancelledError' as const;
  readonly retryable = false;
}

/** The cluster did not become ready (or gone) before the workflow's deadline. */
export class ProvisioningTimeoutError extends ProvisionerError {
  override readonly name = 'ProvisioningTimeoutError' as const;
  readonly retryable = false;
}

// ---- the record and the request ----

/** An illegal status transition, or the same requestId with a different request: nothing was overwritten. */
export class RecordConflictError extends ProvisionerError {
  override readonly name = 'RecordConflictError' as const;
  readonly retryable = false;
}

/** No record for the requestId. */
export class RecordNotFoundError extends ProvisionerError {
  override readonly name = 'RecordNotFoundError' as const;
  readonly retryable = false;
}

/** A list cursor that this store did not issue, or issued for another query. */
export class InvalidCursorError extends ProvisionerError {
  override readonly name = 'InvalidCursorError' as const;
  readonly retryable = false;
}

export interface FieldError {
  /** RFC 6901 JSON Pointer from the request root. */
  path: string;
  message: string;
}

/** The request breaks the contract. Carries every error found, not just the first. */
export class RequestValidationError extends ProvisionerError {
  override readonly name = 'RequestValidationError' as const;
  readonly retryable = false;
  constructor(
    readonly errors: FieldError[],
    readonly warnings: FieldError[] = [],
  ) {
    super(`Request is invalid: ${errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ')}`);
  }
}

/**
 * Retryable provider errors (every one is in the CreateCluster Retry) and terminal errors (none is retried); the
 * contract test checks both against the state machines.
 */
export const RETRYABLE_PROVIDER_ERRORS = [
  InsufficientCapacityError,
  ResourceInUseError,
  ResourceLimitExceededError,
  ProviderThrottledError,
  ProviderUnavailableError,
] as const;

export const TERMINAL_ERRORS = [
  InvalidProviderRequestError,
  ProviderAuthFailedError,
  ClusterNotFoundError,
  ClusterFailedError,
  QuotaTooLowError,
  RetryHorizonExceededError,
  RequestCancelledError,
  ProvisioningTimeoutError,
  RecordConflictError,
  RecordNotFoundError,
  InvalidCursorError,
  RequestValidationError,
] as const;

export type ProvisionerErrorName =
  | InstanceType<(typeof RETRYABLE_PROVIDER_ERRORS)[number]>['name']
  | InstanceType<(typeof TERMINAL_ERRORS)[number]>['name'];

/** The literal names of all the classes above (the contract test keeps this list equal to them). */
export const ERROR_NAMES: readonly string[] = [
  'InsufficientCapacityError',
  'ResourceInUseError',
  'ResourceLimitExceededError',
  'ProviderThrottledError',
  'ProviderUnavailableError',
  'InvalidProviderRequestError',
  'ProviderAuthFailedError',
  'ClusterNotFoundError',
  'ClusterFailedError',
  'QuotaTooLowError',
  'RetryHorizonExceededError',
  'RequestCancelledError',
  'ProvisioningTimeoutError',
  'RecordConflictError',
  'RecordNotFoundError',
  'InvalidCursorError',
  'RequestValidationError',
];

export const isRetryable = (err: unknown): boolean => err instanceof ProvisionerError && err.retryable;

/** Name and message of anything thrown, for records and events (no stack, no cause). */
export const describeError = (err: unknown): { name: string; message: string } => {
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
};
