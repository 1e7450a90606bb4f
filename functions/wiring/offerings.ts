/**
 * GET /offerings' dependency: the offerings table's reader (../adapters/offerings-reader.ts), built once per process.
 */
import { ENV } from '../contract/environment.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoOfferingsReader } from '../adapters/offerings-reader';
import { SDK_CLIENT_DEFAULTS, once, required } from '../platform/config';

export type { OfferingsReader, StoredOffering } from '../adapters/offerings-reader';

export const offeringsReader = once(() =>
  createDynamoOfferingsReader({ client: new DynamoDBClient({ ...SDK_CLIENT_DEFAULTS }), tableName: required(ENV.offeringsTable) }),
);
