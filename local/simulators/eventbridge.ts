/**
 * An EventBridge simulator on loopback speaking AWS JSON 1.1 (`X-Amz-Target: AWSEvents.PutEvents`), enough for the
 * provisioner's own use: PutEvents validates entries like the service (Source, DetailType, Detail as a JSON object
 * string, at most 10 entries), records them, and hands each to `onEvent` (the local stack appends them to
 * events.ndjson and routes each to every function whose serverless.yml rule pattern matches it: ./event-patterns.ts).
 * Point the SDK at it with AWS_ENDPOINT_URL_EVENTBRIDGE; the local stack also takes PutEvents on its own HTTP port
 * (`handle`).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { MAX_JSON_NESTING, jsonNesting, readBody, sendJson, startServer, type RunningServer } from './common';

export interface PutEventsEntry {
  Source: string;
  DetailType: string;
  Detail: Record<string, unknown>;
  EventBusName: string;
  Time: string;
}

export interface EventBridgeSimulator extends RunningServer {
  readonly entries: PutEventsEntry[];
  /**
   * Answers one PutEvents call that arrived another way (the local stack takes PutEvents on its own HTTP port too):
   * the same checks, recording and `onEvent` as the simulator's port.
   */
  handle(headers: IncomingHttpHeaders, body: string): Promise<AwsAnswer>;
}

export interface AwsAnswer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

const JSON_11 = 'application/x-amz-json-1.1';

const awsError = (status: number, type: string, message: string): AwsAnswer => ({
  status,
  body: { __type: type, message },
  headers: { 'content-type': JSON_11, 'x-amzn-errortype': type },
});

/** Whether a request is an EventBridge PutEvents call (AWS JSON 1.1). */
export const isPutEvents = (headers: IncomingHttpHeaders): boolean => String(headers['x-amz-target'] ?? '') === 'AWSEvents.PutEvents';

export const startEventBridgeSimulator = async (
  options: { port?: number; onEvent?: (entry: PutEventsEntry) => void | Promise<void> } = {},
): Promise<EventBridgeSimulator> => {
  const entries: PutEventsEntry[] = [];
  const handle = async (headers: IncomingHttpHeaders, body: string): Promise<AwsAnswer> => {
    const target = String(headers['x-amz-target'] ?? '');
    if (!String(headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256')) {
      return awsError(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    if (target !== 'AWSEvents.PutEvents') return awsError(400, 'UnknownOperationException', `Unknown operation ${target}`);
    if (jsonNesting(body) > MAX_JSON_NESTING) {
      return awsError(400, 'SerializationException', `Body nests deeper than ${MAX_JSON_NESTING} levels`);
    }
    let input: { Entries?: Array<Record<string, unknown>> };
    try {
      input = JSON.parse(body) as typeof input;
    } catch {
      return awsError(400, 'SerializationException', 'Body is not JSON');
    }
    const list = Array.isArray(input?.Entries) ? input.Entries : [];
    if (list.length < 1 || list.length > 10) {
      return awsError(400, 'ValidationException', 'Entries must have between 1 and 10 items');
    }
    if (list.some((raw) => typeof raw !== 'object' || raw === null || Array.isArray(raw))) {
      return awsError(400, 'SerializationException', 'Each entry of Entries must be an object');
    }
    const results: Array<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }> = [];
    for (const raw of list) {
      let detail: unknown;
      try {
        detail = typeof raw.Detail === 'string' ? JSON.parse(raw.Detail) : undefined;
      } catch {
        detail = undefined;
      }
      if (
        typeof raw.Source !== 'string' ||
        typeof raw.DetailType !== 'string' ||
        !detail ||
        typeof detail !== 'object' ||
        Array.isArray(detail)
      ) {
        results.push({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Source, DetailType and a JSON object Detail are required' });
        continue;
      }
      const entry: PutEventsEntry = {
        Source: raw.Source,
        DetailType: raw.DetailType,
        Detail: detail as Record<string, unknown>,
        EventBusName: typeof raw.EventBusName === 'string' && raw.EventBusName ? raw.EventBusName : 'default',
        Time: new Date().toISOString(),
      };
      entries.push(entry);
      await options.onEvent?.(entry);
      results.push({ EventId: randomUUID() });
    }
    const failed = results.filter((r) => r.ErrorCode).length;
    return { status: 200, body: { Entries: results, FailedEntryCount: failed }, headers: { 'content-type': JSON_11 } };
  };
  const server = await startServer(async (req, res) => {
    const answer = await handle(req.headers, await readBody(req));
    sendJson(res, answer.status, answer.body, answer.headers);
  }, options.port ?? 0);
  return { ...server, entries, handle };
};
