/**
 * Target of every EventBridge Scheduler schedule. Its input is one of (ScheduleEventSchema, a discriminated union on
 * `action`):
 * - one-time `{action: "provision", requestId}`: a request submitted with `startAt` is due (SCHEDULED -> ACCEPTED);
 * - one-time `{action: "delete", requestId}`: a `deleteAfter` teardown is due;
 * - recurring `{schedule, scheduledTime, request}` (no action) from config/schedules.yml: the requestId is derived
 *   from the schedule name and the scheduled time, so a double firing of the same occurrence is one cluster.
 * The one-time inputs are written by functions/adapters/scheduler.ts, the recurring one by config/schedules.js
 * (inputOf). Anything else, an unknown action above all, is logged and fails the invocation: it never deletes.
 */
import * as z from 'zod/mini';
import { REQUEST_ID } from '../contract/request-id.js';
import { RecordConflictError, RecordNotFoundError } from '../core/errors';
import { intake, type IntakeDeps } from '../core/intake';
import { releaseScheduled, requestDeletion } from '../core/release';
import { asyncHandler, countIntake } from '../platform/middleware/async';
import { logger } from '../platform/observability';
import { intakeDeps } from '../wiring/submit';

const requestId = z.string().check(z.regex(REQUEST_ID));

/** The Scheduler input (the envelope only: a recurring `request` is judged by the request contract, at intake). */
export const ScheduleEventSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('provision'), requestId }),
  z.object({ action: z.literal('delete'), requestId }),
  z.object({
    action: z.optional(z.undefined()),
    schedule: z.string().check(z.minLength(1)),
    scheduledTime: z.string().check(z.minLength(1)),
    request: z.unknown(),
  }),
]);

export type ScheduleEvent = z.input<typeof ScheduleEventSchema>;

/** `<schedule>-<yyyymmddThhmmssZ>`, cut to the 64 characters a requestId may have. */
export const occurrenceRequestId = (schedule: string, scheduledTime: string): string => {
  const time = new Date(scheduledTime);
  const stamp = Number.isNaN(time.getTime()) ? scheduledTime.replace(/[^0-9A-Za-z]/g, '') : time.toISOString().replace(/[-:]|\.\d{3}/g, '');
  const name = schedule.replace(/[^A-Za-z0-9_-]/g, '-');
  return `${name.slice(0, 63 - stamp.length)}-${stamp}`;
};

/** A due one-time schedule: release the SCHEDULED request, or delete the cluster. */
const runAction = async (deps: IntakeDeps, action: 'provision' | 'delete', id: string): Promise<void> => {
  logger.appendKeys({ requestId: id });
  try {
    const record = action === 'provision' ? await releaseScheduled(deps, id) : await requestDeletion(deps, id, 'deleteAfter reached');
    logger.info(`Scheduled ${action} done`, { status: record.status });
  } catch (err) {
    // Nothing to do any more (deleted by hand, already gone): retrying cannot help, so do not fail the schedule.
    if (err instanceof RecordNotFoundError || err instanceof RecordConflictError) {
      logger.warn(`Scheduled ${action} skipped`, { reason: err.message });
      return;
    }
    throw err;
  }
};

export const makeHandler = (deps: () => IntakeDeps) =>
  asyncHandler(
    'scheduleTarget',
    async (event: z.output<typeof ScheduleEventSchema>) => {
      switch (event.action) {
        case 'provision':
        case 'delete':
          return runAction(deps(), event.action, event.requestId);
        case undefined: {
          const id = occurrenceRequestId(event.schedule, event.scheduledTime);
          logger.appendKeys({ requestId: id, schedule: event.schedule });
          // A template that is not an object is judged as it is (a 400-like rejection at ""), never read as {}.
          const { request } = event;
          const isTemplate = typeof request === 'object' && request !== null && !Array.isArray(request);
          const result = await intake(deps(), isTemplate ? { ...request, requestId: id } : request, {
            source: 'schedule',
            messageId: `${event.schedule}@${event.scheduledTime}`,
          });
          countIntake('scheduleTarget', result);
          logger.info('Recurring schedule fired', { outcome: result.outcome });
          return;
        }
        default:
          return event satisfies never;
      }
    },
    ScheduleEventSchema,
  );

export const handler = makeHandler(intakeDeps);
