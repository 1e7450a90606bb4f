/**
 * The HTTP API's one middleware stack and error mapping (API Gateway HTTP API, payload v2). Unlike task Lambdas,
 * HTTP handlers answer every error: each known error class maps to its status, anything else is a 500 whose body says
 * only "internal error" and the Lambda request id to quote; never a stack, an internal message or a secret.
 *
 * The stack, outermost first: tracer -> logger -> route keys -> outcome (one log line and one metric per answer) ->
 * @middy/http-error-handler (renders the error as the response) -> our error mapping (every error to an HttpError,
 * then to the JSON body `{code, message, errors?}` it renders) -> for a JSON body: the size guard (413 before
 * parsing) -> @middy/http-json-body-parser (415 / 400 through the mapping).
 */
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { tracing } from './tracing';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ERRORS, type ErrorName } from '../../contract/errors.js';
import { REQUEST_ID } from '../../contract/request-id.js';
import { logger, metrics } from '../observability';

/** An RFC 6901 pointer into the request and what is wrong there. */
export interface FieldError {
  path: string;
  message: string;
}

export type HttpEvent = APIGatewayProxyEventV2;
/** An event whose JSON body the stack has parsed (httpHandler with `{ jsonBody: true }`). */
export type JsonBodyEvent = Omit<HttpEvent, 'body'> & { body: unknown };
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** Largest request body accepted, in bytes (64 KiB): a cluster spec is a few KiB. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Where a 415 points: the header, as the list query's errors point at `/queryStringParameters/<name>`. */
const CONTENT_TYPE_POINTER = '/headers/content-type';

/** What a 503 for a record-store outage asks the caller to wait before retrying. */
export const STORE_RETRY_AFTER_SECONDS = 5;

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly errors?: FieldError[],
    /** Answered beside the errors (the request validation's warnings). */
    readonly warnings?: FieldError[],
    /** Response headers (a 503's Retry-After). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

/**
 * The 413 for a body over `limit` bytes, pointing at the whole body (`""`); `size` says how big it is (`is 70000
 * bytes`, or `is more than 65536 bytes` from a reader that stopped there).
 */
export const payloadTooLarge = (size: string, limit = MAX_BODY_BYTES): HttpError =>
  new HttpError(413, 'PayloadTooLarge', `The body ${size}; at most ${limit} are accepted`, [
    { path: '', message: `must be at most ${limit} bytes` },
  ]);

export const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

const errorBody = (code: string, message: string, errors?: FieldError[]) => ({ code, message, ...(errors ? { errors } : {}) });

/** Field errors an error carries (the request validation's), if any. */
const fieldErrorsOf = (err: object, key: 'errors' | 'warnings' = 'errors'): FieldError[] | undefined => {
  const list = (err as Record<string, unknown>)[key];
  return Array.isArray(list) ? (list as FieldError[]) : undefined;
};

/** The content type's media type, lower case (media types are case-insensitive). */
const mediaTypeOf = (event: HttpEvent): string =>
  (event.headers?.['content-type'] ?? event.headers?.['Content-Type'] ?? '').split(';')[0]!.trim().toLowerCase();

/** What @middy/http-json-body-parser throws (both with status 415), told apart by its messages. */
const BODY_PARSER = '@middy/http-json-body-parser';
const isBodyParserError = (err: unknown): err is Error & { cause: { package: string; message?: string } } =>
  err instanceof Error && (err.cause as { package?: string } | undefined)?.package === BODY_PARSER;

/**
 * Every error as an HttpError: ours as they are; the body parser's as our 415 / 400; known errors by the contract's
 * error names and their `http` answer (a name is what survives bundling and crosses layers; this module imports no
 * class), a list cursor error pointing at the cursor parameter; anything else a logged 500.
 */
const toHttpError = (err: unknown, context: Context, event: HttpEvent): HttpError => {
  if (err instanceof HttpError) return err;
  if (isBodyParserError(err)) {
    if (err.message === 'Unsupported Media Type') {
      const type = mediaTypeOf(event);
      return new HttpError(
        415,
        'UnsupportedMediaType',
        `Content-Type must be application/json (got ${type ? `"${type.slice(0, 100)}"` : 'none'})`,
        [{ path: CONTENT_TYPE_POINTER, message: 'must be application/json or a +json type' }],
      );
    }
    return new HttpError(400, 'MalformedBody', 'The body is not valid JSON', [
      { path: '', message: `is not valid JSON (${err.cause.message ?? 'unparsable'})` },
    ]);
  }
  const name = (err as Error | undefined)?.name;
  const known =
    name !== undefined && Object.hasOwn(ERRORS, name)
      ? (ERRORS[name as ErrorName] as { http?: { status: number; code: string } }).http
      : undefined;
  if (known && err instanceof Error) {
    if (name === 'RequestValidationError') {
      return new HttpError(known.status, known.code, 'The request is invalid', fieldErrorsOf(err), fieldErrorsOf(err, 'warnings') ?? []);
    }
    if (name === 'StoreUnavailableError') {
      // A moment's outage of the record store, not the caller's fault: say when to come back, and keep the store's own
      // message (endpoints, SDK wording) in the log. A retry with the same requestId never makes a second cluster.
      logger.warn('Record store unavailable', { error: { name, message: err.message } });
      return new HttpError(
        known.status,
        known.code,
        'The service is unavailable for a moment; retry after the Retry-After seconds (a retry with the same requestId never creates a second cluster)',
        undefined,
        undefined,
        { 'Retry-After': String(STORE_RETRY_AFTER_SECONDS) },
      );
    }
    const errors = name === 'InvalidCursorError' ? [{ path: '/queryStringParameters/cursor', message: err.message }] : undefined;
    return new HttpError(known.status, known.code, err.message, errors);
  }
  logger.error('Unhandled error', { error: { name, message: (err as Error)?.message } });
  return new HttpError(500, 'InternalError', `Internal error; quote request id ${context.awsRequestId}`);
};

