/**
 * The providers of the task and sweeper Lambdas: HyperPod over the SDK, TIR over fetch with its credentials, both
 * tagging and recognising this deployment's clusters. Built once per process, on first use; the SageMaker SDK and the
 * Secrets Manager client (TIR's credentials) are imported when first called (./lazy.ts).
 */
import { ENV } from '../contract/environment.js';
import { TIR_DEFAULT_TIMEOUT_MS, TIR_PRODUCTION_BASE_URL, createTirProvider } from '../adapters/tir';
import type { ClusterProvider } from '../core/provider';
import type { ProviderName } from '../core/request';
import { SDK_CLIENT_DEFAULTS, once, onceAsync, optional, optionalInt, required } from '../platform/config';
import { lazyHyperPodProvider } from './lazy';

/** An optional variable: its value, or undefined when unset or empty. */
const given = (name: string): string | undefined => optional(name, '') || undefined;

/**
 * Deployed: the secret named by `ENV.tirCredentialsSecretArn` (kept 5 minutes). Local: `ENV.tirApiKey` and `ENV.tirAuthToken`.
 * One source per process, so one secret cache per Lambda container.
 */
const tirCredentialsSource = onceAsync(async () => {
  const { DEFAULT_MAX_AGE_SECONDS, createTirCredentialsSource } = await import('../adapters/tir-credentials');
  return createTirCredentialsSource({
    secretArn: given(ENV.tirCredentialsSecretArn),
    apiKey: given(ENV.tirApiKey),
    authToken: given(ENV.tirAuthToken),
    maxAgeSeconds: DEFAULT_MAX_AGE_SECONDS,
  });
});
const tirCredentials = () => async () => (await tirCredentialsSource())();

/** This deployment's name: every cluster it creates carries it, and only clusters carrying it are its own. */
const deployment = once(() => required(ENV.deploymentName));

const providers = {
  sagemaker: once(() =>
    lazyHyperPodProvider(() => ({
      deployment: deployment(),
      maxAttempts: SDK_CLIENT_DEFAULTS.maxAttempts,
      requestTimeoutMs: SDK_CLIENT_DEFAULTS.requestHandler.requestTimeout,
    })),
  ),
  tir: once(() =>
    createTirProvider({
      deployment: deployment(),
      credentials: tirCredentials(),
      baseUrl: optional(ENV.tirApiBaseUrl, TIR_PRODUCTION_BASE_URL),
      timeoutMs: optionalInt(ENV.tirTimeoutMs, TIR_DEFAULT_TIMEOUT_MS),
    }),
  ),
};

export const providerFor = (name: ProviderName): ClusterProvider => providers[name]();
