/**
 * One logger, metrics and tracer per process (Powertools). Log lines are structured JSON; handlers append the
 * `requestId` as a persistent key. Never log a request body or a credential: log ids, names, statuses and counts.
 *
 * The tracer (./tracing.ts: Powertools Tracer over the X-Ray SDK, the heaviest of the three to load) is imported by
 * the middleware stacks' first step on the first invocation, not at init: middleware/tracing.ts.
 */
import { ENV } from '../contract/environment.js';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { optional } from './config';

export const serviceName = optional(ENV.powertoolsServiceName, 'gpu-cluster-provisioner');

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ serviceName, namespace: optional(ENV.powertoolsMetricsNamespace, 'GpuClusterProvisioner') });
