/**
 * The one error taxonomy of the provisioner. The names, what each means and whether the workflow waits on it are the
 * contract's (functions/contract/errors.js); the classes here are declared from those names.
 *
 * Every class carries a literal `name`: the state machines match these names in `ErrorEquals`, and bundles are
 * minified, so `constructor.name` cannot be trusted. Adapters translate SDK / HTTP failures into these classes and keep
 * the original as `cause`. Messages never carry a credential (adapters scrub them before constructing an error).
 */
import { ERRORS, ERROR_NAMES, type ErrorName } from '../contract/errors.js';
import type { NotifyReport } from './notify/delivery';
import type { PlanReport } from './plan';

export { ERROR_NAMES };
export type { ErrorName };

export interface ErrorDetails {
  /** The provider's own error code or HTTP status, as received on the wire. */
  providerCode?: string;
  cause?: unknown;
}

export abstract class ProvisionerError extends Error {
  abstract override readonly name: ErrorName;
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

/** The base class of the error named `name`, with that literal name and the contract's retryable flag. */
const named = <N extends ErrorName>(name: N) => {
  abstract class Named extends ProvisionerError {
    override readonly name: N = name;
    readonly retryable: boolean = ERRORS[name].retryable;
  }
  return Named;
};

// ---- retryable: the provider may accept the same request later ----

/** The cluster name is taken (possibly by a cluster still being deleted), or another operation holds the cluster. */
export class ResourceInUseError extends named('ResourceInUseError') {}

/** The account quota (HyperPod ResourceLimitExceeded): it fits once the account's other clusters release instances. */
export class ResourceLimitExceededError extends named('ResourceLimitExceededError') {}

/** The provider has no capacity for the instance type now (refused at create, or the cluster rolled back for it). */
export class InsufficientCapacityError extends named('InsufficientCapacityError') {}

/** The provider asked us to slow down (HTTP 429, ThrottlingException). */
export class ProviderThrottledError extends named('ProviderThrottledError') {}

/** 5xx, a timeout, a refused connection, or a condition known to clear by itself (IAM role propagation). */
export class ProviderUnavailableError extends named('ProviderUnavailableError') {}

// ---- terminal: retrying the same request cannot help ----

/** The provider rejected the request as malformed or impossible (ValidationException, TIR 400). */
export class InvalidProviderRequestError extends named('InvalidProviderRequestError') {}

/** Credentials missing, wrong or not allowed (401 / 403, AccessDenied, an unrecognized client). */
export class ProviderAuthFailedError extends named('ProviderAuthFailedError') {}

/** The provider does not know the cluster. For a delete this means it is gone. */
export class ClusterNotFoundError extends named('ClusterNotFoundError') {}

/** The provider reports the cluster itself as failed (HyperPod Failed / RollingBack, TIR failure states). */
export class ClusterFailedError extends named('ClusterFailedError') {}

/** The account quota is below what the request adds: no wait can help (the message says how to raise it). */
export class QuotaTooLowError extends named('QuotaTooLowError') {}

/** The request's retry horizon ended (or its attempt budget ran out) while capacity or quota was still short. */
export class RetryHorizonExceededError extends named('RetryHorizonExceededError') {}

/** The request was cancelled (DELETE while it waited or was being created): the workflow stops. */
export class RequestCancelledError extends named('RequestCancelledError') {}

/** The cluster did not become ready (or gone) before the workflow's deadline. */
export class ProvisioningTimeoutError extends named('ProvisioningTimeoutError') {}

// ---- the record and the request ----

/** The record store is throttled or unavailable (a transient AWS failure): the state machines retry every task on it. */
export class StoreUnavailableError extends named('StoreUnavailableError') {}
/** The bus did not take an event (refused, throttled or unreachable). */
export class EventPublishError extends named('EventPublishError') {}

/** An illegal status transition, or the same requestId with a different request: nothing was overwritten. */
export class RecordConflictError extends named('RecordConflictError') {}

/** No record for the requestId. */
export class RecordNotFoundError extends named('RecordNotFoundError') {}

/** A list cursor that this store did not issue, or issued for another query. */
export class InvalidCursorError extends named('InvalidCursorError') {}

export interface FieldError {
  /** RFC 6901 JSON Pointer from the request root. */
  path: string;
  message: string;
}

/** The request breaks the contract. Carries every error found, not just the first. */
export class RequestValidationError extends named('RequestValidationError') {
  constructor(
    readonly errors: FieldError[],
    readonly warnings: FieldError[] = [],
  ) {
    super(`Request is invalid: ${errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ')}`);
  }
}

// ---- the pre-flight plan (./plan.ts): a check's outcome, never the workflow's ----

/**
 * A check could not run: access denied, the service unreachable, throttled, or too slow. Adapters throw it; the check
 * is `skipped` with this message.
 */
export class CheckSkippedError extends named('CheckSkippedError') {}

/** TIR refused the credentials (401/403) to a pre-flight read. */
export class TirAuthRejectedError extends named('TirAuthRejectedError') {}

/** TIR refused the project or location (another 4xx) to a pre-flight read. */
export class TirProjectRejectedError extends named('TirProjectRejectedError') {}

/** The Planner could not answer (the plan function not invoked, failed, or unreadable). */
export class PlanUnavailableError extends named('PlanUnavailableError') {}

/**
 * The failing checks refused a submit that asked for the plan first (`preflight`). Nothing was recorded or created. A
 * RequestValidationError (and named so): the failed checks are the field errors, each at its pointer.
 */
export class PreflightFailedError extends RequestValidationError {
  constructor(
    errors: FieldError[],
    readonly report: PlanReport,
  ) {
    super(errors);
  }
}

// ---- the notifier (./notify/): a delivery's outcome ----

/** A delivery that may pass if tried again (5xx, 429, a timeout, a refused connection, throttling). */
export class NotifyTransientError extends named('NotifyTransientError') {}

/** A delivery that will not pass as it is (4xx, a refused address, a missing secret, a topic that is not there). */
export class NotifyRejectedError extends named('NotifyRejectedError') {}

/** Some target could not be told after the in-function retries: the invocation fails (Lambda retries, then the DLQ). */
export class NotificationFailedError extends named('NotificationFailedError') {
  constructor(
    message: string,
    /** What happened to each target (for the handler's log lines). */
    readonly report: NotifyReport,
  ) {
    super(message);
  }
}

export const isRetryable = (err: unknown): boolean => err instanceof ProvisionerError && err.retryable;

/** Name and message of anything thrown, for records and events (no stack, no cause). */
export const describeError = (err: unknown): { name: string; message: string } => {
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
};
