/**
 * Creating the clusters table (local stack and tests). The table itself, its key, attributes and indexes, is the
 * contract's (functions/contract/table.js), from which serverless.yml declares the deployed one.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { table } from '../contract/table.js';

export { CLUSTER_RECORD_TYPE, INDEX_PARTITION_KEYS, INTERNAL_ATTRIBUTES } from '../contract/table.js';
export type { ClustersIndexName } from '../contract/table.js';

/** The sort key of the indexes. acceptedAt is normalised so that every item uses the same ISO format. */
export const listSortKey = (acceptedAt: string, requestId: string): string => {
  const at = new Date(acceptedAt);
  if (Number.isNaN(at.getTime())) throw new RangeError(`acceptedAt "${acceptedAt}" of ${requestId} is not a date`);
  return `${at.toISOString()}#${requestId}`;
};

export const clustersTableDefinition = (tableName: string): CreateTableCommandInput =>
  ({ TableName: tableName, ...table }) as CreateTableCommandInput;

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
