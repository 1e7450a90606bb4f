/**
 * DynamoDB request units as the deployed tables would bill them, counted around the in-memory ports.
 *
 * The counting follows the adapters call for call: the record store (functions/adapters/dynamo-store.ts) reads with a
 * strongly consistent GetItem, `transition` reads and then writes one conditional UpdateItem, `update` writes one,
 * `create` one conditional PutItem; the offerings memory (functions/adapters/offerings-dynamo.ts) reads each offering
 * with a strongly consistent GetItem, takes a lease with one conditional UpdateItem, remembers with PutItem, forgets
 * with DeleteItem. On-demand units: a strongly consistent read is 1 RRU per 4 KB, a write 1 WRU per 1 KB of the item
 * (the larger of before and after for an update). The clusters table's three indexes (byStatus, byProvider, byAll,
 * projection ALL: functions/contract/table.js) are written with the item: one write each, two for byStatus when the
 * status (its key) changes. Item size is taken as the length of the record's JSON plus its two list keys, an
 * approximation of DynamoDB's attribute-name-plus-value size.
 */
import { decideClaim, needsQueue, type OfferingItem as ClaimItem, tookLease } from '../../functions/core/claim';
import { headOf, type OfferingClaim, type OfferingMemory, turnsOf, type Waiter, widenedFor } from '../../functions/core/offerings';
import type { ClusterRecord, ClusterStore } from '../../functions/core/store';

export class DynamoMeter {
  readRequests = 0;
  writeRequests = 0;
  rru = 0;
  wru = 0;

  /** One read of `bytes`; `units` 0.5 for an eventually consistent one. */
  read(bytes: number, units = 1): void {
    this.readRequests += 1;
    this.rru += Math.max(1, Math.ceil(bytes / 4096)) * units;
  }

  /** One write of an item of `bytes`, plus `indexWrites` index writes of the same item. */
  write(bytes: number, indexWrites = 0): void {
    this.writeRequests += 1;
    this.wru += Math.max(1, Math.ceil(bytes / 1024)) * (1 + indexWrites);
  }
}

/** listSk (ISO time # requestId) and recordType, the store's own attributes. */
const LIST_KEYS_BYTES = 'listSk'.length + 60 + 'recordType'.length + 'CLUSTER'.length;
const sizeOf = (record: ClusterRecord | undefined): number => (record ? JSON.stringify(record).length + LIST_KEYS_BYTES : 0);
const INDEXES = 3;

/**
 * The store, with every call billed as the DynamoDB adapter would make it. The size and status of each record as last
 * seen are kept, so billing an update needs no extra read.
 */
export const meteredStore = (store: ClusterStore, meter: DynamoMeter): ClusterStore => {
  const seen = new Map<string, { size: number; status: string }>();
  const saw = (record: ClusterRecord): ClusterRecord => {
    seen.set(record.requestId, { size: sizeOf(record), status: record.status });
    return record;
  };
  const before = async (requestId: string) => {
    if (!seen.has(requestId)) {
      const record = await store.get(requestId);
      if (record) saw(record);
    }
    return seen.get(requestId);
  };
  return {
    async create(record) {
      const out = await store.create(record);
      if (out.created) meter.write(sizeOf(saw(out.record)), INDEXES);
      else {
        meter.write(sizeOf(record)); // the conditional put that failed (a failed condition is billed too)
        meter.read(sizeOf(saw(out.record)));
      }
      return out;
    },
    // A read leaves the item as the last write left it: its size is known without serializing it again.
    async get(requestId) {
      const record = await store.get(requestId);
      if (record && !seen.has(requestId)) saw(record);
      meter.read(seen.get(requestId)?.size ?? 0);
      return record;
    },
    async require(requestId) {
      const record = await store.require(requestId);
      if (!seen.has(requestId)) saw(record);
      meter.read(seen.get(requestId)!.size);
      return record;
    },
    async transition(requestId, to, patch, options) {
      const was = await before(requestId);
      meter.read(was?.size ?? 0); // the adapter reads the status first
      const after = saw(await store.transition(requestId, to, patch, options));
      const now = seen.get(requestId)!;
      meter.write(Math.max(was?.size ?? 0, now.size), INDEXES + (was?.status !== after.status ? 1 : 0));
      return after;
    },
    async update(requestId, patch, whileIn) {
      const was = await before(requestId);
      const after = saw(await store.update(requestId, patch, whileIn));
      meter.write(Math.max(was?.size ?? 0, seen.get(requestId)!.size), INDEXES);
      return after;
    },
    // A Query of an index: eventually consistent, half an RRU per 4 KB of the items read.
    async list(query) {
      const page = await store.list(query);
      meter.read(
        page.items.reduce((sum, r) => sum + sizeOf(r), 0),
        0.5,
      );
      return page;
    },
  };
};

interface OfferingItem extends ClaimItem {
  shortUntil: string;
  reason: string;
  rememberedAt?: string;
}

const itemBytes = (key: string, item: OfferingItem | undefined): number =>
  item ? key.length + JSON.stringify(item).length + 'expiresAt'.length + 10 : 0;

