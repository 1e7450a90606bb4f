/**
 * ClusterStore on DynamoDB (the table of ./dynamo-table.ts).
 *
 * Every write is conditional, so two Lambdas racing on one record cannot both win and an illegal status change writes
 * nothing:
 *   - create: put if absent; a second create returns the record already there.
 *   - transition: read the status, check TRANSITIONS, then one UpdateItem conditioned on the status still being the
 *     one read. The history entry's `from` is therefore exactly the status replaced. When the condition fails (a
 *     concurrent writer), re-read and try again while the move is still legal.
 *   - update: one UpdateItem conditioned on the status being in `whileIn`.
 * A failed condition becomes RecordNotFoundError or RecordConflictError; a transient failure (throttling, 5xx, no
 * answer) becomes StoreUnavailableError (./transient.ts), which the state machines retry; any other SDK error is
 * rethrown as it is.
 *
 * Reads are strongly consistent: a workflow step must see the write of the step before it. Lists read the GSIs, which
 * are eventually consistent: a record written a moment ago may be missing from a list, or show its previous status.
 *
 * The endpoint is never configured here: the SDK reads AWS_ENDPOINT_URL_DYNAMODB (tests, local stack).
 */
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { convertToAttr, marshall, unmarshall, type marshallOptions } from '@aws-sdk/util-dynamodb';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { REQUEST_ID } from '../contract/request-id.js';
import { InvalidCursorError, RecordConflictError, RecordNotFoundError, RequestValidationError } from '../core/errors';
import { guardClient } from './transient';
import {
  canTransition,
  type ClusterRecord,
  type ClusterStore,
  type HistoryEntry,
  type ListPage,
  type ListQuery,
  type RecordPatch,
} from '../core/store';
import { CLUSTER_RECORD_TYPE, INDEX_PARTITION_KEYS, INTERNAL_ATTRIBUTES, listSortKey, type ClustersIndexName } from './dynamo-table';

export interface DynamoStoreOptions {
  /** Defaults to a client from the environment (region, credentials, AWS_ENDPOINT_URL_DYNAMODB). */
  client?: DynamoDBClient;
  tableName: string;
  now?: () => Date;
  /** Items read per Query when a filter applies (status + provider). Tests lower it to exercise paging. */
  filteredPageSize?: number;
  /**
   * The secret list cursors are sealed with (AES-256-GCM under its SHA-256): a cursor says nothing a caller may read,
   * and one not sealed with it is refused. Every instance of a deployment must share it (`ENV.cursorKey`); without one, a
   * key of this process only.
   */
  cursorKey?: string;
  /** Items one list call reads at most while filtering by owner; past it the page ends (with a cursor). */
  ownerScanBudget?: number;
}

const MARSHALL: marshallOptions = { removeUndefinedValues: true };

/** How many times a transition re-reads after losing a race before giving up with RecordConflictError. */
const TRANSITION_ATTEMPTS = 3;

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

/**
 * Never written from a patch, whatever the caller's types said: the store owns identity (and owner), status, history, updatedAt
 * and the index attributes.
 */
const PROTECTED = new Set<string>([
  'requestId',
  'owner',
  'provider',
  'status',
  'history',
  'acceptedAt',
  'requestHash',
  'updatedAt',
  ...INTERNAL_ATTRIBUTES,
]);

const isConditionFailed = (err: unknown): boolean => (err as Error | undefined)?.name === 'ConditionalCheckFailedException';

const toRecord = (item: Record<string, AttributeValue>): ClusterRecord => {
  const plain = unmarshall(item);
  for (const name of INTERNAL_ATTRIBUTES) delete plain[name];
  return plain as ClusterRecord;
};

/** The SET clauses of an UpdateItem and their placeholders, built up field by field. */
class UpdateBuilder {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, AttributeValue> = {};
  private readonly sets: string[] = [];

  /** The placeholder of an attribute name (one per attribute; patch keys may be reserved words such as `status`). */
  name(attribute: string): string {
    const known = Object.keys(this.names).find((placeholder) => this.names[placeholder] === attribute);
    if (known) return known;
    const placeholder = `#n${Object.keys(this.names).length}`;
    this.names[placeholder] = attribute;
    return placeholder;
  }

  value(value: unknown): string {
    const placeholder = `:v${Object.keys(this.values).length}`;
    this.values[placeholder] = convertToAttr(value, MARSHALL);
    return placeholder;
  }

