/**
 * Dependencies of the plan function (functions/handlers/plan.ts): the read-only probes over the AWS SDK and the TIR
 * API, the deployment's region and allow-lists (the same gate as submit).
 */
import { ENV } from '../contract/environment.js';
import { createAwsProbes } from '../adapters/preflight-aws';
import { createTirProbes } from '../adapters/preflight-tir';
import { TIR_PRODUCTION_BASE_URL } from '../adapters/tir';
import { DEFAULT_MAX_AGE_SECONDS, createTirCredentialsSource } from '../adapters/tir-credentials';
import type { PlanDeps } from '../core/plan';
import type { DeploymentPolicy } from '../core/policy';
import { once, optional, required } from '../platform/config';
import { priceBook } from './prices';
import { deploymentPolicy } from './submit';

const given = (name: string): string | undefined => optional(name, '') || undefined;

export const planDeps = once((): PlanDeps & { policy: DeploymentPolicy } => ({
  probes: {
    ...createAwsProbes(),
    ...createTirProbes({
      baseUrl: optional(ENV.tirApiBaseUrl, TIR_PRODUCTION_BASE_URL),
      // Deployed: the secret named by `ENV.tirCredentialsSecretArn` (kept 5 minutes). Local: `ENV.tirApiKey`, `ENV.tirAuthToken`.
      credentials: createTirCredentialsSource({
        secretArn: given(ENV.tirCredentialsSecretArn),
        apiKey: given(ENV.tirApiKey),
        authToken: given(ENV.tirAuthToken),
        maxAgeSeconds: DEFAULT_MAX_AGE_SECONDS,
      }),
    }),
  },
  defaultRegion: required(ENV.awsRegion),
  prices: priceBook(),
  get policy() {
    return deploymentPolicy();
  },
}));
