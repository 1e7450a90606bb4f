/** The completion event of a record's final status: put on the bus once, then stamped on the record. */
import { clusterEventDetail, eventEntry, type DetailType, type EventEntry, type EventPublisher } from '../events';
import type { ClusterRecord } from '../store';
import { iso, type WorkflowDeps } from './deps';

/** Whether the record's final status still waits for its completion event. */
export const announcementPending = (record: ClusterRecord): boolean =>
  record.announced !== undefined && record.announced.status === record.status && record.announced.at === undefined;

/**
 * Puts the completion event of the record's status on the bus and stamps the announcement, unless it was announced
 * already. `event` defaults to the one the record's pending announcement names (the reconciler's case).
 */
export const announce = async (
  deps: Pick<WorkflowDeps, 'store' | 'eventBusName' | 'now'> & { events: EventPublisher },
  record: ClusterRecord,
  event?: EventEntry,
): Promise<ClusterRecord> => {
  if (record.announced?.status === record.status && record.announced.at !== undefined) return record;
  const at = iso(deps);
  const detailType = (record.announced?.status === record.status ? record.announced.detailType : event?.DetailType) as
    | DetailType
    | undefined;
  if (!detailType) return record;
  await deps.events.publish([event ?? eventEntry(deps.eventBusName, detailType, clusterEventDetail(record, at))]);
  return deps.store.update(record.requestId, { announced: { status: record.status, detailType, at } }, [record.status]);
};
