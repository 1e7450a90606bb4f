/**
 * Middleware stack of the asynchronous entry points (SQS, EventBridge, Scheduler): tracer -> logger -> metrics.
 * No catch-all: an error must fail the invocation so the source retries it (SQS reports it per item instead).
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracer } from './observability';

export const asyncHandler = <E, R>(name: string, fn: (event: E, context: Context) => Promise<R>) =>
  middy<E, R, Error, Context>()
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(async (event, context) => {
      logger.appendKeys({ handler: name });
      return fn(event, context);
    });
