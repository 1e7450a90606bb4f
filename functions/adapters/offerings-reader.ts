/**
 * The read side of the memory of short offerings (the offerings table of functions/contract/table.js, written by
 * ./offerings-dynamo.ts): one paginated Scan, eventually consistent. The table holds one item per offering ever
 * remembered short in the last hour or so (TTL removes the rest), a few dozen at most, and the console reads it every
 * few seconds.
 */
import { type DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { QUEUE_PREFIX } from './offerings-dynamo';
import { PRICE_PREFIX } from './pricing-dynamo';

/** One item of the offerings table, as stored. */
export interface StoredOffering {
  /** `<provider>#<region or location>#<instance type or TIR sku>`. */
  offering: string;
  shortUntil?: string;
  /** When the shortage was last seen (absent on items written before it was recorded). */
  rememberedAt?: string;
  reason?: string;
  leaseUntil?: string;
}

export interface OfferingsReader {
  /** Every item of the table; `limit` caps how many are read (a guard: the table is small). */
  list(limit: number): Promise<StoredOffering[]>;
}

const text = (item: Record<string, AttributeValue>, name: string): string | undefined => item[name]?.S;

export const createDynamoOfferingsReader = (options: { client: DynamoDBClient; tableName: string }): OfferingsReader => ({
  async list(limit) {
    const out: StoredOffering[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await options.client.send(
        new ScanCommand({
          TableName: options.tableName,
          // Names, not words: whatever DynamoDB reserves now or later.
          ProjectionExpression: '#o, #s, #r, #m, #l',
          ExpressionAttributeNames: { '#o': 'offering', '#s': 'shortUntil', '#r': 'rememberedAt', '#m': 'reason', '#l': 'leaseUntil' },
          Limit: Math.min(100, limit - out.length),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const offering = text(item, 'offering');
        // The queues of waiting requests and the price cache share the table (QUEUE_PREFIX, PRICE_PREFIX items): they
        // are not offerings.
        if (!offering || offering.startsWith(QUEUE_PREFIX) || offering.startsWith(PRICE_PREFIX)) continue;
        const fields = { shortUntil: text(item, 'shortUntil'), rememberedAt: text(item, 'rememberedAt'), reason: text(item, 'reason') };
        const leaseUntil = text(item, 'leaseUntil');
        out.push({
          offering,
          ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
          ...(leaseUntil ? { leaseUntil } : {}),
        });
      }
      start = page.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  },
});
