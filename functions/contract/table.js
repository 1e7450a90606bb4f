// @ts-check
/**
 * The clusters table. serverless.yml declares it from here (`${file(./functions/contract/table.js):table.<Property>}`),
 * and the local stack and the tests create it from here, so the deployed and the local table cannot differ. Its name
 * reaches the functions in their environment (functions/contract/environment.js).
 *
 * Layout: one item per provisioning, keyed by `requestId`. Listing is newest first, so every item carries
 * `listSk = <acceptedAt as ISO 8601 UTC> + '#' + <requestId>`: ISO timestamps of one fixed format sort as strings in
 * time order, and the requestId suffix makes ties stable and unique. Three GSIs, all sorted by listSk and projecting
 * ALL (a page is read from the index alone):
 *   - byStatus   (status, listSk)      "the READY clusters"
 *   - byProvider (provider, listSk)    "the TIR clusters"
 *   - byAll      (recordType, listSk)  "every cluster": recordType is the constant "CLUSTER", so the whole table is one
 *     index partition (a partition takes ~1,000 writes/s, far above any GPU provisioning rate).
 * The table has no TTL: records are the audit trail of spend and are kept.
 */

/** The value of `recordType` on every cluster item: the single partition of byAll. */
export const CLUSTER_RECORD_TYPE = 'CLUSTER';

/** The partition attribute of each index (all sort on `listSk`). */
export const INDEX_PARTITION_KEYS = /** @type {const} */ ({ byStatus: 'status', byProvider: 'provider', byAll: 'recordType' });

/** @typedef {keyof typeof INDEX_PARTITION_KEYS} ClustersIndexName */

/** Attributes the store adds to each item for the indexes; they are not part of a record. */
export const INTERNAL_ATTRIBUTES = /** @type {const} */ (['listSk', 'recordType']);

/** Key, attributes and indexes, in CloudFormation's (and CreateTable's) shape. */
export const table = {
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: ['requestId', 'status', 'provider', 'recordType', 'listSk'].map((AttributeName) => ({
    AttributeName,
    AttributeType: 'S',
  })),
  KeySchema: [{ AttributeName: 'requestId', KeyType: 'HASH' }],
  GlobalSecondaryIndexes: Object.entries(INDEX_PARTITION_KEYS).map(([IndexName, partitionKey]) => ({
    IndexName,
    KeySchema: [
      { AttributeName: partitionKey, KeyType: 'HASH' },
      { AttributeName: 'listSk', KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'ALL' },
  })),
};

/**
 * The shared memory of short offerings (functions/core/offerings.ts): one item per offering, keyed by
 * `<provider>#<region or location>#<instance type>`. DynamoDB's TTL removes an item at `expiresAt` (epoch seconds), an
 * hour after its memory ran out; reads never trust TTL alone (it deletes late) and compare `shortUntil` themselves.
 */
export const offeringsTable = {
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [{ AttributeName: 'offering', AttributeType: 'S' }],
  KeySchema: [{ AttributeName: 'offering', KeyType: 'HASH' }],
};

/** The TTL attribute of the offerings table. */
export const OFFERINGS_TTL_ATTRIBUTE = 'expiresAt';
