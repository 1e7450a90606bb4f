/**
 * The price cache (functions/core/pricing.ts `PriceCache`) in the offerings table (functions/contract/table.js): one
 * item per region and instance type, keyed `price#sagemaker#<region>#<type>` (the prefix keeps it apart from the
 * offerings and their queues), removed by the table's TTL at `expiresAt`. Reads compare `expiresAt` themselves (TTL
 * deletes late).
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { OFFERINGS_TTL_ATTRIBUTE } from '../contract/table.js';
import type { PriceCache, PriceQuote } from '../core/pricing';

const NONE = 'none';

/** The key prefix of the price items (functions/core/pricing.ts priceCacheKey). */
export const PRICE_PREFIX = 'price#';

export const createDynamoPriceCache = (options: { client: DynamoDBClient; tableName: string }): PriceCache => {
  const { client, tableName } = options;
  return {
    get: async (key, now) => {
      const { Item } = await client.send(new GetItemCommand({ TableName: tableName, Key: { offering: { S: key } } }));
      const expires = Number(Item?.[OFFERINGS_TTL_ATTRIBUTE]?.N ?? 0);
      if (!Item?.quote?.S || expires * 1000 <= now.getTime()) return undefined;
      return Item.quote.S === NONE ? null : (JSON.parse(Item.quote.S) as PriceQuote);
    },
    put: async (key, quote, expiresAt) => {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            offering: { S: key },
            quote: { S: quote === null ? NONE : JSON.stringify(quote) },
            [OFFERINGS_TTL_ATTRIBUTE]: { N: String(Math.floor(expiresAt.getTime() / 1000)) },
          },
        }),
      );
    },
  };
};
