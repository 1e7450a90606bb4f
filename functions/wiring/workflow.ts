/**
 * Dependencies of the state machines' task Lambdas: the store, the providers, the bus name. Only recordOutcome
 * schedules (the deleteAfter teardown), so only its bundle carries the Scheduler client (workflowDepsWithTeardown).
 */
import { createHyperPodProvider } from '../adapters/hyperpod';
import { TIR_DEFAULT_TIMEOUT_MS, TIR_PRODUCTION_BASE_URL, createTirProvider } from '../adapters/tir';
import { DEFAULT_MAX_AGE_SECONDS, createTirCredentialsSource } from '../adapters/tir-credentials';
import type { ClusterProvider } from '../core/provider';
import type { ProviderName } from '../core/request';
import type { WorkflowDeps } from '../core/workflow';
import { once, optional, optionalInt, required } from '../platform/config';
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

const providers = {
  sagemaker: once(() => createHyperPodProvider()),
  tir: once(() =>
    createTirProvider({
      credentials: tirCredentials(),
      baseUrl: optional('TIR_API_BASE_URL', TIR_PRODUCTION_BASE_URL),
      timeoutMs: optionalInt('TIR_TIMEOUT_MS', TIR_DEFAULT_TIMEOUT_MS),
    }),
  ),
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
