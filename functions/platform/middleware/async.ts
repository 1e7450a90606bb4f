/**
 * Middleware stack of the asynchronous entry points (SQS, EventBridge, Scheduler): tracer -> logger.
 * No catch-all: an error must fail the invocation so the source retries it (SQS reports it per item instead).
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger, metrics, tracer } from '../observability';

export const asyncHandler = <E, R>(name: string, fn: (event: E, context: Context) => Promise<R>) =>
  middy<E, R, Error, Context>()
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      logger.appendKeys({ handler: name });
      return fn(event, context);
    });

/** One EMF record per intake outcome (RequestsAccepted / RequestsRejected), dimensioned by entry point. */
export const countIntake = (handler: string, result: { outcome: 'accepted' | 'rejected' }): void => {
  const metric = metrics.singleMetric();
  metric.addDimension('handler', handler);
  metric.addMetric(result.outcome === 'accepted' ? 'RequestsAccepted' : 'RequestsRejected', MetricUnit.Count, 1);
};
