/**
 * A store on its own table in the dynalite that test/global-setup.ts started: tests never see each other's records.
 *
 * The endpoint comes from `inject('dynamoEndpoint')`. (Global setup also sets AWS_ENDPOINT_URL_DYNAMODB, and with
 * pool 'forks' the workers do inherit it because they are spawned after global setup; passing it explicitly keeps the
 * helper independent of the pool.)
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { createDynamoStore, type DynamoStoreOptions } from '../../functions/adapters/dynamo-store';
import { ensureClustersTable } from '../../functions/adapters/dynamo-table';
import type { ClusterRecord, ClusterStore } from '../../functions/core/store';

export const dynamoClient = (): DynamoDBClient => new DynamoDBClient({ endpoint: inject('dynamoEndpoint') });

export interface FreshStore {
  store: ClusterStore;
  client: DynamoDBClient;
  tableName: string;
}

export const freshStore = async (
  options: Omit<DynamoStoreOptions, 'client' | 'tableName'> = {},
  client: DynamoDBClient = dynamoClient(),
): Promise<FreshStore> => {
  const tableName = `clusters-${randomUUID()}`;
  await ensureClustersTable(client, tableName);
  return { store: createDynamoStore({ ...options, client, tableName }), client, tableName };
};

/** A plausible record (SageMaker, ACCEPTED, empty history); override what the test is about. */
export const sampleRecord = (overrides: Partial<ClusterRecord> = {}): ClusterRecord => {
  const acceptedAt = overrides.acceptedAt ?? '2025-01-01T00:00:00.000Z';
  return {
    requestId: `req-${randomUUID()}`,
    provider: 'sagemaker',
    region: 'us-east-1',
    clusterName: 'train-a',
    status: 'ACCEPTED',
    attempts: 0,
    requestHash: 'a'.repeat(64),
    request: {
      provider: 'sagemaker',
      cluster: { ClusterName: 'train-a', InstanceGroups: [{ InstanceGroupName: 'workers', InstanceCount: 2 }] },
    },
    acceptedAt,
    updatedAt: acceptedAt,
    history: [],
    ...overrides,
  };
};
