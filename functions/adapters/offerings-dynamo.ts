/**
 * OfferingMemory on DynamoDB (the offerings table of functions/contract/table.js). Reads are strongly consistent; the
 * probe lease is taken with one conditional UpdateItem, so two requests cannot both hold it. A transient failure
 * (throttling, 5xx, no answer) becomes StoreUnavailableError, which the state machines retry.
 */
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { OFFERINGS_TTL_ATTRIBUTE, offeringsTable } from '../contract/table.js';
import { guardClient } from './transient';
import { decideClaim, lostLease, needsQueue, type OfferingItem, tookLease } from '../core/claim';
import { headOf, type OfferingClaim, type OfferingMemory, turnsOf, type Waiter, widenedFor, windowOf } from '../core/offerings';

/** The queue of an offering is an item of its own (a map of waiters), so remembering the offering leaves it alone. */
export const QUEUE_PREFIX = 'waiters#';
const queueKey = (offering: string) => ({ offering: { S: `${QUEUE_PREFIX}${offering}` } });

/** An item lives this long after its memory ran out (the probe lease needs it); then DynamoDB's TTL removes it. */
const KEEP_AFTER_SECONDS = 3600;

/** A queue item lives this long after its last arrival (past the longest retry horizon). */
const QUEUE_KEEP_SECONDS = 15 * 86_400;

const epoch = (at: Date): number => Math.floor(at.getTime() / 1000);

