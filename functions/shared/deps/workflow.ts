/** Dependencies of the state machines' task Lambdas: the store, the providers, the bus name, the teardown scheduler. */
import { createHyperPodProvider } from '../../adapters/hyperpod';
import { createTirProvider } from '../../adapters/tir';
import { tirCredentialsFromEnvironment } from '../../adapters/tir-credentials';
import type { ClusterProvider } from '../../core/provider';
import type { ProviderName } from '../../core/request';
import type { WorkflowDeps } from '../../core/workflow';
import { once, required } from '../config';
import { logger } from '../observability';
import { lazyScheduler } from './scheduler';
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
    teardown: lazyScheduler,
    onWarning: (message, details) => logger.error(message, details),
  }),
);
