/**
 * An EventBridge simulator on loopback speaking AWS JSON 1.1 (`X-Amz-Target: AWSEvents.PutEvents`), enough for the
 * provisioner's own use: PutEvents validates entries like the service (Source, DetailType, Detail as a JSON object
 * string, at most 10 entries), records them, and hands each to `onEvent` (the local stack appends them to
 * events.ndjson and routes `Provision Cluster Requested` to the eventSubmit handler, as the deployed rule does).
 * Point the SDK at it with AWS_ENDPOINT_URL_EVENTBRIDGE.
 */
import { randomUUID } from 'node:crypto';
import { readBody, sendJson, startServer, type RunningServer } from './common';

export interface PutEventsEntry {
  Source: string;
  DetailType: string;
  Detail: Record<string, unknown>;
  EventBusName: string;
  Time: string;
}

export interface EventBridgeSimulator extends RunningServer {
  readonly entries: PutEventsEntry[];
}

const awsError = (res: Parameters<typeof sendJson>[0], status: number, type: string, message: string) =>
  sendJson(res, status, { __type: type, message }, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type });

export const startEventBridgeSimulator = async (
  options: { port?: number; onEvent?: (entry: PutEventsEntry) => void | Promise<void> } = {},
): Promise<EventBridgeSimulator> => {
  const entries: PutEventsEntry[] = [];
  const server = await startServer(async (req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const body = await readBody(req);
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256')) {
      return awsError(res, 400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    if (target !== 'AWSEvents.PutEvents') return awsError(res, 400, 'UnknownOperationException', `Unknown operation ${target}`);
    let input: { Entries?: Array<Record<string, unknown>> };
    try {
      input = JSON.parse(body) as typeof input;
    } catch {
      return awsError(res, 400, 'SerializationException', 'Body is not JSON');
    }
    const list = Array.isArray(input.Entries) ? input.Entries : [];
    if (list.length < 1 || list.length > 10) {
      return awsError(res, 400, 'ValidationException', 'Entries must have between 1 and 10 items');
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
        EventBusName: typeof raw.EventBusName === 'string' ? raw.EventBusName : 'default',
        Time: new Date().toISOString(),
      };
      entries.push(entry);
      await options.onEvent?.(entry);
      results.push({ EventId: randomUUID() });
    }
    const failed = results.filter((r) => r.ErrorCode).length;
    sendJson(res, 200, { Entries: results, FailedEntryCount: failed }, { 'content-type': 'application/x-amz-json-1.1' });
  }, options.port ?? 0);
  return { ...server, entries };
};
