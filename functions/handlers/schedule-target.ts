/**
 * Target of every EventBridge Scheduler schedule:
 * - one-time `{action: "provision", requestId}`: a request submitted with `startAt` is due (SCHEDULED -> ACCEPTED);
 * - one-time `{action: "delete", requestId}`: a `deleteAfter` teardown is due;
 * - recurring `{schedule, scheduledTime, request}` from config/schedules.yml: the requestId is derived from the
 *   schedule name and the scheduled time, so a double firing of the same occurrence is one cluster.
 */
import { RecordConflictError, RecordNotFoundError } from '../core/errors';
import { intake, type IntakeDeps } from '../core/intake';
import { releaseScheduled, requestDeletion } from '../core/submit';
import { asyncHandler, countIntake } from '../platform/middleware/async';
import { intakeDeps } from '../wiring/submit';
import { logger } from '../platform/observability';

export type ScheduleEvent =
  | { action: 'provision' | 'delete'; requestId: string }
  | { schedule: string; scheduledTime: string; request: Record<string, unknown> };

/** `<schedule>-<yyyymmddThhmmssZ>`, cut to the 64 characters a requestId may have. */
export const occurrenceRequestId = (schedule: string, scheduledTime: string): string => {
  const time = new Date(scheduledTime);
  const stamp = Number.isNaN(time.getTime()) ? scheduledTime.replace(/[^0-9A-Za-z]/g, '') : time.toISOString().replace(/[-:]|\.\d{3}/g, '');
  const name = schedule.replace(/[^A-Za-z0-9_-]/g, '-');
  return `${name.slice(0, 63 - stamp.length)}-${stamp}`;
};

export const makeHandler = (deps: () => IntakeDeps) =>
  asyncHandler<ScheduleEvent, void>('scheduleTarget', async (event) => {
    if ('action' in event) {
      logger.appendKeys({ requestId: event.requestId });
      try {
        const record = event.action === 'provision' ? await releaseScheduled(deps(), event.requestId) : await requestDeletion(deps(), event.requestId, 'deleteAfter reached');
        logger.info(`Scheduled ${event.action} done`, { status: record.status });
      } catch (err) {
        // Nothing to do any more (deleted by hand, already gone): retrying cannot help, so do not fail the schedule.
        if (err instanceof RecordNotFoundError || err instanceof RecordConflictError) {
          logger.warn(`Scheduled ${event.action} skipped`, { reason: err.message });
          return;
        }
        throw err;
      }
      return;
    }
    const requestId = occurrenceRequestId(event.schedule, event.scheduledTime);
    logger.appendKeys({ requestId, schedule: event.schedule });
    const request = event.request && typeof event.request === 'object' ? event.request : {};
    const result = await intake(deps(), { ...request, requestId }, { source: 'schedule', messageId: `${event.schedule}@${event.scheduledTime}` });
    countIntake('scheduleTarget', result);
    logger.info('Recurring schedule fired', { outcome: result.outcome });
  });

export const handler = makeHandler(intakeDeps);
