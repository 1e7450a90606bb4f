/**
 * The entry points over the real store, for hostile input: dynalite (a table of its own), a recording workflow
 * starter, scheduler and event publisher. Every store write, start, schedule and published event is recorded, so a
 * test can say exactly what one input caused: a rejected input must cause no write, no start and no schedule.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, SQSBatchResponse } from 'aws-lambda';
import type { EventEntry } from '../../functions/core/events';
import type { IntakeDeps } from '../../functions/core/intake';
import type { ClusterStore } from '../../functions/core/store';
import type { WorkflowStarter } from '../../functions/core/submit';
import { makeHandler as makeEventSubmit } from '../../functions/handlers/event-submit';
import { makeHandler as makeList } from '../../functions/handlers/http/list';
import { makeHandler as makeSubmit } from '../../functions/handlers/http/submit';
import { makeHandler as makeScheduleTarget, type ScheduleEvent } from '../../functions/handlers/schedule-target';
import { makeHandler as makeSqsSubmit } from '../../functions/handlers/sqs-submit';
import type { HttpResult } from '../../functions/platform/middleware/http';
import { eventBridgeEvent, httpEvent, lambdaContext, sqsEvent } from '../fixtures/events';
import { freshStore } from '../helpers/dynamo';
import { assertEventMatchesSchema } from '../helpers/event-schemas';
import { validateResponse } from '../helpers/openapi';

/** What the system did: every store write, every start and schedule, every event published. */
export interface Effects {
  writes: string[];
  starts: string[];
  schedules: string[];
  events: EventEntry[];
}

export interface HttpAnswer {
  status: number;
  body: { code?: string; message?: string; errors?: Array<{ path: string; message: string }> } & Record<string, unknown>;
}

/** How deep objects and arrays nest in a value (a top-level attribute's map or list is level 1), without recursion. */
const nesting = (value: unknown): number => {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, level] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    deepest = Math.max(deepest, level + 1);
    for (const child of Object.values(node)) stack.push([child, level + 1]);
  }
  return deepest;
};

/**
 * DynamoDB refuses an item nested deeper than 32 levels; dynalite does not, and overflows its stack on one a thousand
 * levels deep, which would take the whole test run down with it (it runs in vitest's main process). The harness
 * answers as DynamoDB does, so a regression shows up as the 5xx it would be in production.
 */
const asDynamoDb = (record: object): void => {
  for (const value of Object.values(record))
    if (nesting(value) > 32)
      throw Object.assign(new Error('Nesting Levels have exceeded supported limits'), { name: 'ValidationException' });
};

export const startFaultHarness = async () => {
  const { store: real, client, tableName } = await freshStore();
  const effects: Effects = { writes: [], starts: [], schedules: [], events: [] };
  const store: ClusterStore = {
    ...real,
    // What was written: a conditional put that finds the record there (a conflict, a replay race) writes nothing.
    create: async (record) => {
      asDynamoDb(record);
      const result = await real.create(record);
      if (result.created) effects.writes.push(`create ${record.requestId}`);
      return result;
    },
    update: async (requestId, patch, whileIn) => {
      asDynamoDb(patch);
      const updated = await real.update(requestId, patch, whileIn);
      effects.writes.push(`update ${requestId}`);
      return updated;
    },
    transition: async (requestId, to, patch, options) => {
      asDynamoDb(patch ?? {});
      const moved = await real.transition(requestId, to, patch, options);
      effects.writes.push(`transition ${requestId}`);
      return moved;
    },
  };
  const starter: WorkflowStarter = {
    startProvisioning: async (requestId, name) => {
      effects.starts.push(requestId);
      return { executionArn: `arn:aws:states:us-east-1:123456789012:execution:provision:${name ?? requestId}`, alreadyStarted: false };
    },
    startDeletion: async (requestId, name) => {
      effects.starts.push(`delete ${requestId}`);
      return { executionArn: `arn:aws:states:us-east-1:123456789012:execution:delete:${name}`, alreadyStarted: false };
    },
  };
  const deps: IntakeDeps = {
    store,
    starter,
    scheduler: { scheduleProvisioning: async (requestId) => void effects.schedules.push(requestId) },
    defaultRegion: 'us-east-1',
    events: {
      publish: async (entries) => {
        for (const entry of entries) assertEventMatchesSchema(entry.DetailType, entry.Detail);
        effects.events.push(...entries);
      },
    },
    eventBusName: 'fault-bus',
  };

  const submitHandler = makeSubmit(() => deps) as unknown as (event: APIGatewayProxyEventV2, context: unknown) => Promise<HttpResult>;
  const listHandler = makeList(() => store) as unknown as (event: APIGatewayProxyEventV2, context: unknown) => Promise<HttpResult>;
  const sqsHandler = makeSqsSubmit(() => deps);
  const eventHandler = makeEventSubmit(() => deps);
  const scheduleHandler = makeScheduleTarget(() => deps);

  /** The answer parsed and checked against the OpenAPI document (route, status, body). */
  const answer = (routeKey: string, result: HttpResult): HttpAnswer => {
    const body = result.body ? (JSON.parse(result.body) as HttpAnswer['body']) : {};
    validateResponse(routeKey, result.statusCode!, body);
    return { status: result.statusCode!, body };
  };

  return {
    store,
    effects,
    deps,
    /** POST /clusters through the whole middy stack, with a raw body. */
    async post(body: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
      return answer('POST /clusters', await submitHandler(httpEvent('POST /clusters', '/clusters', { body, headers }), lambdaContext()));
    },
    async list(query: Record<string, string>): Promise<HttpAnswer> {
      return answer('GET /clusters', await listHandler(httpEvent('GET /clusters', '/clusters', { query }), lambdaContext()));
    },
    async sqs(bodies: Array<{ body: string; messageId: string }>): Promise<SQSBatchResponse> {
      return sqsHandler(sqsEvent(bodies), lambdaContext('sqsSubmit'));
    },
    async event(detail: unknown): Promise<void> {
      await eventHandler(eventBridgeEvent(detail) as never, lambdaContext('eventSubmit'));
    },
    async schedule(event: ScheduleEvent): Promise<void> {
      await scheduleHandler(event, lambdaContext('scheduleTarget'));
    },
    /** The requestIds of every record in the table. */
    async recordedIds(): Promise<string[]> {
      const ids: string[] = [];
      let start: Record<string, never> | undefined;
      do {
        const page = await client.send(
          new ScanCommand({ TableName: tableName, ProjectionExpression: 'requestId, recordType', ExclusiveStartKey: start }),
        );
        // Records only: the reconciler's sweep position is an item of the table too.
        for (const item of page.Items ?? []) if (item.recordType) ids.push(item.requestId?.S ?? '');
        start = page.LastEvaluatedKey as Record<string, never> | undefined;
      } while (start);
      return ids;
    },
  };
};

export type FaultHarness = Awaited<ReturnType<typeof startFaultHarness>>;
