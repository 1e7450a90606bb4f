/**
 * Middleware stack of the asynchronous entry points (SQS, EventBridge, Scheduler): tracer -> logger -> parsing.
 * No catch-all: an error must fail the invocation so the source retries it (SQS reports it per item instead).
 *
 * Parsing (Powertools parser with a zod schema) checks the event's envelope only, never a request (the request
 * contract is functions/core/validate/'s): an event that does not fit is logged, with what failed and never the
 * event, and fails the invocation as a `ParseError`, so the source's retries and then its DLQ keep it.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ParseError } from '@aws-lambda-powertools/parser/errors';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { tracing } from './tracing';
import type { Context } from 'aws-lambda';
import type { $ZodType, input, output } from 'zod/v4/core';
import { logger, metrics } from '../observability';

/** What failed in an event, without its values: zod's issues (the cause of a ParseError), as path and message. */
const issuesOf = (error: ParseError): Array<{ path: string; message: string }> => {
  const cause = error.cause as { issues?: unknown } | unknown[] | undefined;
  const issues = (Array.isArray(cause) ? cause : Array.isArray(cause?.issues) ? cause.issues : []) as Array<{
    path?: PropertyKey[];
    message?: string;
  }>;
  return issues.map((issue) => ({ path: (issue.path ?? []).map(String).join('.'), message: String(issue.message) }));
};

export function asyncHandler<E, R>(
  name: string,
  fn: (event: E, context: Context) => Promise<R>,
): middy.MiddyfiedHandler<E, R, Error, Context>;
/** With `schema` (a zod or zod/mini schema), `fn` receives the event as the schema parsed it. */
export function asyncHandler<S extends $ZodType, R>(
  name: string,
  fn: (event: output<S>, context: Context) => Promise<R>,
  schema: S,
): middy.MiddyfiedHandler<input<S>, R, Error, Context>;
export function asyncHandler<E, R>(name: string, fn: (event: E, context: Context) => Promise<R>, schema?: $ZodType<E>) {
  const stack = middy<E, R, Error, Context>()
    .use(tracing())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      before: () => {
        logger.appendKeys({ handler: name });
      },
    });
  if (schema) {
    // Typed as answering with the parsed event (what an errorHandler may recover with); this one never recovers.
    stack.use(
      parser({
        schema,
        errorHandler: (error) => {
          logger.error('Event rejected: it does not have the expected shape', { error: { name: error.name, issues: issuesOf(error) } });
          return undefined; // no recovery: the ParseError fails the invocation
        },
      }) as unknown as middy.MiddlewareObj<E, R, Error, Context>,
    );
  }
  return stack.handler(fn);
}

/** One EMF record per intake outcome (RequestsAccepted / RequestsRejected), dimensioned by entry point. */
export const countIntake = (handler: string, result: { outcome: 'accepted' | 'rejected' }): void => {
  const metric = metrics.singleMetric();
  metric.addDimension('handler', handler);
  metric.addMetric(result.outcome === 'accepted' ? 'RequestsAccepted' : 'RequestsRejected', MetricUnit.Count, 1);
};
