/**
 * The notify function: an EventBridge rule on the project's bus (source gpu-cluster-provisioner; Cluster Ready,
 * Cluster Provisioning Failed, Cluster Waiting For Capacity, Cluster Deleted) invokes it asynchronously with each event.
 * It reads the request's record and refuses an event that disagrees with it (a forged one), then tells the request's
 * `notify` targets (functions/core/notify.ts). A target that still fails after the in-function
 * retries fails the invocation: Lambda retries it twice, then sends it to the on-failure destination
 * (NotificationsDeadLetterQueue, alarmed). One log line per target (host or topic, outcome, attempts; never a secret
 * nor a body); the counts as one EMF record.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod/mini';
import { NotificationFailedError } from '../core/errors';
import { notify, type NotifyDeps, type NotifyReport } from '../core/notify';
import { asyncHandler } from '../platform/middleware/async';
import { logger, metrics } from '../platform/observability';
import { notifyDeps } from '../wiring/notify';

/** The envelope only; the detail is the project's own event (its schema: functions/core/event-schemas/). */
export const NotifyEventSchema = z.object({
  version: z.string(),
  id: z.string(),
  source: z.string(),
  account: z.string(),
  time: z.iso.datetime(),
  region: z.string(),
  resources: z.array(z.string()),
  'detail-type': z.string(),
  detail: z.record(z.string(), z.unknown()),
  'replay-name': z.optional(z.string()),
});

const report = (result: NotifyReport): void => {
  for (const o of result.outcomes) {
    const line = { requestId: result.requestId, ...o };
    if (o.outcome === 'delivered') logger.info('Notification delivered', line);
    else logger.error('Notification failed', line);
  }
  if (result.refused) logger.warn('Event refused: it disagrees with the record', { requestId: result.requestId, refused: result.refused });
  else if (result.skipped) logger.info('Nothing to notify', { requestId: result.requestId, skipped: result.skipped });
  const metric = metrics.singleMetric();
  metric.addDimension('handler', 'notify');
  metric.addMetric('NotificationsDelivered', MetricUnit.Count, result.outcomes.filter((o) => o.outcome === 'delivered').length);
  metric.addMetric('NotificationsFailed', MetricUnit.Count, result.outcomes.filter((o) => o.outcome === 'failed').length);
};

export const makeHandler = (deps: () => NotifyDeps) =>
  asyncHandler(
    'notify',
    async (event: z.output<typeof NotifyEventSchema>) => {
      try {
        const result = await notify(deps(), event);
        report(result);
        return result;
      } catch (err) {
        if (err instanceof NotificationFailedError) report(err.report);
        throw err;
      }
    },
    NotifyEventSchema,
  );

export const handler = makeHandler(notifyDeps);
