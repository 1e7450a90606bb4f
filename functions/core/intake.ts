/**
 * Intake for the asynchronous entry points (SQS, EventBridge, schedules): submit, and turn what can never succeed
 * (an invalid request, a requestId reused for another request) into a `Cluster Request Rejected` event instead of an
 * error, so the message is acknowledged and nothing is recorded. Anything else is thrown: the caller retries.
 */
import { REQUEST_ID } from '../contract/request-id.js';
import { RecordConflictError, RequestValidationError, type FieldError } from './errors';
import { DETAIL_TYPES, eventEntry, type EventPublisher } from './events';
import { submitRequest, type SubmitDeps, type SubmitResult } from './submit';

export type IntakeSource = 'sqs' | 'eventbridge' | 'schedule';

export interface IntakeDeps extends SubmitDeps {
  events: EventPublisher;
  eventBusName: string;
}

export interface RejectionDetail {
  source: IntakeSource;
  /** The id of the message / event that carried the request. */
  messageId?: string;
  /** The request's own requestId, when it had a usable one. */
  requestId?: string;
  reason: 'invalid-request' | 'conflict';
  message: string;
  errors: FieldError[];
}

export type IntakeResult = ({ outcome: 'accepted' } & SubmitResult) | { outcome: 'rejected'; detail: RejectionDetail };

const requestIdOf = (payload: unknown): string | undefined => {
  const id = payload && typeof payload === 'object' ? (payload as { requestId?: unknown }).requestId : undefined;
  return typeof id === 'string' && REQUEST_ID.test(id) ? id : undefined;
};

/** `payload` is the parsed request, or a FieldError list when it could not even be parsed. */
export const intake = async (
  deps: IntakeDeps,
  payload: unknown,
  meta: { source: IntakeSource; messageId?: string; parseErrors?: FieldError[] },
): Promise<IntakeResult> => {
  const reject = async (reason: RejectionDetail['reason'], message: string, errors: FieldError[]): Promise<IntakeResult> => {
    const requestId = requestIdOf(payload);
    const detail: RejectionDetail = {
      source: meta.source,
      ...(meta.messageId ? { messageId: meta.messageId } : {}),
      ...(requestId ? { requestId } : {}),
      reason,
      message,
      errors,
    };
    await deps.events.publish([eventEntry(deps.eventBusName, DETAIL_TYPES.rejected, detail)]);
    return { outcome: 'rejected', detail };
  };
  if (meta.parseErrors) return reject('invalid-request', 'The message is not a JSON request', meta.parseErrors);
  try {
    return { outcome: 'accepted', ...(await submitRequest(deps, payload, meta.source)) };
  } catch (err) {
    if (err instanceof RequestValidationError) return reject('invalid-request', 'The request is invalid', err.errors);
    if (err instanceof RecordConflictError) return reject('conflict', err.message, [{ path: '/requestId', message: err.message }]);
    throw err;
  }
};

/** Parses a message body as JSON; a FieldError at the root when it is not JSON. */
export const parseJsonBody = (body: string): { value?: unknown; errors?: FieldError[] } => {
  try {
    return { value: JSON.parse(body) };
  } catch (err) {
    return { errors: [{ path: '', message: `is not valid JSON (${(err as Error).message})` }] };
  }
};
