/**
 * The clusters table, as data. The deployment (serverless.yml) declares the same attributes, key and indexes; a test
 * compares the two, so the pieces are exported one by one in the shape CloudFormation also uses.
 *
 * Layout: one item per provisioning, keyed by `requestId`. Listing is newest first, so every item carries
 * `listSk = <acceptedAt as ISO 8601 UTC> + '#' + <requestId>`: ISO timestamps of one fixed format sort as strings in
 * time order, and the requestId suffix makes ties (two requests accepted in the same millisecond) stable and unique.
 * Three GSIs, all sorted by listSk and projecting ALL (a page is read from the index alone, no second fetch):
 *   - byStatus   (status, listSk)      "the READY clusters"
 *   - byProvider (provider, listSk)    "the TIR clusters"
 *   - byAll      (recordType, listSk)  "every cluster": recordType is the constant "CLUSTER", so the whole table is one
 *     index partition. A Scan could not return newest first; one partition is fine at the rate clusters are created
 *     (a partition takes ~1,000 writes/s, far above any GPU provisioning rate). Should that change, shard recordType.
 * status + provider together query byStatus and filter on provider (a status partition is small).
 *
 * The table has no TTL: records are the audit trail of spend and are kept.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';

/** The environment variable holding the table name. */
export const CLUSTERS_TABLE_ENV = 'CLUSTERS_TABLE';

/** The value of `recordType` on every cluster item: the single partition of byAll. */
export const CLUSTER_RECORD_TYPE = 'CLUSTER';

export type ClustersIndexName = 'byStatus' | 'byProvider' | 'byAll';

/** The partition attribute of each index (all sort on `listSk`). */
export const INDEX_PARTITION_KEYS: Readonly<Record<ClustersIndexName, 'status' | 'provider' | 'recordType'>> = {
  byStatus: 'status',
  byProvider: 'provider',
  byAll: 'recordType',
};

/** Attributes the store adds to each item for the indexes; they are not part of a ClusterRecord. */
export const INTERNAL_ATTRIBUTES = ['listSk', 'recordType'] as const;

/** The sort key of the indexes. acceptedAt is normalised so that every item uses the same ISO format. */
export const listSortKey = (acceptedAt: string, requestId: string): string => {
  const at = new Date(acceptedAt);
  if (Number.isNaN(at.getTime())) throw new RangeError(`acceptedAt "${acceptedAt}" of ${requestId} is not a date`);
  return `${at.toISOString()}#${requestId}`;
};

export const CLUSTERS_ATTRIBUTE_DEFINITIONS: AttributeDefinition[] = [
  { AttributeName: 'requestId', AttributeType: 'S' },
  { AttributeName: 'status', AttributeType: 'S' },
  { AttributeName: 'provider', AttributeType: 'S' },
  { AttributeName: 'recordType', AttributeType: 'S' },
  { AttributeName: 'listSk', AttributeType: 'S' },
];

export const CLUSTERS_KEY_SCHEMA: KeySchemaElement[] = [{ AttributeName: 'requestId', KeyType: 'HASH' }];

export const CLUSTERS_GLOBAL_SECONDARY_INDEXES: GlobalSecondaryIndex[] = (
  Object.entries(INDEX_PARTITION_KEYS) as Array<[ClustersIndexName, string]>
).map(([IndexName, partitionKey]) => ({
  IndexName,
  KeySchema: [
    { AttributeName: partitionKey, KeyType: 'HASH' },
    { AttributeName: 'listSk', KeyType: 'RANGE' },
  ],
  Projection: { ProjectionType: 'ALL' },
}));

export const clustersTableDefinition = (tableName: string): CreateTableCommandInput => ({
  TableName: tableName,
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: CLUSTERS_ATTRIBUTE_DEFINITIONS,
  KeySchema: CLUSTERS_KEY_SCHEMA,
  GlobalSecondaryIndexes: CLUSTERS_GLOBAL_SECONDARY_INDEXES,
});

const describeTable = async (client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> => {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
};

const isActive = (table: TableDescription | undefined): boolean =>
  table?.TableStatus === 'ACTIVE' && (table.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');

/**
 * Creates the table when it is missing and waits until it and its indexes are ACTIVE. For the local stack and tests;
 * the deployment creates the table through CloudFormation. An existing table is left as it is (not compared).
 */
export const ensureClustersTable = async (
  client: DynamoDBClient,
  tableName: string,
  options: { timeoutMs?: number } = {},
): Promise<void> => {
  let table = await describeTable(client, tableName);
  if (!table) {
    try {
      await client.send(new CreateTableCommand(clustersTableDefinition(tableName)));
    } catch (err) {
      // Someone else created it between our describe and create: wait for theirs.
      if ((err as Error).name !== 'ResourceInUseException') throw err;
    }
  }
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  let delayMs = 50;
  for (;;) {
    table = await describeTable(client, tableName);
    if (isActive(table)) return;
    if (Date.now() > deadline) {
      throw new Error(`Table ${tableName} is not ACTIVE after ${timeoutMs} ms (${table?.TableStatus ?? 'missing'})`);
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayMs = Math.min(delayMs * 2, 2_000);
  }
};
