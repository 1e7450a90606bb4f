/** HyperPod's errors on the wire as the core's named errors: one table row per wire form, first match wins. */
import { isServerError, isThrottlingError, isTransientError } from '@smithy/service-error-classification';
import {
  ClusterNotFoundError,
  InvalidProviderRequestError,
  ProviderAuthFailedError,
  ProviderThrottledError,
  ProviderUnavailableError,
  ProvisionerError,
  ResourceInUseError,
  ResourceLimitExceededError,
  InsufficientCapacityError,
  type ErrorDetails,
} from '../core/errors';
import { isCapacityShortage } from '../core/capacity';

// ---- the error table: one row per wire form, first match wins ----

/** The parts of an SDK error the table looks at. */
export interface HyperPodWireError {
  /** The AWS error name (`__type`), or the Node error name for a failure without an answer. */
  name: string;
  message: string;
  /** HTTP status, when the service answered. */
  status?: number;
  /** Node's error code for a connection failure (`ECONNREFUSED`, ...). */
  code?: string;
  /** The error as thrown, for the SDK's own classifiers (@smithy/service-error-classification). */
  error: SdkErrorLike;
}

/** What the SDK's classifiers read: name, code, `$metadata.httpStatusCode`, `$retryable`, `cause`. */
export type SdkErrorLike = Parameters<typeof isTransientError>[0];

export type ErrorClass = new (message: string, details?: ErrorDetails) => ProvisionerError;

export interface ErrorRow<W> {
  match: (wire: W) => boolean;
  /** What the row matches, in words (the docs' table is generated from it). */
  wire: string;
  to: ErrorClass;
  reason: string;
}

export const named =
  (...names: string[]) =>
  (w: HyperPodWireError): boolean =>
    names.includes(w.name);

export const CANNOT_ASSUME_ROLE = /(cannot|could not|unable to) assume .*role/i;

