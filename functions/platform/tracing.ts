/**
 * The process's tracer (Powertools, over the X-Ray SDK) and its handler middleware. Imported only by
 * middleware/tracing.ts, at the start of the first invocation: the X-Ray SDK is not read at init.
 */
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { serviceName } from './observability';

export const tracer = new Tracer({ serviceName });

/** Powertools' handler middleware on this tracer: the `## <handler>` subsegment, cold start and service annotations. */
export const traceHandler = captureLambdaHandler(tracer);
