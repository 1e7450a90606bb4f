/**
 * Dependencies of the state machines' task Lambdas: the store, the providers (./providers.ts), the shared memory of
 * short offerings, the bus name. Only recordOutcome
 * schedules (the deleteAfter teardown), so only its bundle carries the Scheduler client (workflowDepsWithTeardown).
 */
import { ENV } from '../contract/environment.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoOfferings } from '../adapters/offerings-dynamo';
import type { OfferingMemory } from '../core/offerings';
import type { TaskWaker } from '../core/wake';
import type { WorkflowDeps } from '../core/workflow';
import { DEFAULT_RESERVED_OFFERS_AFTER_SECONDS } from '../core/offers';
import { SDK_CLIENT_DEFAULTS, once, optionalInt, optionalList, required } from '../platform/config';
import { lazyEventPublisher, lazyTaskWaker, lazyTrainingPlanOfferings, lazyZoneLookup } from './lazy';
import { priceBook } from './prices';
import { logger } from '../platform/observability';
import { providerFor } from './providers';
import { clusterStore } from './store';

/**
 * The shared memory of short offerings (its table: `ENV.offeringsTable`), made on first use: deleteCluster never uses it,
 * so its environment need not name the table.
 */
const offeringsTable = once(() =>
  createDynamoOfferings({ client: new DynamoDBClient({ ...SDK_CLIENT_DEFAULTS }), tableName: required(ENV.offeringsTable) }),
);
const offerings: OfferingMemory = {
  claim: (...args) => offeringsTable().claim(...args),
  remember: (...args) => offeringsTable().remember(...args),
  forget: (...args) => offeringsTable().forget(...args),
  enqueue: (...args) => offeringsTable().enqueue!(...args),
  dequeue: (...args) => offeringsTable().dequeue!(...args),
  head: (...args) => offeringsTable().head!(...args),
  turns: (...args) => offeringsTable().turns!(...args),
  widen: (...args) => offeringsTable().widen!(...args),
  narrow: (...args) => offeringsTable().narrow!(...args),
};

/** SendTaskSuccess, loaded on first use: only a request leaving a queue (or queued on a free offering) wakes another. */
const stepFunctions = once(lazyTaskWaker);
const waker: TaskWaker = { wake: (token) => stepFunctions().wake(token) };

/**
 * The regions whose HyperPod events reach this deployment's default bus: `ENV.hyperPodEventRegions` (the
 * hyperPodEventRegions param: the regions wired with the forwarding rule of docs/deploy.md), else the deployment's own.
 */
const eventRegions = (): string[] | undefined => {
  const listed = optionalList(ENV.hyperPodEventRegions);
  const regions = listed.length > 0 ? listed : optionalList(ENV.awsRegion);
  return regions.length > 0 ? regions : undefined;
};

export const workflowDeps = once(
  (): WorkflowDeps => ({
    ...(eventRegions() ? { eventRegions: eventRegions() } : {}),
    store: clusterStore(),
    provider: providerFor,
    offerings,
    waker,
    // A shortage naming the zones with capacity: the subnets' zones (EC2 DescribeSubnets) pick the alternative to try.
    zones: lazyZoneLookup(),
    // A request waiting longer than RESERVED_OFFERS_AFTER_SECONDS gets training-plan offerings suggested (never bought).
    reserved: {
      offerings: lazyTrainingPlanOfferings(),
      afterSeconds: optionalInt(ENV.reservedOffersAfterSeconds, DEFAULT_RESERVED_OFFERS_AFTER_SECONDS),
      get prices() {
        return priceBook();
      },
    },
    eventBusName: required(ENV.eventBusName),
    // Cluster Waiting For Capacity, put by createCluster and pollCluster when a request starts or changes its wait.
    events: lazyEventPublisher({ ...SDK_CLIENT_DEFAULTS }),
    onWarning: (message, details) => logger.error(message, details),
  }),
);
