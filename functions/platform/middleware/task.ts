/**
 * The one middleware stack of the state machines' task Lambdas: tracer -> logger (middy's documented order), the
 * `requestId` appended to every log line; each outcome is one EMF metric record written at once (singleMetric). No error-handling middleware on purpose: an error must fail
 * the invocation so Step Functions sees its name (`errorType`) and Retry / Catch can match it.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { tracing } from './tracing';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { logger, metrics } from '../observability';

export type TaskFunction<I extends { requestId: string }, O> = (input: I) => Promise<O>;

export const taskHandler = <I extends { requestId: string }, O>(name: string, fn: TaskFunction<I, O>) =>
  middy<I, O, Error, Context>()
    .use(tracing())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (input) => {
      logger.appendKeys({ requestId: input.requestId, task: name });
      // One EMF record per outcome, dimensioned by task (singleMetric: no dimension shared across invocations).
      const outcome = metrics.singleMetric();
      outcome.addDimension('task', name);
      try {
        const output = await fn(input);
        outcome.addMetric('TaskSucceeded', MetricUnit.Count, 1);
        logger.info(`${name} done`);
        return output;
      } catch (err) {
        outcome.addDimension('error', (err as Error).name);
        outcome.addMetric('TaskFailed', MetricUnit.Count, 1);
        // Logged with name and message only (the cause chain may hold provider answers), then rethrown unchanged.
        logger.warn(`${name} failed`, { error: { name: (err as Error).name, message: (err as Error).message } });
        throw err;
      }
    });
