import { DescribeTableCommand, GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDynamoStore } from '../../functions/adapters/dynamo-store';
import { ensureClustersTable, listSortKey } from '../../functions/adapters/dynamo-table';
import {
  InvalidCursorError,
  RecordConflictError,
  RecordNotFoundError,
  RequestValidationError,
  StoreUnavailableError,
} from '../../functions/core/errors';
import {
  STATUSES,
  TRANSITIONS,
  type ClusterRecord,
  type ClusterStatus,
  type ClusterStore,
  type ListQuery,
} from '../../functions/core/store';
import { dynamoClient, freshStore, sampleRecord, type FreshStore } from '../helpers/dynamo';

const T0 = '2025-01-01T00:00:00.000Z';
const LATER = '2025-01-02T03:04:05.678Z';

const LEGAL = STATUSES.flatMap((from) => TRANSITIONS[from].map((to) => [from, to] as const));
const ILLEGAL = STATUSES.flatMap((from) => STATUSES.filter((to) => !TRANSITIONS[from].includes(to)).map((to) => [from, to] as const));

/** The item as stored, attribute values and all, for "nothing was written" checks. */
const rawItem = async (db: FreshStore, requestId: string) => {
  const key = { requestId: { S: requestId } };
  return (await db.client.send(new GetItemCommand({ TableName: db.tableName, Key: key, ConsistentRead: true }))).Item;
};

/**
 * A store whose first `times` UpdateItem calls are each preceded by `interlope()`: another writer changing the record
 * between this store's read and its conditional write. Real SDK middleware, real dynalite, deterministic race.
 */
const racyStore = (db: FreshStore, interlope: () => Promise<unknown>, times = 1): ClusterStore => {
  const client: DynamoDBClient = dynamoClient();
  let fired = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UpdateItemCommand' && fired < times) {
        fired += 1;
        await interlope();
      }
      return next(args);
    },
    { step: 'initialize', name: 'interlope' },
  );
  return createDynamoStore({ client, tableName: db.tableName, now: () => new Date(LATER) });
};

