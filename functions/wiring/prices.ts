/**
 * The price book of the functions (functions/core/pricing.ts): AWS's Price List Query API (`ENV.pricingApiRegion`, one of
 * us-east-1, ap-south-1, eu-central-1; default us-east-1), cached `ENV.priceCacheSeconds` (default a day) in the
 * offerings table when `ENV.offeringsTable` is set; `ENV.priceList`=off` prices from the offline table alone.
 */
import { ENV } from '../contract/environment.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createAwsPriceList } from '../adapters/pricing-aws';
import { createDynamoPriceCache } from '../adapters/pricing-dynamo';
import { DEFAULT_PRICE_CACHE_SECONDS, createPriceBook, type PriceBook } from '../core/pricing';
import { SDK_CLIENT_DEFAULTS, once, optional, optionalInt } from '../platform/config';
import { logger } from '../platform/observability';

export const priceBook = once((): PriceBook => {
  const table = optional(ENV.offeringsTable, '');
  return createPriceBook({
    ...(optional(ENV.priceList, 'api') === 'off'
      ? {}
      : { live: createAwsPriceList({ region: optional(ENV.pricingApiRegion, 'us-east-1') }) }),
    ...(table ? { cache: createDynamoPriceCache({ client: new DynamoDBClient({ ...SDK_CLIENT_DEFAULTS }), tableName: table }) } : {}),
    ttlSeconds: optionalInt(ENV.priceCacheSeconds, DEFAULT_PRICE_CACHE_SECONDS),
    onWarning: (message, details) => logger.warn(message, details),
  });
});