  set(attribute: string, value: unknown): this {
    this.sets.push(`${this.name(attribute)} = ${this.value(value)}`);
    return this;
  }

  /** Patch fields set to undefined are left as they are (not removed). */
  patch(patch: RecordPatch): this {
    for (const [attribute, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      if (PROTECTED.has(attribute)) throw new TypeError(`A patch may not set ${attribute}`);
      this.set(attribute, value);
    }
    return this;
  }

  append(attribute: string, entries: unknown[]): this {
    const name = this.name(attribute);
    this.sets.push(`${name} = list_append(if_not_exists(${name}, ${this.value([])}), ${this.value(entries)})`);
    return this;
  }

  get expression(): string {
    return `SET ${this.sets.join(', ')}`;
  }
}

interface Cursor {
  /** listSk and requestId of the last item returned: the page after it starts right behind it. */
  k: string;
  id: string;
  /** The query the cursor belongs to. */
  s?: string;
  p?: string;
  /** The owner the list was filtered by. */
  o?: string;
}

/** Seals and opens cursors: AES-256-GCM (a random 12-byte IV, the 16-byte tag), base64url of iv | tag | ciphertext. */
const cursorSeal = (secret: string) => {
  const key = createHash('sha256').update(secret).digest();
  return {
    seal(plain: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    },
    /** The plain text, or undefined when the cursor was not sealed with this key (or was altered). */
    open(sealed: string): string | undefined {
      const raw = Buffer.from(sealed, 'base64url');
      if (raw.length < 29) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
};

type CursorSeal = ReturnType<typeof cursorSeal>;

const encodeCursor = (seal: CursorSeal, query: ListQuery, last: { acceptedAt: string; requestId: string }): string => {
  const cursor: Cursor = { k: listSortKey(last.acceptedAt, last.requestId), id: last.requestId };
  if (query.status) cursor.s = query.status;
  if (query.provider) cursor.p = query.provider;
  if (query.owner) cursor.o = query.owner;
  return seal.seal(JSON.stringify(cursor));
};

const CURSOR_MEMBERS: ReadonlySet<string> = new Set(['k', 'id', 's', 'p', 'o']);

/**
 * Exactly what encodeCursor writes: a requestId, the list key it makes with a timestamp as toISOString writes it, and
 * the filters as strings. Anything else (a forged key too long for the index, a character DynamoDB refuses) is not
 * sent to DynamoDB at all.
 */
const isCursor = (value: unknown): value is Cursor => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const cursor = value as Record<string, unknown>;
  if (!Object.keys(cursor).every((member) => CURSOR_MEMBERS.has(member))) return false;
  const { k, id, s, p, o } = cursor;
  if (typeof id !== 'string' || !REQUEST_ID.test(id) || typeof k !== 'string' || !k.endsWith(`#${id}`)) return false;
  if ([s, p, o].some((member) => member !== undefined && typeof member !== 'string')) return false;
  const at = k.slice(0, -id.length - 1);
  const time = new Date(at);
  return !Number.isNaN(time.getTime()) && time.toISOString() === at;
};

const decodeCursor = (seal: CursorSeal, raw: string, query: ListQuery): Cursor => {
  const plain = seal.open(raw);
  if (plain === undefined) throw new InvalidCursorError('The cursor is not one this service issued');
  let cursor: unknown;
  try {
    cursor = JSON.parse(plain);
  } catch (err) {
    throw new InvalidCursorError('The cursor is not one this service issued', { cause: err });
  }
  if (!isCursor(cursor)) throw new InvalidCursorError('The cursor is not one this service issued');
  // A position only means something in the index and partition it came from, for the caller it was made for.
  if (cursor.s !== query.status || cursor.p !== query.provider || cursor.o !== query.owner) {
    throw new InvalidCursorError('The cursor belongs to a list with other filters');
  }
  return cursor;
};

const checkLimit = (limit: number): void => {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new RequestValidationError([{ path: '/limit', message: `must be an integer from 1 to ${MAX_LIMIT}` }]);
  }
};

export const createDynamoStore = (options: DynamoStoreOptions): ClusterStore => {
  // A transient failure becomes StoreUnavailableError (./transient.ts), which every task retries.
  const client = guardClient(options.client ?? new DynamoDBClient({}), 'The record store');
  const { tableName } = options;
  const now = options.now ?? (() => new Date());
  const filteredPageSize = options.filteredPageSize ?? 100;
  const ownerScanBudget = options.ownerScanBudget ?? 1000;
  const seal = cursorSeal(options.cursorKey ?? randomBytes(32).toString('hex'));

  const get = async (requestId: string): Promise<ClusterRecord | undefined> => {
    const { Item } = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { requestId: { S: requestId } }, ConsistentRead: true }),
    );
    return Item ? toRecord(Item) : undefined;
  };

  const require = async (requestId: string): Promise<ClusterRecord> => {
    const record = await get(requestId);
    if (!record) throw new RecordNotFoundError(`No cluster record for ${requestId}`);
    return record;
  };

  const create: ClusterStore['create'] = async (record) => {
    // The first history entry is the status the record is born in, unless the caller wrote it with its own reason.
    const history: HistoryEntry[] = record.history.length > 0 ? record.history : [{ to: record.status, at: record.acceptedAt }];
    const item = marshall(
      { ...record, history, listSk: listSortKey(record.acceptedAt, record.requestId), recordType: CLUSTER_RECORD_TYPE },
      MARSHALL,
    );
    try {
      await client.send(new PutItemCommand({ TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(requestId)' }));
      return { created: true, record: toRecord(item) };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      // Records are never deleted, so the one that beat us is there to read.
      const existing = await get(record.requestId);
      if (!existing) throw err;
      return { created: false, record: existing };
    }
  };

  /** One UpdateItem of `builder`'s expression under `condition`, answering the whole new record. */
  const conditionalUpdate = async (requestId: string, builder: UpdateBuilder, condition: string): Promise<ClusterRecord> => {
    const { Attributes } = await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { requestId: { S: requestId } },
        UpdateExpression: builder.expression,
        ConditionExpression: condition,
        ExpressionAttributeNames: builder.names,
        ExpressionAttributeValues: builder.values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toRecord(Attributes ?? {});
  };

  const transition: ClusterStore['transition'] = async (requestId, to, patch = {}, { reason, expectFrom } = {}) => {
    for (let attempt = 1; ; attempt++) {
      const current = await require(requestId);
      const from = current.status;
      if (!canTransition(from, to) || (expectFrom && !expectFrom.includes(from))) {
        const expected = expectFrom ? ` (expected ${expectFrom.join(' or ')})` : '';
        throw new RecordConflictError(`Cannot move ${requestId} from ${from} to ${to}${expected}`);
      }
      const at = now().toISOString();
      const entry: HistoryEntry = { from, to, at, ...(reason !== undefined ? { reason } : {}) };
      const builder = new UpdateBuilder().patch(patch).set('status', to).set('updatedAt', at).append('history', [entry]);
      const condition = `${builder.name('status')} = ${builder.value(from)}`;
      try {
        // A missing item has no status, so this also fails when the record is gone.
        return await conditionalUpdate(requestId, builder, condition);
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        // Someone changed the status since we read it: the next round re-reads and re-checks legality.
        if (attempt >= TRANSITION_ATTEMPTS) {
          const message = `${requestId} changed concurrently ${attempt} times while moving to ${to}`;
          throw new RecordConflictError(message, { cause: err });
        }
      }
    }
  };

  const update: ClusterStore['update'] = async (requestId, patch, whileIn) => {
    const notWhileIn = async (cause?: unknown): Promise<never> => {
      const current = await require(requestId);
      const allowed = whileIn.join(' or ') || 'nothing';
      throw new RecordConflictError(`Cannot update ${requestId}: it is ${current.status}, allowed while ${allowed}`, { cause });
    };
    if (whileIn.length === 0) return notWhileIn();
    const builder = new UpdateBuilder().patch(patch).set('updatedAt', now().toISOString());
    const condition = `${builder.name('status')} IN (${whileIn.map((status) => builder.value(status)).join(', ')})`;
    try {
      return await conditionalUpdate(requestId, builder, condition);
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      return notWhileIn(err);
    }
  };

  const list = async (query: ListQuery): Promise<ListPage> => {
    const limit = query.limit ?? DEFAULT_LIMIT;
    checkLimit(limit);
    const cursor = query.cursor === undefined ? undefined : decodeCursor(seal, query.cursor, query);
    // A start key DynamoDB still refuses came from the cursor (the rest of the query is ours): the cursor's fault.
    const queryPage = async (command: QueryCommand) => {
      try {
        return await client.send(command);
      } catch (err) {
        if (cursor && (err as Error | undefined)?.name === 'ValidationException')
          throw new InvalidCursorError('The cursor is not one this service issued', { cause: err });
        throw err;
      }
    };

    const index: ClustersIndexName = query.status ? 'byStatus' : query.provider ? 'byProvider' : 'byAll';
    const partitionKey = INDEX_PARTITION_KEYS[index];
    const partition = query.status ?? query.provider ?? CLUSTER_RECORD_TYPE;
    const filterProvider = query.status !== undefined && query.provider !== undefined;

    const names: Record<string, string> = { '#pk': partitionKey };
    const values: Record<string, AttributeValue> = { ':pk': { S: partition } };
    if (filterProvider) {
      names['#provider'] = 'provider';
      values[':provider'] = { S: query.provider as string };
    }

    // Read one item more than the page: whether it exists says if there is a next page, so the last page has no
    // cursor. The cursor is built from the last item *returned*, not from LastEvaluatedKey, so items read past it
    // (the extra one, or a filtered page's tail) are read again on the next page rather than skipped.
    const items: ClusterRecord[] = [];
    let startKey: Record<string, AttributeValue> | undefined = cursor
      ? { requestId: { S: cursor.id }, listSk: { S: cursor.k }, [partitionKey]: { S: partition } }
      : undefined;
    // Filtered by owner: the other owners' records are read here and never leave the store, not even as a cursor.
    const filtered = filterProvider || query.owner !== undefined;
    let read = 0;
    let lastRead: ClusterRecord | undefined;
    do {
      const page = await queryPage(
        new QueryCommand({
          TableName: tableName,
          IndexName: index,
          KeyConditionExpression: '#pk = :pk',
          ...(filterProvider ? { FilterExpression: '#provider = :provider' } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: filtered ? Math.min(filteredPageSize, ownerScanBudget - read) : limit + 1 - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const record = toRecord(item);
        read++;
        // Past the page's extra item nothing more is kept (the next page reads it again).
        if (items.length > limit) break;
        lastRead = record;
        if (query.owner === undefined || record.owner === query.owner) items.push(record);
      }
      startKey = page.LastEvaluatedKey;
    } while (items.length <= limit && startKey && read < ownerScanBudget);

    const returned = items.slice(0, limit);
    const last = returned.at(-1);
    if (items.length > limit && last) return { items: returned, cursor: encodeCursor(seal, query, last) };
    // The read budget ran out before the page filled: the next page starts behind the last record read (its position
    // is sealed in the cursor; the caller sees none of it).
    if (startKey && lastRead) return { items: returned, cursor: encodeCursor(seal, query, lastRead) };
    return { items: returned };
  };

  /**
   * One Scan page of the table (Limit `limit`, strongly consistent) from the position the previous sweep stopped at,
   * which is kept in the table's one non-record item (SWEEP_POSITION_KEY: no recordType and no status, so no index
   * holds it, and no request id can name it). Past the end the position is cleared and the next sweep starts over.
   */
  const sweep = async (limit: number): Promise<ClusterRecord[]> => {
    const key = { requestId: { S: SWEEP_POSITION_KEY } };
    const { Item } = await client.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
    const after = Item?.after?.S;
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        Limit: limit,
        ConsistentRead: true,
        ...(after ? { ExclusiveStartKey: { requestId: { S: after } } } : {}),
      }),
    );
    const next = page.LastEvaluatedKey?.requestId?.S;
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: key,
        ...(next
          ? { UpdateExpression: 'SET #after = :after', ExpressionAttributeValues: { ':after': { S: next } } }
          : { UpdateExpression: 'REMOVE #after' }),
        ExpressionAttributeNames: { '#after': 'after' },
      }),
    );
    return (page.Items ?? []).filter((item) => item.recordType?.S === CLUSTER_RECORD_TYPE).map(toRecord);
  };

  return { create, get, require, transition, update, list, sweep };
};

/** The key of the item that keeps the reconciler's sweep position (REQUEST_ID never matches a leading '#'). */
export const SWEEP_POSITION_KEY = '#sweep-position';