describe('createDynamoStore', () => {
  let db: FreshStore;
  const seed = async (overrides: Partial<ClusterRecord> = {}): Promise<ClusterRecord> =>
    (await db.store.create(sampleRecord(overrides))).record;

  beforeAll(async () => {
    db = await freshStore({ now: () => new Date(LATER) });
  });

  describe('create and get', () => {
    it('stores a record and reads it back unchanged, numbers as numbers', async () => {
      // Prepare
      const record = sampleRecord({ provider: 'tir', projectId: 4242, location: 'Delhi', activeIam: 7, attempts: 2 });

      // Act
      const { created, record: stored } = await db.store.create(record);
      const read = await db.store.get(record.requestId);

      // Assess
      expect(created).toBe(true);
      expect(read).toEqual(stored);
      expect(read).toEqual({ ...record, history: [{ to: 'ACCEPTED', at: T0 }] });
      expect(read?.projectId).toBe(4242);
      expect(read?.attempts).toBe(2);
      expect(read).not.toHaveProperty('listSk');
      expect(read).not.toHaveProperty('recordType');
    });

    it('keeps a first history entry written by the caller', async () => {
      const history = [{ to: 'SCHEDULED' as const, at: T0, reason: 'scheduled for later' }];
      const { record } = await db.store.create(sampleRecord({ status: 'SCHEDULED', history }));
      expect(record.history).toEqual(history);
    });

    it('drops undefined fields instead of failing', async () => {
      const { record } = await db.store.create(sampleRecord({ providerId: undefined, lastError: undefined }));
      expect(await db.store.get(record.requestId)).not.toHaveProperty('providerId');
    });

    it('returns the existing record untouched on a second create of the same requestId', async () => {
      // Prepare
      const first = await seed({ clusterName: 'first' });
      const before = await rawItem(db, first.requestId);

      // Act
      const again = sampleRecord({ requestId: first.requestId, clusterName: 'second', requestHash: 'b'.repeat(64) });
      const second = await db.store.create(again);

      // Assess
      expect(second).toEqual({ created: false, record: first });
      expect(await rawItem(db, first.requestId)).toEqual(before);
    });

    it('answers undefined from get and RecordNotFoundError from require when absent', async () => {
      expect(await db.store.get('req-missing')).toBeUndefined();
      await expect(db.store.require('req-missing')).rejects.toBeInstanceOf(RecordNotFoundError);
    });

    it('uses the default client, which finds dynalite through AWS_ENDPOINT_URL_DYNAMODB', async () => {
      const record = await seed();
      const fromEnv = createDynamoStore({ tableName: db.tableName });
      expect(await fromEnv.get(record.requestId)).toEqual(record);
    });
  });

  describe('transition', () => {
    it.each(LEGAL)('moves %s to %s, applies the patch and appends {from, to}', async (from, to) => {
      // Prepare
      const record = await seed({ status: from });

      // Act
      const patch = { providerStatus: 'InService', attempts: 3 };
      const moved = await db.store.transition(record.requestId, to, patch, { reason: 'test' });

      // Assess
      expect(moved).toEqual({
        ...record,
        status: to,
        providerStatus: 'InService',
        attempts: 3,
        updatedAt: LATER,
        history: [...record.history, { from, to, at: LATER, reason: 'test' }],
      });
      expect(await db.store.get(record.requestId)).toEqual(moved);
    });

    it.each(ILLEGAL)('refuses %s to %s and writes nothing', async (from, to) => {
      // Prepare
      const record = await seed({ status: from });
      const before = await rawItem(db, record.requestId);

      // Act
      const moving = db.store.transition(record.requestId, to, { providerStatus: 'Overwritten?' }, { reason: 'illegal' });

      // Assess
      await expect(moving).rejects.toBeInstanceOf(RecordConflictError);
      await expect(moving).rejects.toThrow(`from ${from} to ${to}`);
      expect(await rawItem(db, record.requestId)).toEqual(before);
    });

    it('covers every pair of statuses between the legal and illegal cases', () => {
      expect(LEGAL.length + ILLEGAL.length).toBe(STATUSES.length ** 2);
      expect(LEGAL.length).toBeGreaterThan(0);
    });

    it('refuses a legal move from a status outside expectFrom, and allows it from inside', async () => {
      // Prepare
      const record = await seed({ status: 'CREATING' });
      const before = await rawItem(db, record.requestId);

      // Act + Assess
      const narrowed = db.store.transition(record.requestId, 'FAILED', {}, { expectFrom: ['ACCEPTED'] });
      await expect(narrowed).rejects.toThrow(RecordConflictError);
      expect(await rawItem(db, record.requestId)).toEqual(before);
      const moved = await db.store.transition(record.requestId, 'FAILED', {}, { expectFrom: ['ACCEPTED', 'CREATING'] });
      expect(moved.status).toBe('FAILED');
    });

    it('throws RecordNotFoundError for a missing record', async () => {
      await expect(db.store.transition('req-missing', 'CREATING')).rejects.toBeInstanceOf(RecordNotFoundError);
    });

    it('ignores patch fields set to undefined', async () => {
      const record = await seed({ status: 'CREATING', providerId: 'arn:cluster/1' });
      const moved = await db.store.transition(record.requestId, 'READY', { providerId: undefined, readyAt: LATER });
      expect(moved.providerId).toBe('arn:cluster/1');
      expect(moved.readyAt).toBe(LATER);
    });

    it('refuses a patch that touches a field the store owns', async () => {
      const record = await seed({ status: 'CREATING' });
      const before = await rawItem(db, record.requestId);
      const patch = { provider: 'tir' } as unknown as Parameters<ClusterStore['transition']>[2];
      await expect(db.store.transition(record.requestId, 'READY', patch)).rejects.toThrow(TypeError);
      expect(await rawItem(db, record.requestId)).toEqual(before);
    });

    it('lets exactly one of two racing, mutually exclusive moves win', async () => {
      for (let round = 0; round < 5; round++) {
        // Prepare
        const record = await seed({ status: 'CREATING' });

        // Act
        const results = await Promise.allSettled([
          db.store.transition(record.requestId, 'READY'),
          db.store.transition(record.requestId, 'FAILED'),
        ]);

        // Assess
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(RecordConflictError);
        const after = await db.store.require(record.requestId);
        expect(after.status).toBe((won[0] as PromiseFulfilledResult<ClusterRecord>).value.status);
        expect(after.history.filter((h) => h.from === 'CREATING')).toHaveLength(1);
      }
    });

    it('re-reads after losing a race and records the status it really replaced', async () => {
      // Prepare: between our read (CREATING) and our write, another writer moves the record to WAITING_FOR_CAPACITY.
      const record = await seed({ status: 'CREATING' });
      const racy = racyStore(db, () => db.store.transition(record.requestId, 'WAITING_FOR_CAPACITY'));

      // Act: FAILED is legal from both statuses.
      const moved = await racy.transition(record.requestId, 'FAILED', {}, { reason: 'gave up' });

      // Assess
      expect(moved.status).toBe('FAILED');
      expect(moved.history.slice(1)).toEqual([
        { from: 'CREATING', to: 'WAITING_FOR_CAPACITY', at: LATER },
        { from: 'WAITING_FOR_CAPACITY', to: 'FAILED', at: LATER, reason: 'gave up' },
      ]);
    });

    it('fails with RecordConflictError when the race made the move illegal, leaving the winner intact', async () => {
      // Prepare
      const record = await seed({ status: 'CREATING' });
      const racy = racyStore(db, () => db.store.transition(record.requestId, 'FAILED', { failedAt: LATER }));

      // Act
      const moving = racy.transition(record.requestId, 'READY', { readyAt: LATER });

      // Assess
      await expect(moving).rejects.toThrow('from FAILED to READY');
      const after = await db.store.require(record.requestId);
      expect(after.status).toBe('FAILED');
      expect(after).not.toHaveProperty('readyAt');
    });

    it('gives up with RecordConflictError after losing the race three times', async () => {
      // Prepare: the interloper flips CREATING <-> WAITING_FOR_CAPACITY before each of our writes.
      const record = await seed({ status: 'CREATING' });
      const flip = async () => {
        const current = await db.store.require(record.requestId);
        await db.store.transition(record.requestId, current.status === 'CREATING' ? 'WAITING_FOR_CAPACITY' : 'CREATING');
      };
      const racy = racyStore(db, flip, Infinity);

      // Act
      const moving = racy.transition(record.requestId, 'FAILED');

      // Assess
      await expect(moving).rejects.toThrow(/changed concurrently 3 times/);
      expect((await db.store.require(record.requestId)).status).not.toBe('FAILED');
    });
  });

  describe('update', () => {
    it('applies the patch while the status is allowed, keeping status and history', async () => {
      // Prepare
      const record = await seed({ status: 'CREATING', nodes: { current: 0, target: 4 } });

      // Act
      const updated = await db.store.update(record.requestId, { nodes: { current: 2, target: 4 }, providerStatus: 'Creating' }, [
        'CREATING',
        'WAITING_FOR_CAPACITY',
      ]);

      // Assess
      expect(updated).toEqual({ ...record, nodes: { current: 2, target: 4 }, providerStatus: 'Creating', updatedAt: LATER });
      expect(await db.store.get(record.requestId)).toEqual(updated);
    });

    it('refuses outside whileIn, naming the current status, and writes nothing', async () => {
      const record = await seed({ status: 'READY' });
      const before = await rawItem(db, record.requestId);
      const updating = db.store.update(record.requestId, { providerStatus: 'Creating' }, ['CREATING']);
      await expect(updating).rejects.toBeInstanceOf(RecordConflictError);
      await expect(updating).rejects.toThrow('it is READY');
      expect(await rawItem(db, record.requestId)).toEqual(before);
    });

    it('refuses everything when whileIn is empty', async () => {
      const record = await seed();
      await expect(db.store.update(record.requestId, { attempts: 1 }, [])).rejects.toBeInstanceOf(RecordConflictError);
    });

    it('throws RecordNotFoundError for a missing record', async () => {
      await expect(db.store.update('req-missing', { attempts: 1 }, STATUSES)).rejects.toBeInstanceOf(RecordNotFoundError);
    });
  });
});

