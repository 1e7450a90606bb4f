/**
 * The price book of the functions (functions/core/pricing.ts): AWS's Price List Query API (PRICING_API_REGION, one of
 * us-east-1, ap-south-1, eu-central-1; default us-east-1), cached PRICE_CACHE_SECONDS (default a day) in the
 * offerings table when OFFERINGS_TABLE is set; `PRICE_LIST=off` prices from the offline table alone.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createAwsPriceList } from '../adapters/pricing-aws';
import { createDynamoPriceCache } from '../adapters/pricing-dynamo';
import { OFFERINGS_TABLE_ENV } from '../contract/table.js';
import { DEFAULT_PRICE_CACHE_SECONDS, createPriceBook, type PriceBook } from '../core/pricing';
import { SDK_CLIENT_DEFAULTS, once, optional, optionalInt } from '../platform/config';
import { logger } from '../platform/observability';

export const priceBook = once((): PriceBook => {
  const table = optional(OFFERINGS_TABLE_ENV, '');
  return createPriceBook({
    ...(optional('PRICE_LIST', 'api') === 'off'
      ? {}
      : { live: createAwsPriceList({ region: optional('PRICING_API_REGION', 'us-east-1') }) }),
    ...(table ? { cache: createDynamoPriceCache({ client: new DynamoDBClient({ ...SDK_CLIENT_DEFAULTS }), tableName: table }) } : {}),
    ttlSeconds: optionalInt('PRICE_CACHE_SECONDS', DEFAULT_PRICE_CACHE_SECONDS),
    onWarning: (message, details) => logger.warn(message, details),
  });
});
