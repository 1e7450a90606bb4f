/**
 * What API Gateway does for the local stack's HTTP front: reads a body up to a limit, decodes a path segment, shapes the
 * HTTP API (payload v2) event a handler receives, and writes the answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { ACCOUNT, LOCAL_PRINCIPAL } from './identity';

/** A body for the local intake endpoints (one SQS message or EventBridge entry at most: 256 KiB). */
export const LOCAL_INTAKE_MAX_BYTES = 256 * 1024;

/**
 * The body, or `undefined` once it passes `limit` bytes: reading stops there (a declared Content-Length over the limit
 * stops it at once), so nothing past the limit is buffered; the caller answers 413 and the connection is closed.
 */
export const readBody = (req: IncomingMessage, limit: number): Promise<string | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const stop = () => {
      req.off('data', onData);
      req.pause();
      resolve(undefined);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > DRAIN_MAX_BYTES) stop();
      // Past the limit and below the drain cap: read and dropped, so the client has sent it all when the 413 comes
      // (answering mid-upload would meet a client still writing: EPIPE instead of the answer).
      else over = true;
    };
    req.on('data', onData);
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    if (Number(req.headers['content-length']) > DRAIN_MAX_BYTES) stop();
  });

/** Bodies over the limit are drained up to this size before the 413; larger ones are cut off. */
const DRAIN_MAX_BYTES = 8 * 1024 * 1024;

/** A path segment decoded, or as it came when it is no valid percent-encoding (`%ZZ`): the handler then answers 404. */
export const pathSegment = (raw: string): string => {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
};

export const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
};

/** An API Gateway HTTP API (payload v2) event for a local request. No SigV4 locally: the caller is a fixed principal. */
export const apiGatewayEvent = (
  req: IncomingMessage,
  url: URL,
  routeKey: string,
  body: string,
  pathParameters?: Record<string, string>,
) => {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
  const query = Object.fromEntries(url.searchParams.entries());
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(pathParameters ? { pathParameters } : {}),
    requestContext: {
      accountId: ACCOUNT,
      apiId: 'local',
      domainName: url.host,
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
      authorizer: {
        iam: {
          accessKey: 'LOCAL',
          accountId: ACCOUNT,
          callerId: 'local',
          principalOrgId: null,
          userArn: LOCAL_PRINCIPAL,
          userId: 'local',
          cognitoIdentity: null,
        },
      },
    },
    ...(body ? { body } : {}),
    isBase64Encoded: false,
  };
};
