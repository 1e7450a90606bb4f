/**
 * The first middleware of every stack: Powertools' `captureLambdaHandler` (the `## <handler>` subsegment, the
 * ColdStart and Service annotations, the response or error as metadata; HTTP calls captured as subsegments), with the
 * tracer and the X-Ray SDK imported when the first invocation begins instead of at init. Before the handler's first
 * call goes out, the tracer is set up, so every invocation is traced as with a tracer made at init.
 */
import type middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { onceAsync } from '../config';

type Hooks = Required<Pick<middy.MiddlewareObj, 'before' | 'after' | 'onError'>>;

const hooks = onceAsync(async (): Promise<Hooks> => (await import('../tracing')).traceHandler as Hooks);

export const tracing = <E, R, C extends Context>(): middy.MiddlewareObj<E, R, Error, C> => ({
  before: async (request) => (await hooks()).before(request as middy.Request),
  after: async (request) => (await hooks()).after(request as middy.Request),
  onError: async (request) => (await hooks()).onError(request as middy.Request),
});
