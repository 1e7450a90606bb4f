/**
 * Dependencies of the state machines' task Lambdas: the store, the providers, the bus name. Only recordOutcome
 * schedules (the deleteAfter teardown), so only its bundle carries the Scheduler client (workflowDepsWithTeardown).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { OFFERINGS_TABLE_ENV } from '../contract/table.js';
import { createHyperPodProvider } from '../adapters/hyperpod';
import { createDynamoOfferings } from '../adapters/offerings-dynamo';
import { TIR_DEFAULT_TIMEOUT_MS, TIR_PRODUCTION_BASE_URL, createTirProvider } from '../adapters/tir';
import { DEFAULT_MAX_AGE_SECONDS, createTirCredentialsSource } from '../adapters/tir-credentials';
import type { OfferingMemory } from '../core/offerings';
import type { ClusterProvider } from '../core/provider';
import type { ProviderName } from '../core/request';
import type { WorkflowDeps } from '../core/workflow';
import { SDK_CLIENT_DEFAULTS, once, optional, optionalInt, required } from '../platform/config';
import { logger } from '../platform/observability';
import { clusterStore } from './store';

/** An optional variable: its value, or undefined when unset or empty. */
const given = (name: string): string | undefined => optional(name, '') || undefined;

/**
 * Deployed: the secret named by TIR_CREDENTIALS_SECRET_ARN (kept 5 minutes). Local: TIR_API_KEY and TIR_AUTH_TOKEN.
 * One source per process, so one secret cache per Lambda container.
 */
const tirCredentials = once(() =>
  createTirCredentialsSource({
    secretArn: given('TIR_CREDENTIALS_SECRET_ARN'),
    apiKey: given('TIR_API_KEY'),
    authToken: given('TIR_AUTH_TOKEN'),
    maxAgeSeconds: DEFAULT_MAX_AGE_SECONDS,
  }),
);

/** This deployment's name: every cluster it creates carries it, and only clusters carrying it are its own. */
const deployment = once(() => required('DEPLOYMENT_NAME'));

const providers = {
  sagemaker: once(() =>
    createHyperPodProvider({
      deployment: deployment(),
      maxAttempts: SDK_CLIENT_DEFAULTS.maxAttempts,
      requestTimeoutMs: SDK_CLIENT_DEFAULTS.requestHandler.requestTimeout,
    }),
  ),
  tir: once(() =>
    createTirProvider({
      deployment: deployment(),
      credentials: tirCredentials(),
      baseUrl: optional('TIR_API_BASE_URL', TIR_PRODUCTION_BASE_URL),
      timeoutMs: optionalInt('TIR_TIMEOUT_MS', TIR_DEFAULT_TIMEOUT_MS),
    }),
  ),
};

export const providerFor = (name: ProviderName): ClusterProvider => providers[name]();

/**
 * The shared memory of short offerings (its table: OFFERINGS_TABLE), made on first use: deleteCluster never uses it,
 * so its environment need not name the table.
 */
const offeringsTable = once(() =>
  createDynamoOfferings({ client: new DynamoDBClient({ ...SDK_CLIENT_DEFAULTS }), tableName: required(OFFERINGS_TABLE_ENV) }),
);
const offerings: OfferingMemory = {
  claim: (...args) => offeringsTable().claim(...args),
  remember: (...args) => offeringsTable().remember(...args),
  forget: (...args) => offeringsTable().forget(...args),
};

export const workflowDeps = once(
  (): WorkflowDeps => ({
    store: clusterStore(),
    provider: providerFor,
    offerings,
    eventBusName: required('EVENT_BUS_NAME'),
    onWarning: (message, details) => logger.error(message, details),
  }),
);
