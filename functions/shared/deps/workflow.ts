/**
 * Dependencies of the state machines' task Lambdas: the store, the providers, the bus name. Only recordOutcome
 * schedules (the deleteAfter teardown), so only its bundle carries the Scheduler client (workflowDepsWithTeardown).
 */
import { createHyperPodProvider } from '../../adapters/hyperpod';
import { createTirProvider } from '../../adapters/tir';
import { tirCredentialsFromEnvironment } from '../../adapters/tir-credentials';
import type { ClusterProvider } from '../../core/provider';
import type { ProviderName } from '../../core/request';
import type { WorkflowDeps } from '../../core/workflow';
import { once, required } from '../config';
import { logger } from '../observability';
import { clusterStore } from './store';

const providers = {
  sagemaker: once(() => createHyperPodProvider()),
  tir: once(() => createTirProvider({ credentials: tirCredentialsFromEnvironment() })),
};

const providerFor = (name: ProviderName): ClusterProvider => providers[name]();

export const workflowDeps = once(
  (): WorkflowDeps => ({
    store: clusterStore(),
    provider: providerFor,
    eventBusName: required('EVENT_BUS_NAME'),
    onWarning: (message, details) => logger.error(message, details),
  }),
);
