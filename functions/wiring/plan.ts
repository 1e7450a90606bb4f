/**
 * Dependencies of the plan function (functions/handlers/plan.ts): the read-only probes over the AWS SDK and the TIR
 * API, the deployment's region and allow-lists (the same gate as submit).
 */
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
    secretArn: given('TIR_CREDENTIALS_SECRET_ARN'),
    apiKey: given('TIR_API_KEY'),
    authToken: given('TIR_AUTH_TOKEN'),
    maxAgeSeconds: DEFAULT_MAX_AGE_SECONDS,
  });
});

export const planDeps = once((): PlanDeps & { policy: DeploymentPolicy } => ({
  probes: {
    ...createAwsProbes(),
    ...createTirProbes({
      baseUrl: optional('TIR_API_BASE_URL', TIR_PRODUCTION_BASE_URL),
      credentials: async () => (await tirCredentials())(),
    }),
  },
  defaultRegion: required('AWS_REGION'),
  prices: priceBook(),
  get policy() {
    return deploymentPolicy();
  },
}));
