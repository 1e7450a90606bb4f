/**
 * Dependencies of the plan function (functions/handlers/plan.ts): the read-only probes over the AWS SDK and the TIR
 * API, the deployment's region and allow-lists (the same gate as submit).
 */
import { ENV } from '../contract/environment.js';
import { createAwsProbes } from '../adapters/preflight-aws';
import { createTirProbes } from '../adapters/preflight-tir';
import { TIR_PRODUCTION_BASE_URL } from '../adapters/tir-endpoint';
import type { PlanDeps } from '../core/plan';
import type { DeploymentPolicy } from '../core/policy';
import { once, optional, required } from '../platform/config';
import { priceBook } from './prices';
import { deploymentPolicy } from './submit';
import { tirCredentials } from './tir-credentials';

export const planDeps = once((): PlanDeps & { policy: DeploymentPolicy } => ({
  probes: {
    ...createAwsProbes(),
    ...createTirProbes({
      baseUrl: optional(ENV.tirApiBaseUrl, TIR_PRODUCTION_BASE_URL),
      credentials: tirCredentials,
    }),
  },
  defaultRegion: required(ENV.awsRegion),
  prices: priceBook(),
  get policy() {
    return deploymentPolicy();
  },
}));
