/**
 * Default dependencies of the Lambda handlers, built once per process on first use (so importing a handler module
 * in a test does not need the deployment's environment). Tests build their own and call the handlers' factories.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ClusterProvider } from '../core/provider';
import type { ProviderName } from '../core/request';
import type { WorkflowDeps } from '../core/workflow';
import { createDynamoStore } from '../adapters/dynamo-store';
import { createHyperPodProvider } from '../adapters/hyperpod';
import { createTirProvider } from '../adapters/tir';
import { tirCredentialsFromEnvironment } from '../adapters/tir-credentials';
import { once, required } from './config';

export const dynamoClient = once(() => new DynamoDBClient({}));

export const clusterStore = once(() => createDynamoStore({ client: dynamoClient(), tableName: required('CLUSTERS_TABLE') }));

const providers = {
  sagemaker: once(() => createHyperPodProvider()),
  tir: once(() => createTirProvider({ credentials: tirCredentialsFromEnvironment() })),
};

export const providerFor = (name: ProviderName): ClusterProvider => providers[name]();

export const workflowDeps = once(
  (): WorkflowDeps => ({
    store: clusterStore(),
    provider: providerFor,
    eventBusName: required('EVENT_BUS_NAME'),
  }),
);
