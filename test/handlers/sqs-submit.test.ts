import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IntakeDeps } from '../../functions/core/intake';
import type { ClusterStore } from '../../functions/core/store';
import { makeHandler } from '../../functions/handlers/sqs-submit';
import { lambdaContext, sqsEvent } from '../fixtures/events';
import { hyperpodRequest, startEntryHarness, tirRequest, type EntryHarness } from '../helpers/workflow';

let h: EntryHarness;
beforeAll(async () => {
  h = await startEntryHarness();
});
afterAll(async () => {
  await h.close();
});

const handle = (event: ReturnType<typeof sqsEvent>, deps: () => IntakeDeps = () => h.intakeDeps) =>
  makeHandler(deps)(event, lambdaContext('sqsSubmit'));

describe('sqsSubmit', () => {
  it('accepts valid messages, rejects invalid ones with an event, and acknowledges all of them', async () => {
    const valid = hyperpodRequest();
    const invalid = { ...tirRequest(), requestId: 'sqs-invalid-1', projectId: -3 };
    const event = sqsEvent([
      { body: JSON.stringify(valid), messageId: 'm-valid' },
      { body: '{"provider": ', messageId: 'm-not-json' },
      { body: JSON.stringify(invalid), messageId: 'm-invalid' },
    ]);
    const rejectionsBefore = h.rejections().length;
    const result = await handle(event);

    expect(result.batchItemFailures).toEqual([]);
    expect((await h.store.require(valid.requestId)).status).not.toBe('SCHEDULED');
    expect(h.workflows.get(valid.requestId)).toBeDefined();
    expect(await h.store.get('sqs-invalid-1')).toBeUndefined();

    const rejections = h.rejections().slice(rejectionsBefore);
    expect(rejections).toHaveLength(2);
    const byMessage = Object.fromEntries(rejections.map((r) => [r.Detail.messageId, r.Detail]));
    expect(byMessage['m-not-json']).toMatchObject({ source: 'sqs', reason: 'invalid-request', errors: [{ path: '' }] });
    expect(byMessage['m-invalid']).toMatchObject({ source: 'sqs', requestId: 'sqs-invalid-1', reason: 'invalid-request' });
    expect((byMessage['m-invalid']!.errors as Array<{ path: string }>).map((e) => e.path)).toContain('/projectId');
    // The rejection names the bad fields; it never echoes the request body.
    expect(JSON.stringify(byMessage['m-invalid'])).not.toContain('sku_item_price_id');
  });

  it('turns a duplicate message (same batch, then a redelivery) into one record and one execution', async () => {
    const request = tirRequest();
    const body = JSON.stringify(request);
    const first = await handle(sqsEvent([{ body }, { body }]));
    const redelivery = await handle(sqsEvent([{ body, receiveCount: 2 }]));
    expect(first.batchItemFailures).toEqual([]);
    expect(redelivery.batchItemFailures).toEqual([]);
    expect(h.workflows.list().filter((e) => e.name === request.requestId)).toHaveLength(1);
    await h.workflows.get(request.requestId)!.done;
    expect(
      h.tir.requests.filter(
        (r) => r.operation === 'create' && r.status === 201 && (r.body as { name?: string })?.name === request.cluster.name,
      ),
    ).toHaveLength(1);
  });

  it('reports only the items that failed transiently, so SQS redelivers just those', async () => {
    const ok = hyperpodRequest();
    const unlucky = hyperpodRequest();
    const flakyStore: ClusterStore = {
      ...h.store,
      create: async (record) => {
        if (record.requestId === unlucky.requestId) {
          throw Object.assign(new Error('Throughput exceeds the current capacity of your table'), {
            name: 'ProvisionedThroughputExceededException',
          });
        }
        return h.store.create(record);
      },
    };
    const deps: IntakeDeps = { ...h.intakeDeps, store: flakyStore };
    const result = await handle(
      sqsEvent([
        { body: JSON.stringify(ok), messageId: 'm-ok' },
        { body: JSON.stringify(unlucky), messageId: 'm-unlucky' },
        { body: '[]', messageId: 'm-rejected' },
      ]),
      () => deps,
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-unlucky' }]);
    expect(await h.store.get(ok.requestId)).toBeDefined();
    expect(await h.store.get(unlucky.requestId)).toBeUndefined();
  });

  it('answers a batch that failed whole with every item (SQS redelivers them all), instead of failing the invocation', async () => {
    const requests = [hyperpodRequest(), tirRequest()];
    const downStore: ClusterStore = {
      ...h.store,
      create: async () => {
        throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'ECONNREFUSED' });
      },
    };
    const result = await handle(sqsEvent(requests.map((r, i) => ({ body: JSON.stringify(r), messageId: `m-down-${i}` }))), () => ({
      ...h.intakeDeps,
      store: downStore,
    }));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-down-0' }, { itemIdentifier: 'm-down-1' }]);
    for (const r of requests) expect(await h.store.get(r.requestId)).toBeUndefined();
  });

  it('rejects a requestId reused for a different request as a conflict, without touching the record', async () => {
    const request = hyperpodRequest();
    await handle(sqsEvent([{ body: JSON.stringify(request) }]));
    const before = await h.store.require(request.requestId);
    const other = { ...request, cluster: { ...request.cluster, ClusterName: 'another-name' } };
    const result = await handle(sqsEvent([{ body: JSON.stringify(other), messageId: 'm-conflict' }]));
    expect(result.batchItemFailures).toEqual([]);
    expect(h.rejections().at(-1)!.Detail).toMatchObject({ messageId: 'm-conflict', reason: 'conflict', requestId: request.requestId });
    expect((await h.store.require(request.requestId)).requestHash).toBe(before.requestHash);
  });
});
