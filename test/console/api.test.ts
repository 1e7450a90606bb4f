/**
 * What the console reads that the API adds for it: GET /offerings (the real handler over the real DynamoDB adapter on
 * dynalite, every answer checked against the OpenAPI document) and the `cost` of a record (functions/core/view.ts).
 */
import { randomUUID } from 'node:crypto';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoOfferings, ensureOfferingsTable } from '../../functions/adapters/offerings-dynamo';
import { hourlyPrice } from '../../functions/core/prices';
import { costOf, recordView, recordViewAt } from '../../functions/core/view';
import { makeHandler } from '../../functions/handlers/http/offerings';
import type { HttpResult } from '../../functions/platform/middleware/http';
import { createDynamoOfferingsReader } from '../../functions/adapters/offerings-reader';
import { httpEvent, lambdaContext } from '../fixtures/events';
import { dynamoClient, sampleRecord } from '../helpers/dynamo';
import { validateResponse } from '../helpers/openapi';

const P5 = 'sagemaker#us-east-1#ml.p5.48xlarge';
const P4 = 'sagemaker#us-west-2#ml.p4d.24xlarge';
const TIR = 'tir#Delhi#sku-401';

describe('GET /offerings', () => {
  const setup = async (now: Date) => {
    const client = dynamoClient();
    const tableName = `offerings-${randomUUID()}`;
    await ensureOfferingsTable(client, tableName);
    const memory = createDynamoOfferings({ client, tableName });
    const handler = makeHandler(
      () => createDynamoOfferingsReader({ client, tableName }),
      () => now,
    );
    const read = async () => {
      const result = (await handler(httpEvent('GET /offerings', '/offerings') as never, lambdaContext())) as HttpResult;
      const body = JSON.parse(result.body!);
      validateResponse('GET /offerings', result.statusCode!, body);
      return { status: result.statusCode!, body };
    };
    return { memory, read, client, tableName };
  };

  it('lists the offerings remembered short and those being probed, not those whose memory ran out', async () => {
    const now = new Date(Date.now() + 60_000);
    const { memory, read, client, tableName } = await setup(now);
    const later = (s: number) => new Date(now.getTime() + s * 1000);
    await memory.remember([P5], later(600), 'We currently do not have sufficient ml.p5.48xlarge capacity');
    await memory.remember([TIR], later(120), 'sku 401 is out of stock in Delhi');
    // Ran out a minute ago, and one request holds its probe lease.
    await memory.remember([P4], later(-60), 'short in us-west-2');
    await memory.claim([P4], 'prober', now, 300);
    // Ran out, nobody probes it: free.
    await memory.remember(['sagemaker#us-east-1#ml.g5.2xlarge'], later(-1), 'short once');
    // Another kind of item in the same table (a queue of waiting requests) is no offering.
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { offering: { S: `waiters#${P5}` }, waiters: { M: { r1: { S: `${now.toISOString()}|${later(600).toISOString()}` } } } },
      }),
    );

    const { status, body } = await read();
    expect(status).toBe(200);
    expect(body.at).toBe(now.toISOString());
    expect(body.items).toEqual([
      {
        offering: P5,
        provider: 'sagemaker',
        region: 'us-east-1',
        instanceType: 'ml.p5.48xlarge',
        state: 'short',
        since: expect.any(String),
        until: later(600).toISOString(),
        reason: expect.stringContaining('p5'),
      },
      {
        offering: P4,
        provider: 'sagemaker',
        region: 'us-west-2',
        instanceType: 'ml.p4d.24xlarge',
        state: 'probing',
        since: expect.any(String),
        until: later(300).toISOString(),
        reason: 'short in us-west-2',
      },
      {
        offering: TIR,
        provider: 'tir',
        location: 'Delhi',
        instanceType: 'sku-401',
        state: 'short',
        since: expect.any(String),
        until: later(120).toISOString(),
        reason: 'sku 401 is out of stock in Delhi',
      },
    ]);
    // "since" is when the shortage was seen: at the remember() call, before the read.
    for (const item of body.items) expect(Date.parse(item.since)).toBeLessThanOrEqual(Date.now());
  });

  it('answers an empty list when nothing is short', async () => {
    const { read } = await setup(new Date());
    expect((await read()).body.items).toEqual([]);
  });
});

describe('the cost of a record', () => {
  const p5 = hourlyPrice({ provider: 'hyperpod', region: 'us-east-1', instanceType: 'ml.p5.48xlarge' })!.usdPerHour;
  const ready = (overrides = {}) =>
    sampleRecord({
      status: 'READY',
      readyAt: '2026-11-29T08:00:00.000Z',
      request: {
        provider: 'sagemaker',
        cluster: {
          ClusterName: 'train-a',
          InstanceGroups: [{ InstanceGroupName: 'workers', InstanceCount: 4, InstanceType: 'ml.p5.48xlarge' }],
        },
      },
      groups: [{ name: 'workers', current: 4, target: 4 }],
      ...overrides,
    });

  it('prices the running instances and counts the spend from readyAt', () => {
    const cost = costOf(ready(), new Date('2026-11-29T10:30:00.000Z'))!;
    expect(cost.usdPerHour).toBeCloseTo(4 * p5, 2);
    expect(cost.sinceReadyUsd).toBeCloseTo(4 * p5 * 2.5, 2);
    expect(cost.source).toContain('us-east-1');
  });

  it('stops counting at deletedAt, and prices the types a flexible group reports', () => {
    const record = ready({
      status: 'DELETED',
      deletedAt: '2026-11-29T09:00:00.000Z',
      groups: [{ name: 'workers', current: 3, target: 4, instanceTypes: [{ type: 'ml.p5.48xlarge', count: 3 }] }],
    });
    expect(costOf(record, new Date('2026-11-29T12:00:00.000Z'))!.sinceReadyUsd).toBeCloseTo(3 * p5, 2);
  });

  it('has no cost before READY, on TIR, or when a type or region has no price', () => {
    const now = new Date('2026-11-29T10:00:00.000Z');
    expect(costOf(ready({ status: 'CREATING', readyAt: undefined }), now)).toBeUndefined();
    expect(costOf(ready({ provider: 'tir', region: undefined, location: 'Delhi' }), now)).toBeUndefined();
    expect(costOf(ready({ region: 'ap-south-2' }), now)).toBeUndefined();
    const unpriced = ready({
      request: {
        provider: 'sagemaker',
        cluster: { ClusterName: 'x', InstanceGroups: [{ InstanceGroupName: 'workers', InstanceType: 'ml.unknown.1xlarge' }] },
      },
    });
    expect(costOf(unpriced, now)).toBeUndefined();
  });

  it('shows it in the record view, which never shows the request hash', () => {
    const view = recordViewAt(ready(), new Date('2026-11-29T09:00:00.000Z'));
    expect(view.cost?.sinceReadyUsd).toBeCloseTo(4 * p5, 2);
    expect('requestHash' in view).toBe(false);
    expect(recordView(sampleRecord()).cost).toBeUndefined();
  });
});
