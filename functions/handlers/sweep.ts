/**
 * The orphan sweeper, every hour (an EventBridge schedule): deletes this deployment's leftover clusters after the
 * grace period and reports its orphans (see functions/core/sweep.ts). One log line per cluster acted on or found
 * orphaned, one per location that could not be listed; the counts as one EMF record.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { sweep, type SweepDeps, type SweepReport } from '../core/sweep';
import { asyncHandler } from '../platform/middleware/async';
import { logger, metrics } from '../platform/observability';
import { sweepDeps } from '../wiring/sweep';

/** Logs what the sweep found and did, and counts it (OrphansFound, LeftoversDeleted, LeftoversWaiting, SweepFailures). */
export const reportSweep = (report: SweepReport, handler: string): void => {
  for (const item of report.items) {
    if (item.finding === 'orphan') logger.warn('Orphan cluster found', { ...item });
    else if (item.action === 'deleted') logger.warn('Leftover cluster deleted', { ...item });
    else if (item.action === 'delete-failed') logger.error('Leftover cluster not deleted (tried again at the next sweep)', { ...item });
  }
  for (const failure of report.failures) logger.error('Could not list the clusters of a location', { ...failure });
  const metric = metrics.singleMetric();
  metric.addDimension('handler', handler);
  metric.addMetric('OrphansFound', MetricUnit.Count, report.items.filter((i) => i.finding === 'orphan').length);
  metric.addMetric('LeftoversDeleted', MetricUnit.Count, report.items.filter((i) => i.action === 'deleted').length);
  metric.addMetric('LeftoversWaiting', MetricUnit.Count, report.items.filter((i) => i.action === 'grace').length);
  metric.addMetric(
    'SweepFailures',
    MetricUnit.Count,
    report.failures.length + report.items.filter((i) => i.action === 'delete-failed').length,
  );
};

export const makeHandler = (deps: () => SweepDeps) =>
  asyncHandler<unknown, SweepReport>('sweep', async () => {
    const report = await sweep(deps());
    reportSweep(report, 'sweep');
    return report;
  });

export const handler = makeHandler(sweepDeps);
