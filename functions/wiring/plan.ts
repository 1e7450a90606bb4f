/**
 * Dependencies of the plan function (functions/handlers/plan.ts): the read-only probes over the AWS SDK and the TIR
 * API, the deployment's region and allow-lists (the same gate as submit).
 */
import { ENV } from '../contract/environment.js';
import { createAwsProbes } from '../adapters/preflight-aws';
import { createTirProbes } from '../adapters/preflight-tir';
import { TIR_PRODUCTION_BASE_URL } from '../adapters/tir';
import type { PlanDeps } from '../core/plan';
import type { DeploymentPolicy } from '../core/policy';
import { once, onceAsync, optional, required } from '../platform/config';
import { priceBook } from './prices';
import { deploymentPolicy } from './submit';

const given = (name: string): string | undefined => optional(name, '') || undefined;

/**
 * Deployed: the secret named by TIR_CREDENTIALS_SECRET_ARN (kept 5 minutes). Local: TIR_API_KEY, TIR_AUTH_TOKEN.
 * Imported with its Secrets Manager client when a TIR check first runs; each AWS check loads its own client likewise
 * (functions/adapters/preflight-aws.ts).
 */
const tirCredentials = onceAsync(async () => {
  const { DEFAULT_MAX_AGE_SECONDS, createTirCredentialsSource } = await import('../adapters/tir-credentials');
  return createTirCredentialsSource({
    secretArn: given(ENV.tirCredentialsSecretArn),
    apiKey: given(ENV.tirApiKey),
    authToken: given(ENV.tirAuthToken),
    maxAgeSeconds: DEFAULT_MAX_AGE_SECONDS,
  });
});

export const planDeps = once((): PlanDeps & { policy: DeploymentPolicy } => ({
  probes: {
    ...createAwsProbes(),
    ...createTirProbes({
      baseUrl: optional(ENV.tirApiBaseUrl, TIR_PRODUCTION_BASE_URL),
      credentials: async () => (await tirCredentials())(),
    }),
  },
  defaultRegion: required(ENV.awsRegion),
  prices: priceBook(),
  get policy() {
    return deploymentPolicy();
  },
}));
