/**
 * A ClusterStore in memory, for the unit tier. It keeps the contract of the DynamoDB adapter
 * (functions/adapters/dynamo-store.ts), which is the one the core is written against:
 *   - create is a conditional put: a second create returns the record already there, untouched;
 *   - transition is legal per TRANSITIONS from the current status, and from `expectFrom` when given; anything else is a
 *     RecordConflictError that writes nothing. The history entry's `from` is the status replaced;
 *   - update applies only while the status is in `whileIn` (RecordConflictError otherwise, RecordNotFoundError when the
 *     record is absent);
 *   - every write stamps updatedAt; patch fields set to undefined are left as they are; a patch may not set the fields
 *     the store owns (TypeError, as the adapter);
 *   - list is newest first (acceptedAt, then requestId), limit 1..100 (default 20), with a cursor bound to its filters.
 * Records are deep-copied on the way in and out, so a test cannot change stored state by mutating what it got.
 *
 * `writes` counts successful writes; `beforeWrite` runs before each write (a test makes a concurrent change there).
 */
import { InvalidCursorError, RecordConflictError, RecordNotFoundError, RequestValidationError } from '../../functions/core/errors';
import {
  canTransition,
  type ClusterRecord,
  type ClusterStatus,
  type ClusterStore,
  type HistoryEntry,
  type ListPage,
  type ListQuery,
  type RecordPatch,
} from '../../functions/core/store';

/** Fields only the store writes (the adapter refuses them in a patch). */
const PROTECTED: ReadonlySet<string> = new Set(['requestId', 'provider', 'status', 'history', 'acceptedAt', 'requestHash', 'updatedAt']);

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

const copy = <T>(value: T): T => structuredClone(value);

const sortKey = (record: ClusterRecord): string => `${new Date(record.acceptedAt).toISOString()}#${record.requestId}`;

interface Cursor {
  k: string;
  s?: ClusterStatus;
  p?: string;
}

export type WriteKind = 'create' | 'transition' | 'update';

export interface MemoryStoreOptions {
  now?: () => Date;
}

export class MemoryStore implements ClusterStore {
  private readonly records = new Map<string, ClusterRecord>();
  private readonly now: () => Date;
  /** Successful writes, in order (kind and requestId). */
  readonly writes: Array<{ kind: WriteKind; requestId: string }> = [];
  /** Runs before each write is checked and applied; a test simulates a concurrent writer here. */
  beforeWrite?: (kind: WriteKind, requestId: string) => Promise<void> | void;

  constructor(options: MemoryStoreOptions = {}) {
    this.now = options.now ?? (() => new Date());
  }

  /** Puts a record as it is (no checks): the state a test starts from. */
  seed(record: ClusterRecord): void {
    this.records.set(record.requestId, copy(record));
  }

  /** Every record, as stored (copies). */
  all(): ClusterRecord[] {
    return [...this.records.values()].map(copy);
  }

  async create(record: ClusterRecord): Promise<{ created: boolean; record: ClusterRecord }> {
    await this.beforeWrite?.('create', record.requestId);
    const existing = this.records.get(record.requestId);
    if (existing) return { created: false, record: copy(existing) };
    const history: HistoryEntry[] = record.history.length > 0 ? record.history : [{ to: record.status, at: record.acceptedAt }];
    const stored = copy({ ...record, history });
    this.records.set(record.requestId, stored);
    this.writes.push({ kind: 'create', requestId: record.requestId });
    return { created: true, record: copy(stored) };
  }

  async get(requestId: string): Promise<ClusterRecord | undefined> {
    const record = this.records.get(requestId);
    return record ? copy(record) : undefined;
  }

  async require(requestId: string): Promise<ClusterRecord> {
    const record = this.records.get(requestId);
    if (!record) throw new RecordNotFoundError(`No cluster record for ${requestId}`);
    return copy(record);
  }

