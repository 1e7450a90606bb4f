/** The last step of both workflows: how the request ended, recorded and announced. */
import { durationSeconds } from '../duration';
import { RecordConflictError, RequestCancelledError, describeError } from '../errors';
import { DETAIL_TYPES, clusterEventDetail, eventEntry, type DetailType, type EventEntry } from '../events';
import { capacityAnswered, gotCapacity, windowMax } from '../queue-turn';
import type { ClusterRecord, ClusterStatus, RecordedError } from '../store';
import { announce } from './announce';
import { CANCELLED_STATUSES, iso, type WorkflowDeps } from './deps';
import { leaveQueues } from './queue';
import { offeringsOf, placementAt, providerOf } from './record';

/** The error a Catch hands over: `{Error, Cause}`. A Lambda's Cause is a JSON string with errorMessage. */
export interface CaughtError {
  Error: string;
  Cause?: string;
}

export const causeMessage = (caught: CaughtError): string => {
  const cause = caught.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (parsed && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the cause is the message itself
  }
  return cause || caught.Error;
};

export type Outcome = 'READY' | 'FAILED' | 'DELETED' | 'DELETE_FAILED';

export interface OutcomeResult {
  event: EventEntry;
  /** For the Fail state's CausePath: a one-line reason. */
  cause: string;
}

/**
 * Schedules the deleteAfter teardown of a READY cluster. The cluster is ready whatever happens here, so a failure to
 * schedule does not fail the workflow: it is recorded as lastError (operation `teardown`) and thrown nowhere; the
 * handler logs it at ERROR. Retrying the task would be safe too, but the Ready event must not wait on the scheduler.
 */
const scheduleTeardown = async (deps: WorkflowDeps, record: ClusterRecord, at: string): Promise<ClusterRecord> => {
  const when = new Date(Date.parse(record.readyAt ?? at) + (durationSeconds(record.deleteAfter ?? '') ?? 0) * 1000);
  try {
    await deps.teardown!.scheduleDeletion(record.requestId, when);
    return record;
  } catch (err) {
    const { name, message } = describeError(err);
    deps.onWarning?.('Could not schedule the deleteAfter teardown', { error: { name, message } });
    return deps.store.update(
      record.requestId,
      { lastError: { name, message: `deleteAfter teardown not scheduled: ${message}`, at, operation: 'teardown' } },
      ['READY'],
    );
  }
};

/**
 * Records how a workflow ended, announces it on the bus (with `deps.events`) and returns the event entry. Safe to
 * repeat: the status and its pending announcement are one write, the announcement's time a second one after the put,
 * so a repeat after a crash between them announces once more and a repeat after both announces nothing.
 */
export const recordOutcome = async (
  deps: WorkflowDeps,
  input: { requestId: string; outcome: Outcome; error?: CaughtError },
): Promise<OutcomeResult> => {
  const at = iso(deps);
  const current = await deps.store.require(input.requestId);
  if ((input.outcome === 'READY' || input.outcome === 'FAILED') && current.cancelledAt && CANCELLED_STATUSES.includes(current.status)) {
    // The provisioning was cancelled under it: the delete workflow records and announces the end.
    throw new RequestCancelledError(`The provisioning of ${input.requestId} was cancelled at ${current.cancelledAt}`);
  }
  if (input.outcome === 'READY' && current.readyAt && (current.status === 'DELETING' || current.status === 'DELETED'))
    return readyThenDeleted(deps, current, at);
  let record: ClusterRecord;
  let detailType: DetailType;
  switch (input.outcome) {
    case 'READY':
      record =
        current.status === 'READY'
          ? current
          : await deps.store.transition(
              input.requestId,
              'READY',
              { readyAt: at, announced: pending('READY', DETAIL_TYPES.ready) },
              { reason: 'cluster ready' },
            );
      if (record.deleteAfter && deps.teardown) record = await scheduleTeardown(deps, record, at);
      // Capacity was there: every request may try this offering again at once (a probe that succeeded ends here).
      // (Unless the turn passed on when its instances were launched: a shortage remembered since then stands.)
      if (!capacityAnswered(record)) {
        if (deps.provider(providerOf(record)).capacityKnownAtCreate) await deps.offerings?.forget(offeringsOf(placementAt(record)));
        else await gotCapacity(deps, offeringsOf(placementAt(record)), windowMax(undefined), record.createdAt);
      }
      detailType = DETAIL_TYPES.ready;
      break;
    case 'DELETED':
      record =
        current.status === 'DELETED'
          ? current
          : await deps.store.transition(
              input.requestId,
              'DELETED',
              { deletedAt: at, announced: pending('DELETED', DETAIL_TYPES.deleted) },
              { reason: current.cancelledAt ? 'cancelled' : 'cluster gone' },
            );
      detailType = DETAIL_TYPES.deleted;
      break;
    case 'FAILED':
    case 'DELETE_FAILED': {
      const caught = input.error ?? { Error: 'Unknown', Cause: 'The workflow failed without an error' };
      const lastError: RecordedError = {
        name: caught.Error,
        message: causeMessage(caught),
        at,
        operation: input.outcome === 'FAILED' ? 'create' : 'delete',
        ...(input.outcome === 'FAILED' && current.attempts > 0 ? { attempt: current.attempts } : {}),
      };
      const failedType = input.outcome === 'FAILED' ? DETAIL_TYPES.failed : DETAIL_TYPES.deleteFailed;
      record =
        current.status === 'FAILED'
          ? current
          : await deps.store.transition(
              input.requestId,
              'FAILED',
              { failedAt: at, lastError, announced: pending('FAILED', failedType) },
              { reason: `${lastError.name}: ${lastError.message}` },
            );
      detailType = failedType;
      break;
    }
  }
  await leaveQueues(deps, record);
  const event = eventEntry(deps.eventBusName, detailType, clusterEventDetail(record, at));
  if (deps.events) await announce({ ...deps, events: deps.events }, record, event);
  const cause = record.lastError && record.status === 'FAILED' ? `${record.lastError.name}: ${record.lastError.message}` : record.status;
  return { event, cause };
};

const pending = (status: ClusterStatus, detailType: DetailType): ClusterRecord['announced'] => ({ status, detailType });

/**
 * The record was READY and a delete came before this step ended (its trailing writes outlasted by a store outage, or
 * simply slower than the caller's DELETE): the provisioning did end READY, and the record is the delete workflow's now.
 * Nothing moves back; the Cluster Ready event still goes out once if it had not, carrying the READY the record reached.
 */
const readyThenDeleted = async (deps: WorkflowDeps, record: ClusterRecord, at: string): Promise<OutcomeResult> => {
  const event = eventEntry(deps.eventBusName, DETAIL_TYPES.ready, clusterEventDetail({ ...record, status: 'READY' }, at));
  if (deps.events && record.announced?.status === 'READY' && record.announced.at === undefined) {
    await deps.events.publish([event]);
    try {
      await deps.store.update(record.requestId, { announced: { ...record.announced, at } }, ['DELETING']);
    } catch (err) {
      // The delete workflow announced its own end in between: that stamp stands; the Ready event went out above.
      if (!(err instanceof RecordConflictError)) throw err;
    }
  }
  return { event, cause: 'READY' };
};
