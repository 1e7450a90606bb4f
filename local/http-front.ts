/**
 * The local stack's HTTP port: the API's routes (functions/contract/routes.js, as API Gateway matches them, each to its
 * function through the handler loader), the web console beside them, EventBridge's PutEvents, and the local intake and
 * inspection endpoints under /_local/. The port is taken first, and answers 503 until the stack is up.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ROUTES, routeKey } from '../functions/contract/routes.js';
import { LOCAL_INTAKE_MAX_BYTES, apiGatewayEvent, pathSegment, readBody, send } from './api-gateway';
import type { LocalBus } from './bus';
import type { HandlerLoader } from './handlers';
import { ACCOUNT, REGION, STAGE_PREFIX } from './identity';
import { MAX_JSON_NESTING, jsonNesting } from './simulators/common';
import { isPutEvents } from './simulators/eventbridge';
import type { SnsSimulator } from './simulators/sns';

const listen = (server: Server, port: number): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });

export interface HttpFront {
  apiUrl: string;
  /** Starts answering: until then every request gets a prompt 503 (Retry-After). */
  serve(parts: HttpFrontParts): Promise<void>;
}

export interface HttpFrontParts {
  loader: HandlerLoader;
  bus: LocalBus;
  busName: string;
  sns: Pick<SnsSimulator, 'messages'>;
  log: (line: string) => void;
}

/** Takes the port (a taken one fails here, before anything else starts); closing it is handed to `defer`. */
export const openHttpFront = async (port: number, defer: (close: () => Promise<void>) => void): Promise<HttpFront> => {
  const http = createServer();
  // CONNECT (a proxy's tunnel request) is no method of the API: Node hands it to 'connect', which would otherwise
  // close the socket without an answer.
  http.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, POST, DELETE\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  const starting = (_req: IncomingMessage, res: ServerResponse) =>
    send(res, 503, { code: 'Starting', message: 'The local stack is starting; retry in a moment' }, { 'retry-after': '1' });
  http.on('request', starting);
  await listen(http, port);
  defer(
    () =>
      new Promise((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  );
  const apiUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    apiUrl,
    serve: async (parts) => {
      const answer = await answerer(apiUrl, parts);
      http.off('request', starting);
      http.on('request', (req, res) => {
        answer(req, res).catch((err: unknown) => {
          parts.log(`request failed: ${(err as Error).message}`);
          if (!res.headersSent) send(res, 500, { code: 'InternalError', message: 'Internal error' });
        });
      });
    },
  };
};

/** The requests of the local intake: one SQS message each (ten at most, as one receive), wrapped as Lambda's SQS event. */
const sqsRecords = (body: string) => {
  let payloads: unknown[];
  try {
    const parsed = JSON.parse(body) as unknown;
    payloads = Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    payloads = [body];
  }
  return payloads.slice(0, 10).map((p) => ({
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body: typeof p === 'string' ? p : JSON.stringify(p),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:${STAGE_PREFIX}-requests`,
    awsRegion: REGION,
  }));
};

const answerer = async (apiUrl: string, { loader, bus, busName, sns }: HttpFrontParts) => {
  // Loaded with the handlers, once the functions' environment is set.
  const { MAX_BODY_BYTES, payloadTooLarge } = await import('../functions/platform/middleware/http');
  const { serveConsole } = await import('../console/serve');
  // The contract's routes, as API Gateway matches them: a `{param}` is one path segment; a trailing slash is allowed.
  const routes = ROUTES.map((route) => ({
    method: route.method,
    pattern: new RegExp(`^${route.path.replace(/\{[A-Za-z]+\}/g, '([^/]+)')}/?$`),
    routeKey: routeKey(route),
    functionKey: route.functionKey,
  }));

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', apiUrl);
    } catch {
      return send(res, 404, { code: 'NotFound', message: 'No such route' });
    }
    // The web console (console/): its page beside the API it calls, on the same origin.
    if (await serveConsole(req, res, url.pathname)) return;
    const local = url.pathname.startsWith('/_local/');
    const limit = local ? LOCAL_INTAKE_MAX_BYTES : MAX_BODY_BYTES;
    const body = await readBody(req, limit);
    if (body === undefined) {
      // What the API answers for a body it will not take; the rest of the body is never read.
      const { code, message, errors } = payloadTooLarge(`is more than ${limit} bytes`, limit);
      return send(res, 413, { code, message, errors }, { connection: 'close' });
    }
    if (local && jsonNesting(body) > MAX_JSON_NESTING) {
      const message = `must nest at most ${MAX_JSON_NESTING} levels deep`;
      return send(res, 400, { code: 'ValidationFailed', message: `The body ${message}`, errors: [{ path: '', message }] });
    }
    // EventBridge PutEvents (AWS JSON 1.1) on this port too: `aws events put-events --endpoint-url <this>`.
    if (req.method === 'POST' && url.pathname === '/' && isPutEvents(req.headers)) {
      const answer = await bus.simulator.handle(req.headers, body);
      return send(res, answer.status, answer.body, answer.headers);
    }
    // Local intake: wrap a payload into the real event shapes and call the same handlers.
    if (req.method === 'POST' && url.pathname === '/_local/sqs') {
      const records = sqsRecords(body);
      const result = await loader.invoke('sqsSubmit', { Records: records });
      return send(res, 200, { messageIds: records.map((r) => r.messageId), ...(result as object) });
    }
    if (req.method === 'POST' && url.pathname === '/_local/events') {
      const out = await new EventBridgeClient({}).send(
        new PutEventsCommand({
          Entries: [{ EventBusName: busName, Source: 'local.cli', DetailType: 'Provision Cluster Requested', Detail: body }],
        }),
      );
      return send(res, out.FailedEntryCount ? 400 : 200, { entries: out.Entries });
    }
    if (req.method === 'GET' && url.pathname === '/_local/sns') {
      const topic = url.searchParams.get('topic');
      return send(res, 200, { messages: sns.messages.filter((m) => !topic || m.topicArn === topic) });
    }
    if (req.method === 'GET' && url.pathname === '/_local/dead-letters') {
      const queue = url.searchParams.get('queue');
      return send(res, 200, { messages: bus.deadLetters.filter((d) => !queue || d.queue === queue) });
    }
    if (req.method === 'GET' && url.pathname === '/_local/events') {
      const after = Math.max(0, Number(url.searchParams.get('after') ?? 0) || 0);
      return send(res, 200, bus.eventsAfter(after));
    }
    for (const route of routes) {
      const match = req.method === route.method ? route.pattern.exec(url.pathname) : null;
      if (!match) continue;
      const params = match[1] ? { requestId: pathSegment(match[1]) } : undefined;
      const result = (await loader.invoke(route.functionKey, apiGatewayEvent(req, url, route.routeKey, body, params), {
        name: route.routeKey,
      })) as { statusCode: number; headers?: Record<string, string>; body?: string };
      return send(res, result.statusCode, result.body ?? '', result.headers ?? {});
    }
    send(res, 404, { code: 'NotFound', message: `No route ${req.method} ${url.pathname}` });
  };
};
