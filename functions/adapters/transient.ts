/**
 * The one classifier of transient AWS failures, used by every adapter of a store the workflow touches (the clusters
 * table, the offerings table, the Step Functions wake): throttling, a 5xx, a timeout or no answer at all (as the SDK
 * classes them) becomes StoreUnavailableError, which every task of the state machines retries for a few minutes.
 * Anything else (a failed condition, a validation, a token Step Functions no longer knows) is rethrown as it is, for
 * the adapter to translate.
 */
import { isThrottlingError, isTransientError } from '@smithy/service-error-classification';
import { StoreUnavailableError } from '../core/errors';

type SdkError = Parameters<typeof isTransientError>[0] & { $metadata?: { httpStatusCode?: number } };

/** Network failures the SDK can surface without an HTTP answer (a refused or reset connection, a timeout). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH']);

/** Whether `err` is a transient AWS failure: retrying the same call later may succeed. */
export const isTransientAwsError = (err: unknown): boolean => {
  if (!(err instanceof Error)) return false;
  if (err.name === 'ConditionalCheckFailedException') return false;
  const e = err as SdkError & { code?: string };
  return (
    isThrottlingError(e) ||
    isTransientError(e) ||
    (e.$metadata?.httpStatusCode ?? 0) >= 500 ||
    err.name === 'TimeoutError' ||
    NETWORK_CODES.has(String(e.code ?? ''))
  );
};

/** `err` as StoreUnavailableError when it is transient (the original kept as `cause`), else `err` itself. */
export const asStoreError = (err: unknown, what: string): unknown =>
  isTransientAwsError(err)
    ? new StoreUnavailableError(`${what} is unavailable (${(err as Error).name}): ${(err as Error).message}`, { cause: err })
    : err;

/** A client whose every `send` answers transient failures as StoreUnavailableError. */
export const guardClient = <C extends { send: (...args: never[]) => Promise<unknown> }>(client: C, what: string): C =>
  ({
    send: async (...args: Parameters<C['send']>) => {
      try {
        return await client.send(...args);
      } catch (err) {
        throw asStoreError(err, what);
      }
    },
  }) as unknown as C;