export const createDynamoOfferings = (options: { client: DynamoDBClient; tableName: string }): OfferingMemory => {
  const { tableName } = options;
  // A transient failure becomes StoreUnavailableError (./transient.ts): the task is retried, the request not failed.
  const client = guardClient(options.client, 'The offerings table');

  /** The offering's queue: its waiters and its window (how many of the first may try together, and when last narrowed). */
  const queueOf = async (offering: string): Promise<{ waiters: Waiter[]; window: number; narrowedAt?: string }> => {
    const { Item } = await client.send(new GetItemCommand({ TableName: tableName, Key: queueKey(offering), ConsistentRead: true }));
    const waiters = Object.entries(Item?.waiters?.M ?? {}).map(([requestId, v]) => {
      const [acceptedAt = '', until = ''] = (v.S ?? '').split('|');
      return { requestId, acceptedAt, until };
    });
    return {
      waiters,
      window: windowOf(Item?.window?.N !== undefined ? Number(Item.window.N) : undefined),
      ...(Item?.narrowedAt?.S !== undefined ? { narrowedAt: Item.narrowedAt.S } : {}),
    };
  };
  const waitersOf = async (offering: string): Promise<Waiter[]> => (await queueOf(offering)).waiters;

  /**
   * Sets the window of an existing queue: narrowed at `narrowedAt` (recorded), or widened from what was read
   * (`expected`: only if it is still that window, not narrowed since).
   */
  const setWindow = async (
    offering: string,
    window: number,
    change: { narrowedAt: string } | { expected: { window: number; narrowedAt?: string } },
  ): Promise<void> => {
    const names: Record<string, string> = { '#w': 'window' };
    const values: Record<string, { N: string } | { S: string }> = { ':w': { N: String(window) } };
    let update = 'SET #w = :w';
    let condition = 'attribute_exists(waiters)';
    if ('narrowedAt' in change) {
      update += ', narrowedAt = :narrowedAt';
      values[':narrowedAt'] = { S: change.narrowedAt };
    } else {
      const { expected } = change;
      if (expected.window > 1) {
        condition += ' AND #w = :expected';
        values[':expected'] = { N: String(expected.window) };
      }
      if (expected.narrowedAt === undefined) condition += ' AND attribute_not_exists(narrowedAt)';
      else {
        condition += ' AND narrowedAt = :readNarrowedAt';
        values[':readNarrowedAt'] = { S: expected.narrowedAt };
      }
    }
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: queueKey(offering),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      // No queue (nothing waits), or another request moved the window first: its move stands.
      if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
    }
  };

  /** Sets the waiter's entry in the offering's queue, making the queue when it is the first. */
  const enqueueOne = async (offering: string, waiter: Waiter): Promise<void> => {
    const entry = { S: `${waiter.acceptedAt}|${waiter.until}` };
    // The queue outlives the longest retry horizon (14 days) after its last arrival; emptied, TTL removes it.
    const ttl = { N: String(epoch(new Date()) + QUEUE_KEEP_SECONDS) };
    for (;;) {
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: queueKey(offering),
            UpdateExpression: 'SET waiters.#id = :entry, #ttl = :ttl',
            ConditionExpression: 'attribute_exists(waiters)',
            ExpressionAttributeNames: { '#id': waiter.requestId, '#ttl': OFFERINGS_TTL_ATTRIBUTE },
            ExpressionAttributeValues: { ':entry': entry, ':ttl': ttl },
          }),
        );
        return;
      } catch (err) {
        if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
      }
      try {
        // The first waiter makes the queue; two firsts at once: the loser sets its entry in the winner's queue.
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: queueKey(offering),
            UpdateExpression: 'SET waiters = :map, #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(waiters)',
            ExpressionAttributeNames: { '#ttl': OFFERINGS_TTL_ATTRIBUTE },
            ExpressionAttributeValues: { ':map': { M: { [waiter.requestId]: entry } }, ':ttl': ttl },
          }),
        );
        return;
      } catch (err) {
        if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
      }
    }
  };

  /** Reads the offering's item (and its queue when the rule needs it); the rule decides (../core/claim.ts). */
  const claimOne = async (
    offering: string,
    holder: string,
    now: Date,
    leaseSeconds: number,
    acceptedAt?: string,
  ): Promise<OfferingClaim> => {
    const { Item } = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { offering: { S: offering } }, ConsistentRead: true }),
    );
    const item: OfferingItem | undefined = Item && {
      shortUntil: Item.shortUntil?.S,
      reason: Item.reason?.S,
      leaseHolder: Item.leaseHolder?.S,
      leaseUntil: Item.leaseUntil?.S,
    };
    const queue = needsQueue(item, now, acceptedAt) ? await queueOf(offering) : undefined;
    const decision = decideClaim({ item, queue, holder, now, leaseSeconds, acceptedAt });
    if ('claim' in decision) return decision.claim;
    const { until } = decision.take;
    try {
      // The rule again, where the item is: no one else took the lease, nor remembered the offering, since the read.
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { offering: { S: offering } },
          UpdateExpression: 'SET leaseHolder = :holder, leaseUntil = :until',
          ConditionExpression:
            'attribute_exists(offering) AND shortUntil <= :now AND (attribute_not_exists(leaseUntil) OR leaseUntil <= :now OR leaseHolder = :holder)',
          ExpressionAttributeValues: { ':holder': { S: holder }, ':until': { S: until }, ':now': { S: now.toISOString() } },
        }),
      );
      return tookLease(until);
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err as Error).name === 'ConditionalCheckFailedException')
        return lostLease(item);
      throw err;
    }
  };

  return {
    async claim(keys, holder, now, leaseSeconds, acceptedAt) {
      const out = new Map<string, OfferingClaim>();
      for (const key of keys) out.set(key, await claimOne(key, holder, now, leaseSeconds, acceptedAt));
      return out;
    },
    async enqueue(keys, waiter) {
      for (const offering of keys) await enqueueOne(offering, waiter);
    },
    async dequeue(keys, requestId) {
      for (const offering of keys) {
        try {
          await client.send(
            new UpdateItemCommand({
              TableName: tableName,
              Key: queueKey(offering),
              UpdateExpression: 'REMOVE waiters.#id',
              ConditionExpression: 'attribute_exists(waiters)',
              ExpressionAttributeNames: { '#id': requestId },
            }),
          );
        } catch (err) {
          if ((err as Error).name !== 'ConditionalCheckFailedException') throw err; // no queue: nothing to leave
        }
      }
    },
    async head(key, now) {
      return headOf(await waitersOf(key), now);
    },
    async turns(key, now) {
      const { waiters, window } = await queueOf(key);
      return turnsOf(waiters, now, window);
    },
    async narrow(keys, at) {
      for (const offering of keys) await setWindow(offering, 1, { narrowedAt: at.toISOString() });
    },
    async widen(keys, max, createdAt) {
      for (const offering of keys) {
        const { window, narrowedAt } = await queueOf(offering);
        // The rule is the core's (widenedFor): only a create sent after the last narrowing widens.
        const next = widenedFor({ window, narrowedAt }, createdAt, max);
        if (next !== window) await setWindow(offering, next, { expected: { window, ...(narrowedAt ? { narrowedAt } : {}) } });
      }
    },
    async remember(keys, until, reason) {
      for (const offering of keys) {
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              offering: { S: offering },
              shortUntil: { S: until.toISOString() },
              // When the shortage was seen (GET /offerings shows it as "since").
              rememberedAt: { S: new Date().toISOString() },
              reason: { S: reason.slice(0, 1000) },
              [OFFERINGS_TTL_ATTRIBUTE]: { N: String(epoch(until) + KEEP_AFTER_SECONDS) },
            },
          }),
        );
      }
    },
    async forget(keys) {
      for (const offering of keys) await client.send(new DeleteItemCommand({ TableName: tableName, Key: { offering: { S: offering } } }));
    },
  };
};

/** Creates the offerings table when it is missing (local stack and tests; the deployment declares it). */
export const ensureOfferingsTable = async (client: DynamoDBClient, tableName: string): Promise<void> => {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (err) {
    if ((err as Error).name !== 'ResourceNotFoundException') throw err;
  }
  try {
    await client.send(new CreateTableCommand({ TableName: tableName, ...(offeringsTable as object) } as never));
  } catch (err) {
    if ((err as Error).name !== 'ResourceInUseException') throw err;
  }
  for (let i = 0; i < 100; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Table ${tableName} is not ACTIVE`);
};
