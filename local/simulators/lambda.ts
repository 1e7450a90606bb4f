/**
 * Lambda's Invoke on loopback (REST: `POST /2015-03-31/functions/{name}/invocations`), answered by calling a handler
 * in process: the local stack binds the plan function's default export here, so the submit path's Lambda planner
 * (functions/adapters/lambda-planner.ts) runs exactly as deployed. Point the SDK at it with AWS_ENDPOINT_URL_LAMBDA.
 *
 * Only `RequestResponse` invocations. A handler that throws answers as Lambda does: 200 with
 * `X-Amz-Function-Error: Unhandled` and `{errorType, errorMessage}`; an unknown function is 404
 * ResourceNotFoundException. Requires a SigV4 Authorization header (not verified).
 */
import type { LoggedRequest } from './common';
import { readBody, startServer, type RunningServer } from './common';

export type InvokedHandler = (event: unknown, context: unknown) => Promise<unknown>;

export interface LambdaSimulator extends RunningServer {
  readonly requests: LoggedRequest[];
}

const INVOKE = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

export const startLambdaSimulator = async (options: {
  /** Handlers by function name (the last segment of an ARN is matched too). */
  functions: Record<string, InvokedHandler>;
  /** The context a handler is called with, per function name. */
  context?: (name: string) => unknown;
}): Promise<LambdaSimulator> => {
  const requests: LoggedRequest[] = [];
  const server = await startServer(async (req, res) => {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://lambda');
    const match = INVOKE.exec(url.pathname);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    requests.push({
      operation: match ? 'Invoke' : `${req.method} ${url.pathname}`,
      at: new Date().toISOString(),
      method: req.method ?? 'GET',
      path: url.pathname,
    });
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 '))
      return json(403, { message: 'Missing Authentication Token' }, { 'x-amzn-errortype': 'MissingAuthenticationTokenException' });
    if (req.method !== 'POST' || !match)
      return json(404, { message: 'Unknown operation' }, { 'x-amzn-errortype': 'UnknownOperationException' });
    const name = decodeURIComponent(match[1]!).split(':function:').at(-1)!.split(':')[0]!;
    const handler = Object.hasOwn(options.functions, name) ? options.functions[name] : undefined;
    if (!handler)
      return json(404, { Type: 'User', message: `Function not found: ${name}` }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
    const type = req.headers['x-amz-invocation-type'] ?? 'RequestResponse';
    if (type !== 'RequestResponse')
      return json(400, { message: 'Only RequestResponse here' }, { 'x-amzn-errortype': 'InvalidParameterValueException' });
    let event: unknown;
    try {
      event = raw ? JSON.parse(raw) : {};
    } catch {
      return json(400, { message: 'Could not parse request body into json' }, { 'x-amzn-errortype': 'InvalidRequestContentException' });
    }
    try {
      const out = await handler(event, options.context?.(name) ?? {});
      json(200, out ?? null, { 'x-amz-executed-version': '$LATEST' });
    } catch (err) {
      json(
        200,
        { errorType: (err as Error).name ?? 'Error', errorMessage: (err as Error).message ?? '' },
        { 'x-amz-function-error': 'Unhandled' },
      );
    }
  });
  return { ...server, requests };
};