/**
 * Our error mapping, for @middy/http-error-handler to render: the error becomes one it exposes, whose message is the
 * JSON body (so it answers `application/json`). The original stays as `cause`, never in the body.
 */
const errorMapping = (): middy.MiddlewareObj<HttpEvent, HttpResult, Error, Context> => ({
  onError: (request) => {
    const err = toHttpError(request.error, request.context, request.event);
    const body = { ...errorBody(err.code, err.message, err.errors), ...(err.warnings ? { warnings: err.warnings } : {}) };
    request.error = Object.assign(new Error(JSON.stringify(body), { cause: request.error }), {
      statusCode: err.statusCode,
      expose: true,
      ...(err.headers ? { headers: err.headers } : {}),
    });
  },
});

/**
 * 413 past MAX_BODY_BYTES (decoded) and 400 for an empty body, before the body parser reads it; the content type is
 * normalised (media type in lower case) for the parser, which answers a non-JSON one: 415 comes first, as it always did.
 */
const bodyGuard = (): middy.MiddlewareObj<HttpEvent, HttpResult, Error, Context> => ({
  before: ({ event }) => {
    const key = event.headers?.['content-type'] !== undefined ? 'content-type' : 'Content-Type';
    const header = event.headers?.[key];
    if (header === undefined) return;
    const [, ...params] = header.split(';');
    event.headers[key] = [mediaTypeOf(event), ...params].join(';');
    if (!/^application\/(.+\+)?json$/.test(mediaTypeOf(event))) return; // the parser answers 415
    const raw = event.body ?? '';
    const bytes = event.isBase64Encoded ? Buffer.byteLength(raw, 'base64') : Buffer.byteLength(raw, 'utf8');
    if (bytes > MAX_BODY_BYTES) throw payloadTooLarge(`is ${bytes} bytes`);
    if (bytes === 0)
      throw new HttpError(400, 'MalformedBody', 'The body is empty; a JSON request is expected', [{ path: '', message: 'is required' }]);
  },
});

/** One log line and one `Http<n>xx` metric per answer, success or error; header names in lower case throughout. */
const outcome = (name: string): middy.MiddlewareObj<HttpEvent, HttpResult, Error, Context> => {
  const record = (request: middy.Request<HttpEvent, HttpResult, Error, Context>) => {
    const result = request.response;
    if (!result) return;
    if (result.headers) result.headers = Object.fromEntries(Object.entries(result.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const metric = metrics.singleMetric();
    metric.addDimension('route', request.event.routeKey ?? name);
    metric.addMetric(`Http${Math.floor((result.statusCode ?? 500) / 100)}xx`, MetricUnit.Count, 1);
    logger.info('HTTP request', { statusCode: result.statusCode, method: request.event.requestContext?.http?.method });
  };
  return { after: record, onError: record };
};

/** The `{requestId}` path parameter; one that cannot exist is a 404 like any unknown id. */
export const requestIdParam = (event: HttpEvent): string => {
  const id = event.pathParameters?.requestId ?? '';
  if (!REQUEST_ID.test(id)) throw new HttpError(404, 'NotFound', 'No such cluster request');
  return id;
};

/**
 * The caller's IAM principal ARN as API Gateway's AWS_IAM authorization states it (`userArn`: a user, a role, or an
 * assumed-role session), or undefined when the event carries none.
 */
export const callerArnOf = (event: { requestContext?: unknown }): string | undefined => {
  const iam = (event.requestContext as { authorizer?: { iam?: { userArn?: unknown } } } | undefined)?.authorizer?.iam;
  return typeof iam?.userArn === 'string' && iam.userArn !== '' ? iam.userArn : undefined;
};

/** The 403 of a route only admins may call. */
export const forbidden = (): HttpError => new HttpError(403, 'Forbidden', "Only the deployment's admins may call this route");

type Stack<E> = middy.MiddyfiedHandler<E, HttpResult, Error, Context>;

export function httpHandler(name: string, fn: (event: HttpEvent, context: Context) => Promise<HttpResult>): Stack<HttpEvent>;
/** `jsonBody`: the body must be a JSON document (415 / 413 / 400 otherwise); `event.body` is what it parsed to. */
export function httpHandler(
  name: string,
  fn: (event: JsonBodyEvent, context: Context) => Promise<HttpResult>,
  options: { jsonBody: true },
): Stack<HttpEvent>;
export function httpHandler(
  name: string,
  fn: ((event: HttpEvent, context: Context) => Promise<HttpResult>) | ((event: JsonBodyEvent, context: Context) => Promise<HttpResult>),
  options: { jsonBody?: boolean } = {},
) {
  const stack = middy<HttpEvent, HttpResult, Error, Context>()
    .use(tracing())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      before: ({ event }) => {
        logger.appendKeys({ route: event.routeKey, handler: name });
      },
    })
    .use(outcome(name))
    // Logging is ours (toHttpError logs the unexpected, without a stack); the fallback is never reached, as every
    // error is mapped, but would still be a contract answer.
    .use(httpErrorHandler({ logger: false, fallbackMessage: JSON.stringify(errorBody('InternalError', 'Internal error')) }))
    .use(errorMapping());
  if (options.jsonBody)
    stack.use(bodyGuard()).use(httpJsonBodyParser<HttpEvent>() as middy.MiddlewareObj<HttpEvent, HttpResult, Error, Context>);
  // With jsonBody, the parser has replaced the body by its value before fn runs.
  return stack.handler(fn as (event: HttpEvent, context: Context) => Promise<HttpResult>);
}