export const HYPERPOD_ERROR_TABLE: readonly ErrorRow<HyperPodWireError>[] = [
  {
    match: named('ResourceInUse'),
    wire: '`ResourceInUse`',
    to: ResourceInUseError,
    reason: 'The name is taken or its cluster is still deleting; the workflow checks the owner tag, then retries.',
  },
  {
    match: named('ResourceLimitExceeded'),
    wire: '`ResourceLimitExceeded`',
    to: ResourceLimitExceededError,
    reason:
      'The account quota ("<type> for cluster usage"): the workflow parses limit, usage and delta, fails at once when ' +
      'the limit is below the delta, else waits for the account to release instances.',
  },
  {
    match: (w) =>
      named('InsufficientInstanceCapacity', 'InsufficientCapacityException', 'CapacityError')(w) ||
      (w.name === 'ValidationException' && isCapacityShortage(w.message)),
    wire: '`InsufficientInstanceCapacity`, `InsufficientCapacityException`, `CapacityError`, or a `ValidationException` in insufficient-capacity wording',
    to: InsufficientCapacityError,
    reason: 'A shortage refused at create (usually it shows up later as a Failed cluster): waited out like one.',
  },
  {
    // The SDK's list of throttling names (ThrottlingException, TooManyRequestsException, RequestLimitExceeded, ...),
    // HTTP 429 and the throttling retry trait.
    match: (w) => isThrottlingError(w.error),
    wire: "the SDK's throttling errors (`ThrottlingException`, `TooManyRequestsException`, `RequestLimitExceeded`, …), HTTP 429",
    to: ProviderThrottledError,
    reason: 'Asked to slow down: the SDK retried already, the workflow retries later.',
  },
  {
    match: (w) => w.name === 'ValidationException' && CANNOT_ASSUME_ROLE.test(w.message),
    wire: 'a `ValidationException` saying the execution role cannot be assumed',
    to: ProviderUnavailableError,
    reason: 'A just-created execution role is not yet visible to SageMaker: IAM propagation clears within a minute.',
  },
  {
    match: named('ValidationException'),
    wire: 'any other `ValidationException`',
    to: InvalidProviderRequestError,
    reason: 'SageMaker rejected the request itself: the same request fails the same way.',
  },
  {
    match: named('ResourceNotFound'),
    wire: '`ResourceNotFound`',
    to: ClusterNotFoundError,
    reason: 'SageMaker does not know the cluster: for a delete it is gone.',
  },
  {
    match: named('ConflictException'),
    wire: '`ConflictException`',
    to: ResourceInUseError,
    reason: 'Another operation holds the cluster; it ends by itself, so retry.',
  },
  {
    match: (w) =>
      w.status === 401 ||
      w.status === 403 ||
      named(
        'AccessDeniedException',
        'UnrecognizedClientException',
        'InvalidSignatureException',
        'SignatureDoesNotMatch',
        'ExpiredTokenException',
        'MissingAuthenticationTokenException',
        'InvalidClientTokenId',
        'CredentialsProviderError',
      )(w),
    wire: 'HTTP 401 / 403, `AccessDeniedException`, `UnrecognizedClientException`, `InvalidSignatureException`, `SignatureDoesNotMatch`, `ExpiredTokenException`, `MissingAuthenticationTokenException`, `InvalidClientTokenId`, `CredentialsProviderError`',
    to: ProviderAuthFailedError,
    reason: 'Credentials are missing, wrong or not allowed: retrying cannot fix them.',
  },
  {
    // The service answered, and the SDK classes the answer a server error (5xx) or transient (500/502/503/504, a
    // retryable trait).
    match: (w) => w.status !== undefined && (isServerError(w.error) || isTransientError(w.error)),
    wire: 'an answer the SDK classes as a server error or transient (HTTP 5xx, `InternalFailure`, `ServiceUnavailable`, …)',
    to: ProviderUnavailableError,
    reason: 'A server-side failure (the SDK retried already): transient.',
  },
  {
    // No answer, as the SDK classes it: its timeout names and Node's connection codes (ECONNREFUSED, ECONNRESET,
    // ETIMEDOUT, ...), on the error or its causes. The SDK leaves out AbortError (a caller's own abort); here an abort
    // is a call given up on, so it is transient too.
    match: (w) => isTransientError(w.error) || w.name === 'AbortError',
    wire: 'no answer: a connection error (`ECONNREFUSED`, `ECONNRESET`, `ETIMEDOUT`, …), a timeout, `AbortError`',
    to: ProviderUnavailableError,
    reason: 'No answer (connection refused or reset, timeout): transient.',
  },
  {
    match: () => true,
    wire: 'anything else',
    to: InvalidProviderRequestError,
    reason: 'Any other 4xx or an error we cannot classify: not retried blindly.',
  },
];

export const wireOf = (err: unknown): HyperPodWireError => {
  const e = (err ?? {}) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    cause?: { code?: unknown };
    $metadata?: { httpStatusCode?: number };
  };
  const code = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : undefined;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const message = typeof e.message === 'string' ? e.message : '';
  return {
    name,
    message,
    ...(e.$metadata?.httpStatusCode !== undefined ? { status: e.$metadata.httpStatusCode } : {}),
    ...(code ? { code } : {}),
    error: (typeof err === 'object' && err !== null ? err : { name, message }) as SdkErrorLike,
  };
};

/** Translates anything the SDK threw into the taxonomy; the original stays as `cause`. */
export const toHyperPodError = (err: unknown, operation: string): ProvisionerError => {
  if (err instanceof ProvisionerError) return err;
  const wire = wireOf(err);
  const row = HYPERPOD_ERROR_TABLE.find((r) => r.match(wire)) as ErrorRow<HyperPodWireError>;
  const providerCode = wire.code ?? (wire.name !== 'Error' ? wire.name : wire.status !== undefined ? String(wire.status) : 'Error');
  return new row.to(`HyperPod ${operation} failed (${providerCode}): ${wire.message || 'no message'}`, { providerCode, cause: err });
};
