/**
 * Dependencies of the plan function (functions/handlers/plan.ts): the read-only probes over the AWS SDK and the TIR
 * API, the deployment's region and allow-lists (the same gate as submit).
 */
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
      baseUrl: optional('TIR_API_BASE_URL', TIR_PRODUCTION_BASE_URL),
      // Deployed: the secret named by TIR_CREDENTIALS_SECRET_ARN (kept 5 minutes). Local: TIR_API_KEY, TIR_AUTH_TOKEN.
      credentials: createTirCredentialsSource({
        secretArn: given('TIR_CREDENTIALS_SECRET_ARN'),
        apiKey: given('TIR_API_KEY'),
        authToken: given('TIR_AUTH_TOKEN'),
        maxAgeSeconds: DEFAULT_MAX_AGE_SECONDS,
      }),
    }),
  },
  defaultRegion: required('AWS_REGION'),
  prices: priceBook(),
  get policy() {
    return deploymentPolicy();
  },
}));