describe('list', () => {
  let db: FreshStore;
  /** Every record, newest first: the order every list must follow. */
  let all: ClusterRecord[];
  const statusCycle: ClusterStatus[] = ['READY', 'CREATING', 'FAILED', 'READY', 'DELETED'];

  /** Follows cursors to the end; every page but the last is full. */
  const collect = async (store: ClusterStore, query: ListQuery): Promise<{ items: ClusterRecord[]; pages: number[] }> => {
    const items: ClusterRecord[] = [];
    const pages: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({ ...query, ...(cursor ? { cursor } : {}) });
      items.push(...page.items);
      pages.push(page.items.length);
      cursor = page.cursor;
    } while (cursor);
    return { items, pages };
  };

  beforeAll(async () => {
    db = await freshStore();
    // 25 records, one per minute, inserted in shuffled order; the last two share an acceptedAt (a tie).
    const records = Array.from({ length: 25 }, (_, i) =>
      sampleRecord({
        requestId: `req-${String(i).padStart(2, '0')}`,
        acceptedAt: new Date(Date.parse(T0) + Math.min(i, 23) * 60_000).toISOString(),
        status: statusCycle[i % statusCycle.length],
        provider: i % 3 === 0 ? 'tir' : 'sagemaker',
      }),
    );
    for (const record of [...records].sort(() => Math.random() - 0.5)) await db.store.create(record);
    all = records.map((r) => ({ ...r, history: [{ to: r.status, at: r.acceptedAt }] })).reverse();
  });

  it('sweeps the table itself a bounded slice at a time, resuming where it stopped: every record within ceil(n / limit) + 1 sweeps', async () => {
    const seen: string[] = [];
    const sizes: number[] = [];
    // 25 records and the position item: 4 slices of 8, the last one short, then the sweep starts over.
    for (let run = 0; run < 4; run++) {
      const slice = await db.store.sweep!(8);
      sizes.push(slice.length);
      seen.push(...slice.map((r) => r.requestId));
    }
    expect(sizes.every((n) => n <= 8)).toBe(true);
    expect([...seen].sort()).toEqual(all.map((r) => r.requestId).sort());
    const again = await db.store.sweep!(8);
    expect(again.length).toBeGreaterThan(0);
    expect(all.map((r) => r.requestId)).toEqual(expect.arrayContaining(again.map((r) => r.requestId)));
    // The records as they are (strongly consistent reads of the table), history and all.
    const first = all.find((r) => r.requestId === again[0]!.requestId)!;
    expect(again[0]).toEqual(first);
    // The position item is no record: no list shows it.
    expect((await db.store.list({ limit: 100 })).items).toHaveLength(25);
  });

  it('lists everything newest first, ties broken by requestId', async () => {
    const page = await db.store.list({ limit: 100 });
    expect(page.items).toEqual(all);
    expect(page.items.slice(0, 2).map((r) => r.requestId)).toEqual(['req-24', 'req-23']);
    expect(page.cursor).toBeUndefined();
  });

  it('returns 20 items by default', async () => {
    const page = await db.store.list({});
    expect(page.items).toEqual(all.slice(0, 20));
    expect(page.cursor).toBeDefined();
  });

  it('pages through all records exactly once, in order', async () => {
    const { items, pages } = await collect(db.store, { limit: 7 });
    expect(pages).toEqual([7, 7, 7, 4]);
    expect(items).toEqual(all);
  });

  it('ends without a cursor when the last page is exactly full', async () => {
    const { pages } = await collect(db.store, { limit: 5 });
    expect(pages).toEqual([5, 5, 5, 5, 5]);
  });

  it.each<[string, ListQuery, (r: ClusterRecord) => boolean]>([
    ['status', { status: 'READY' }, (r) => r.status === 'READY'],
    ['provider', { provider: 'tir' }, (r) => r.provider === 'tir'],
    ['status and provider', { status: 'READY', provider: 'sagemaker' }, (r) => r.status === 'READY' && r.provider === 'sagemaker'],
  ])('lists by %s, newest first, across pages', async (_, query, matches) => {
    const expected = all.filter(matches);
    expect(expected.length).toBeGreaterThan(3);
    expect((await db.store.list({ ...query, limit: 100 })).items).toEqual(expected);
    expect((await collect(db.store, { ...query, limit: 3 })).items).toEqual(expected);
  });

  it('keeps reading filtered pages until the page is full, resuming exactly after the last item', async () => {
    // Each Query reads 2 items of the READY partition, of which only some are sagemaker.
    const store = createDynamoStore({ client: db.client, tableName: db.tableName, filteredPageSize: 2 });
    const expected = all.filter((r) => r.status === 'READY' && r.provider === 'sagemaker');
    for (const limit of [1, 2, 3, 4]) {
      const { items, pages } = await collect(store, { status: 'READY', provider: 'sagemaker', limit });
      expect(items).toEqual(expected);
      expect(pages.slice(0, -1).every((n) => n === limit)).toBe(true);
    }
  });

  it('returns an empty page without a cursor when nothing matches', async () => {
    expect(await db.store.list({ status: 'SCHEDULED' })).toEqual({ items: [] });
  });

  it.each([0, 101, -1, 1.5, Number.NaN])('refuses limit %s', async (limit) => {
    await expect(db.store.list({ limit })).rejects.toBeInstanceOf(RequestValidationError);
  });

  it('accepts limits 1 and 100', async () => {
    expect((await db.store.list({ limit: 1 })).items).toHaveLength(1);
    expect((await db.store.list({ limit: 100 })).items).toHaveLength(25);
  });

  it.each([
    ['garbage', 'not-a-cursor!'],
    ['not JSON', Buffer.from('{oops').toString('base64url')],
    ['JSON of another shape', Buffer.from(JSON.stringify({ a: 1 })).toString('base64url')],
    ['a key that does not end in the requestId', Buffer.from(JSON.stringify({ k: `${T0}#req-01`, id: 'req-02' })).toString('base64url')],
  ])('refuses a cursor that is %s', async (_, cursor) => {
    await expect(db.store.list({ cursor })).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('seals its cursors: nothing readable in them, and a cursor of another key or altered is refused', async () => {
    const { cursor } = await db.store.list({ limit: 1 });
    expect(cursor).toBeDefined();
    expect(Buffer.from(cursor!, 'base64url').toString('latin1')).not.toMatch(/req-\d|"k"|"id"/);
    const other = createDynamoStore({ client: db.client, tableName: db.tableName, cursorKey: 'another key' });
    await expect(other.list({ cursor: cursor! })).rejects.toBeInstanceOf(InvalidCursorError);
    const raw = Buffer.from(cursor!, 'base64url');
    raw[raw.length - 1]! ^= 1;
    await expect(db.store.list({ cursor: raw.toString('base64url') })).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('filters by owner before the page and its cursor, reading at most its budget per call', async () => {
    const owned = createDynamoStore({ client: db.client, tableName: db.tableName, cursorKey: 'k', ownerScanBudget: 5 });
    const pages: Array<{ items: string[]; cursor?: string }> = [];
    let cursor: string | undefined;
    do {
      const page = await owned.list({ owner: 'nobody-owns-these', limit: 2, ...(cursor ? { cursor } : {}) });
      pages.push({ items: page.items.map((r) => r.requestId), ...(page.cursor ? { cursor: page.cursor } : {}) });
      cursor = page.cursor;
    } while (cursor && pages.length < 20);
    expect(pages.flatMap((p) => p.items)).toEqual([]);
    // 25 records, 5 read per call: the walk ends, in pages that each stopped at the budget.
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.at(-1)!.cursor).toBeUndefined();
    // A cursor of one owner's list is not another's.
    await expect(owned.list({ owner: 'someone-else', cursor: pages[0]!.cursor! })).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('refuses a cursor issued for another query', async () => {
    const { cursor } = await db.store.list({ status: 'READY', limit: 1 });
    expect(cursor).toBeDefined();
    await expect(db.store.list({ provider: 'tir', cursor })).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(db.store.list({ cursor })).rejects.toBeInstanceOf(InvalidCursorError);
  });
});

describe('ensureClustersTable', () => {
  it('creates the table with its indexes once and leaves it alone afterwards', async () => {
    // Prepare
    const client = dynamoClient();
    const tableName = `clusters-ensure-${Date.now()}`;

    // Act
    await ensureClustersTable(client, tableName);
    await ensureClustersTable(client, tableName);

    // Assess
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'requestId', KeyType: 'HASH' }]);
    expect(Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema?.map((k) => k.AttributeName), i.IndexStatus])).toEqual([
      ['byStatus', ['status', 'listSk'], 'ACTIVE'],
      ['byProvider', ['provider', 'listSk'], 'ACTIVE'],
      ['byAll', ['recordType', 'listSk'], 'ACTIVE'],
    ]);
  });

  it('builds sort keys that order by time whatever the ISO format of acceptedAt', () => {
    expect(listSortKey('2025-01-01T00:00:00Z', 'r')).toBe('2025-01-01T00:00:00.000Z#r');
    expect(listSortKey('2025-01-01T01:00:00+01:00', 'r')).toBe('2025-01-01T00:00:00.000Z#r');
    expect(() => listSortKey('yesterday', 'r')).toThrow(RangeError);
  });
});

describe('a store that is throttled or unavailable', () => {
  const failing = (err: Error) =>
    ({ send: async () => Promise.reject(err) }) as unknown as import('@aws-sdk/client-dynamodb').DynamoDBClient;

  it('reports a transient AWS failure as StoreUnavailableError (every task retries it) and keeps the cause', async () => {
    const outage = Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    const store = createDynamoStore({ client: failing(outage), tableName: 'clusters' });
    const err = (await store.get('req-1').then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { cause?: unknown };
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(err.cause).toBe(outage);
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ProvisionedThroughputExceededException',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(createDynamoStore({ client: failing(throttled), tableName: 'clusters' }).get('req-1')).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
  });

  it('passes any other failure through as it is', async () => {
    const invalid = Object.assign(new Error('bad key'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    await expect(createDynamoStore({ client: failing(invalid), tableName: 'clusters' }).get('req-1')).rejects.toBe(invalid);
  });
});
