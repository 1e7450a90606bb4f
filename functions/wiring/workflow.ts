/**
 * Dependencies of the state machines' task Lambdas: the store, the providers (./providers.ts), the shared memory of
 * short offerings, the bus name. Only recordOutcome
 * schedules (the deleteAfter teardown), so only its bundle carries the Scheduler client (workflowDepsWithTeardown).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { OFFERINGS_TABLE_ENV } from '../contract/table.js';
import { createDynamoOfferings } from '../adapters/offerings-dynamo';
import type { OfferingMemory } from '../core/offerings';
import type { WorkflowDeps } from '../core/workflow';
import { SDK_CLIENT_DEFAULTS, once, required } from '../platform/config';
import { logger } from '../platform/observability';
import { providerFor } from './providers';
import { clusterStore } from './store';

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
