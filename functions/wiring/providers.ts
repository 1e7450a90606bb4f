/**
 * The providers of the task and sweeper Lambdas: HyperPod over the SDK, TIR over fetch with its credentials, both
 * tagging and recognising this deployment's clusters. Built once per process, on first use; each provider's adapter (the
 * SageMaker SDK; TIR's wire format) and the Secrets Manager client (TIR's credentials) are imported when first called
 * (./lazy.ts).
 */
import { ENV } from '../contract/environment.js';
import { TIR_DEFAULT_TIMEOUT_MS, TIR_PRODUCTION_BASE_URL } from '../adapters/tir-endpoint';
import type { ClusterProvider } from '../core/provider';
import type { ProviderName } from '../core/request';
import { SDK_CLIENT_DEFAULTS, once, optional, optionalInt, required } from '../platform/config';
import { lazyHyperPodProvider, lazyTirProvider } from './lazy';
import { tirCredentials } from './tir-credentials';

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
    lazyTirProvider(() => ({
      deployment: deployment(),
      credentials: tirCredentials,
      baseUrl: optional(ENV.tirApiBaseUrl, TIR_PRODUCTION_BASE_URL),
      timeoutMs: optionalInt(ENV.tirTimeoutMs, TIR_DEFAULT_TIMEOUT_MS),
    })),
  ),
};

export const providerFor = (name: ProviderName): ClusterProvider => providers[name]();
