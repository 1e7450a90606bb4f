/**
 * Default dependencies of the Lambda handlers, built once per process on first use (so importing a handler module
 * in a test does not need the deployment's environment). Tests build their own and call the handlers' factories.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoStore } from '../adapters/dynamo-store';
import { createEventBridgePublisher } from '../adapters/eventbridge';
import { createHyperPodProvider } from '../adapters/hyperpod';
import { createScheduler } from '../adapters/scheduler';
import { createStepFunctionsStarter } from '../adapters/step-functions';
import { createTirProvider } from '../adapters/tir';
import { tirCredentialsFromEnvironment } from '../adapters/tir-credentials';
import type { IntakeDeps } from '../core/intake';
import type { ClusterProvider } from '../core/provider';
import type { ProviderName } from '../core/request';
import type { SubmitDeps } from '../core/submit';
import type { WorkflowDeps } from '../core/workflow';
import { once, required } from './config';

export const clusterStore = once(() => createDynamoStore({ client: new DynamoDBClient({}), tableName: required('CLUSTERS_TABLE') }));

const providers = {
  sagemaker: once(() => createHyperPodProvider()),
  tir: once(() => createTirProvider({ credentials: tirCredentialsFromEnvironment() })),
};

export const providerFor = (name: ProviderName): ClusterProvider => providers[name]();

const scheduler = once(() =>
  createScheduler({
    groupName: required('SCHEDULER_GROUP_NAME'),
    roleArn: required('SCHEDULER_ROLE_ARN'),
    targetArn: required('SCHEDULE_TARGET_ARN'),
  }),
);

export const workflowDeps = once(
  (): WorkflowDeps => ({
    store: clusterStore(),
    provider: providerFor,
    eventBusName: required('EVENT_BUS_NAME'),
    teardown: scheduler(),
  }),
);

/** The submit path. Only the state machine ARNs a handler's role may start are read (lazily). */
export const submitDeps = once(
  (): SubmitDeps => ({
    store: clusterStore(),
    starter: createStepFunctionsStarter({
      provisionStateMachineArn: process.env.PROVISION_STATE_MACHINE_ARN ?? '',
      deleteStateMachineArn: process.env.DELETE_STATE_MACHINE_ARN ?? '',
    }),
    scheduler: scheduler(),
    defaultRegion: required('AWS_REGION'),
  }),
);

export const intakeDeps = once(
  (): IntakeDeps => ({
    ...submitDeps(),
    events: createEventBridgePublisher(),
    eventBusName: required('EVENT_BUS_NAME'),
  }),
);