/**
 * The shared memory of short offerings in memory, with the DynamoDB adapter's semantics step for step (its GetItem,
 * its conditional lease, its put and delete, and the waiters' queue: one item per offering, a map of waiters, read
 * whole and updated one entry at a time), billed on `meter`.
 */
export class MeteredOfferings implements OfferingMemory {
  private readonly items = new Map<string, OfferingItem>();
  private readonly queues = new Map<string, Map<string, Waiter>>();
  /** The window of each offering's queue (absent: 1). */
  private readonly windows = new Map<string, number>();
  /** When each offering's window was last narrowed (ISO time; absent: never). */
  private readonly narrowedAt = new Map<string, string>();
  /** Probe leases taken. */
  leases = 0;
  /** The largest window any offering reached. */
  widest = 1;

  constructor(private readonly meter: DynamoMeter) {}

  async claim(
    keys: readonly string[],
    holder: string,
    now: Date,
    leaseSeconds: number,
    acceptedAt?: string,
  ): Promise<Map<string, OfferingClaim>> {
    const out = new Map<string, OfferingClaim>();
    for (const key of keys) out.set(key, this.claimOne(key, holder, now, leaseSeconds, acceptedAt));
    return out;
  }

  async remember(keys: readonly string[], until: Date, reason: string): Promise<void> {
    for (const key of keys) {
      const item = { shortUntil: until.toISOString(), reason: reason.slice(0, 1000), rememberedAt: until.toISOString() };
      this.items.set(key, item);
      this.meter.write(itemBytes(key, item));
    }
  }

  /** The window of an offering's queue now (unmetered: the bench's own look). */
  windowOf(key: string): number {
    return this.windows.get(key) ?? 1;
  }

  async turns(key: string, now: Date): Promise<Waiter[]> {
    return turnsOf(this.waitersOf(key), now, this.windows.get(key) ?? 1);
  }

  async narrow(keys: readonly string[], at: Date): Promise<void> {
    for (const key of keys) {
      // The window back to 1, narrowed at `at`: a conditional update of the queue item (none without a queue).
      const queue = this.queues.get(key);
      this.meter.write(queue ? queueBytes(key, queue) : 0);
      this.windows.delete(key);
      if (queue) this.narrowedAt.set(key, at.toISOString());
    }
  }

  async widen(keys: readonly string[], max: number, createdAt: string | undefined): Promise<void> {
    for (const key of keys) {
      const queue = this.queues.get(key);
      this.meter.read(queue ? queueBytes(key, queue) : 0);
      const window = this.windows.get(key) ?? 1;
      const next = widenedFor({ window, narrowedAt: this.narrowedAt.get(key) }, createdAt, max);
      if (!queue || next === window) continue;
      this.meter.write(queueBytes(key, queue));
      this.windows.set(key, next);
      this.widest = Math.max(this.widest, next);
    }
  }

  async forget(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      this.meter.write(itemBytes(key, this.items.get(key)));
      this.items.delete(key);
    }
  }

  async enqueue(keys: readonly string[], waiter: Waiter): Promise<void> {
    for (const key of keys) {
      let queue = this.queues.get(key);
      if (!queue) {
        this.meter.write(0); // the conditional update that finds no queue yet
        queue = new Map();
        this.queues.set(key, queue);
      }
      queue.set(waiter.requestId, waiter);
      this.meter.write(queueBytes(key, queue));
    }
  }

  async dequeue(keys: readonly string[], requestId: string): Promise<void> {
    for (const key of keys) {
      const queue = this.queues.get(key);
      this.meter.write(queue ? queueBytes(key, queue) : 0);
      queue?.delete(requestId);
    }
  }

  async head(key: string, now: Date): Promise<Waiter | undefined> {
    return headOf(this.waitersOf(key), now);
  }

  private waitersOf(key: string): Waiter[] {
    const queue = this.queues.get(key);
    this.meter.read(queue ? queueBytes(key, queue) : 0);
    return queue ? [...queue.values()] : [];
  }

  /** As the adapter: reads the item (and the queue when the rule needs it), the rule decides, the lease is written. */
  private claimOne(key: string, holder: string, now: Date, leaseSeconds: number, acceptedAt?: string): OfferingClaim {
    const item = this.items.get(key);
    this.meter.read(itemBytes(key, item));
    const queue = needsQueue(item, now, acceptedAt) ? { waiters: this.waitersOf(key), window: this.windows.get(key) ?? 1 } : undefined;
    const decision = decideClaim({ item, queue, holder, now, leaseSeconds, acceptedAt });
    if ('claim' in decision) return decision.claim;
    // The rule takes a lease on a remembered offering only; one writer at a time here, so the write always succeeds.
    const held = item!;
    held.leaseHolder = holder;
    held.leaseUntil = decision.take.until;
    this.leases += 1;
    this.meter.write(itemBytes(key, item));
    return tookLease(decision.take.until);
  }
}

/** The queue item: its key, a map entry per waiter (`acceptedAt|until` under the requestId), its TTL. */
const queueBytes = (key: string, queue: Map<string, Waiter>): number => {
  let bytes = 'waiters#'.length + key.length + 'waiters'.length + 'expiresAt'.length + 10;
  for (const w of queue.values()) bytes += w.requestId.length + w.acceptedAt.length + 1 + w.until.length + 3;
  return bytes;
};
