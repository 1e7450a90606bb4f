/**
 * The HTTP API's one middleware stack and error mapping (API Gateway HTTP API, payload v2). Unlike task Lambdas,
 * HTTP handlers catch everything: each known error class maps to its status, anything else is a 500 whose body says
 * only "internal error" and the Lambda request id to quote; never a stack, an internal message or a secret.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ERRORS, type ErrorName } from '../../contract/errors.js';
import { REQUEST_ID } from '../../contract/request-id.js';
import { logger, metrics, tracer } from '../observability';

/** An RFC 6901 pointer into the request and what is wrong there. */
export interface FieldError {
  path: string;
  message: string;
}

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** Largest request body accepted, in bytes (64 KiB): a cluster spec is a few KiB. */
export const MAX_BODY_BYTES = 64 * 1024;

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
  }
}

export const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

const errorBody = (code: string, message: string, errors?: FieldError[]) => ({ code, message, ...(errors ? { errors } : {}) });

/** Field errors an error carries (the request validation's), if any. */
const fieldErrorsOf = (err: object): FieldError[] | undefined => {
  const { errors } = err as { errors?: unknown };
  return Array.isArray(errors) ? (errors as FieldError[]) : undefined;
};

/**
 * Known errors -> status, by the contract's error names and their `http` answer (a name is what survives bundling and
 * crosses layers; this module imports no class). A list cursor error points at the cursor parameter.
 */
const toResponse = (err: unknown, context: Context): HttpResult => {
  if (err instanceof HttpError) return json(err.statusCode, errorBody(err.code, err.message, err.errors));
  const name = (err as Error | undefined)?.name;
  const known = name !== undefined && Object.hasOwn(ERRORS, name) ? (ERRORS[name as ErrorName] as { http?: { status: number; code: string } }).http : undefined;
  if (known && err instanceof Error) {
    if (name === 'RequestValidationError') {
      const { warnings } = err as { warnings?: FieldError[] };
      return json(known.status, { ...errorBody(known.code, 'The request is invalid', fieldErrorsOf(err)), warnings: warnings ?? [] });
    }
    const errors = name === 'InvalidCursorError' ? [{ path: '/queryStringParameters/cursor', message: err.message }] : undefined;
    return json(known.status, errorBody(known.code, err.message, errors));
  }
  logger.error('Unhandled error', { error: { name, message: (err as Error)?.message } });
  return json(500, errorBody('InternalError', `Internal error; quote request id ${context.awsRequestId}`));
};

/** Reads a JSON body: 415 unless the content type is JSON, 413 past MAX_BODY_BYTES, 400 when it does not parse. */
export const readJsonBody = (event: HttpEvent): unknown => {
  const contentType = (event.headers?.['content-type'] ?? event.headers?.['Content-Type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(contentType)) {
    throw new HttpError(415, 'UnsupportedMediaType', `Content-Type must be application/json (got ${contentType ? `"${contentType.slice(0, 100)}"` : 'none'})`);
  }
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) {
    throw new HttpError(413, 'PayloadTooLarge', `The body is ${bytes.length} bytes; at most ${MAX_BODY_BYTES} are accepted`);
  }
  if (bytes.length === 0) throw new HttpError(400, 'MalformedBody', 'The body is empty; a JSON request is expected', [{ path: '', message: 'is required' }]);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, 'MalformedBody', 'The body is not valid JSON', [{ path: '', message: `is not valid JSON (${(err as Error).message})` }]);
  }
};


/** The `{requestId}` path parameter; one that cannot exist is a 404 like any unknown id. */
export const requestIdParam = (event: HttpEvent): string => {
  const id = event.pathParameters?.requestId ?? '';
  if (!REQUEST_ID.test(id)) throw new HttpError(404, 'NotFound', 'No such cluster request');
  return id;
};

export const httpHandler = (name: string, fn: (event: HttpEvent, context: Context) => Promise<HttpResult>) =>
  middy<HttpEvent, HttpResult, Error, Context>()
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      logger.appendKeys({ route: event.routeKey, handler: name });
      let result: HttpResult;
      try {
        result = await fn(event, context);
      } catch (err) {
        result = toResponse(err, context);
      }
      const outcome = metrics.singleMetric();
      outcome.addDimension('route', event.routeKey ?? name);
      outcome.addMetric(`Http${Math.floor((result.statusCode ?? 500) / 100)}xx`, MetricUnit.Count, 1);
      logger.info('HTTP request', { statusCode: result.statusCode, method: event.requestContext?.http?.method });
      return result;
    });
