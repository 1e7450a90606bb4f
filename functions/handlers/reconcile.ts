/**
 * The reconciler, every 5 minutes (an EventBridge schedule): resumes every workflow that died (see
 * functions/core/reconcile.ts). One log line per action; the counts as one EMF record.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { reconcile, type ReconcileDeps, type ReconcileReport } from '../core/reconcile';
import { asyncHandler } from '../platform/middleware/async';
import { logger, metrics } from '../platform/observability';
import { reconcileDeps } from '../wiring/reconcile';

/** Logs what the reconciler did and counts it (RecordsChecked, WorkflowsResumed). */
export const reportReconcile = (report: ReconcileReport): void => {
  for (const action of report.actions) if (action.action !== 'running' && action.action !== 'recent') logger.warn('Reconciled', action);
  const metric = metrics.singleMetric();
  metric.addDimension('handler', 'reconcile');
  metric.addMetric('RecordsChecked', MetricUnit.Count, report.checked);
  metric.addMetric(
    'WorkflowsResumed',
    MetricUnit.Count,
    report.actions.filter((a) => a.action !== 'running' && a.action !== 'recent').length,
  );
};

export const makeHandler = (deps: () => ReconcileDeps) =>
  asyncHandler<unknown, ReconcileReport>('reconcile', async () => {
    const report = await reconcile(deps());
    reportReconcile(report);
    return report;
  });

export const handler = makeHandler(reconcileDeps);