  async transition(
    requestId: string,
    to: ClusterStatus,
    patch: RecordPatch = {},
    options: { reason?: string; expectFrom?: readonly ClusterStatus[] } = {},
  ): Promise<ClusterRecord> {
    await this.beforeWrite?.('transition', requestId);
    const current = this.stored(requestId);
    const from = current.status;
    const { reason, expectFrom } = options;
    if (!canTransition(from, to) || (expectFrom && !expectFrom.includes(from))) {
      const expected = expectFrom ? ` (expected ${expectFrom.join(' or ')})` : '';
      throw new RecordConflictError(`Cannot move ${requestId} from ${from} to ${to}${expected}`);
    }
    const at = this.now().toISOString();
    const entry: HistoryEntry = { from, to, at, ...(reason !== undefined ? { reason } : {}) };
    const next: ClusterRecord = { ...applyPatch(current, patch), status: to, updatedAt: at, history: [...current.history, entry] };
    this.records.set(requestId, copy(next));
    this.writes.push({ kind: 'transition', requestId });
    return copy(next);
  }

  async update(requestId: string, patch: RecordPatch, whileIn: readonly ClusterStatus[]): Promise<ClusterRecord> {
    await this.beforeWrite?.('update', requestId);
    const current = this.stored(requestId);
    if (!whileIn.includes(current.status)) {
      const allowed = whileIn.join(' or ') || 'nothing';
      throw new RecordConflictError(`Cannot update ${requestId}: it is ${current.status}, allowed while ${allowed}`);
    }
    const next: ClusterRecord = { ...applyPatch(current, patch), updatedAt: this.now().toISOString() };
    this.records.set(requestId, copy(next));
    this.writes.push({ kind: 'update', requestId });
    return copy(next);
  }

  async list(query: ListQuery): Promise<ListPage> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new RequestValidationError([{ path: '/limit', message: `must be an integer from 1 to ${MAX_LIMIT}` }]);
    }
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, query);
    const matching = [...this.records.values()]
      .filter(
        (r) =>
          (query.status === undefined || r.status === query.status) &&
          (query.provider === undefined || r.provider === query.provider) &&
          (query.owner === undefined || r.owner === query.owner),
      )
      .sort((a, b) => (sortKey(a) < sortKey(b) ? 1 : sortKey(a) > sortKey(b) ? -1 : 0))
      .filter((r) => after === undefined || sortKey(r) < after.k);
    const items = matching.slice(0, limit).map(copy);
    const last = items.at(-1);
    if (matching.length <= limit || !last) return { items };
    const cursor: Cursor = {
      k: sortKey(last),
      ...(query.status ? { s: query.status } : {}),
      ...(query.provider ? { p: query.provider } : {}),
    };
    return { items, cursor: Buffer.from(JSON.stringify(cursor)).toString('base64url') };
  }

  private stored(requestId: string): ClusterRecord {
    const record = this.records.get(requestId);
    if (!record) throw new RecordNotFoundError(`No cluster record for ${requestId}`);
    return copy(record);
  }
}

const applyPatch = (record: ClusterRecord, patch: RecordPatch): ClusterRecord => {
  const next: Record<string, unknown> = { ...record };
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (PROTECTED.has(field)) throw new TypeError(`A patch may not set ${field}`);
    next[field] = copy(value);
  }
  return next as unknown as ClusterRecord;
};

const decodeCursor = (raw: string, query: ListQuery): Cursor => {
  let cursor: Partial<Cursor> | null;
  try {
    cursor = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Cursor> | null;
  } catch (err) {
    throw new InvalidCursorError('The cursor is not one this service issued', { cause: err });
  }
  if (typeof cursor !== 'object' || cursor === null || typeof cursor.k !== 'string') {
    throw new InvalidCursorError('The cursor is not one this service issued');
  }
  if (cursor.s !== query.status || cursor.p !== query.provider)
    throw new InvalidCursorError('The cursor belongs to a list with other filters');
  return cursor as Cursor;
};
