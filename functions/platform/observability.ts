/**
 * One logger, metrics and tracer per process (Powertools). Log lines are structured JSON; handlers append the
 * `requestId` as a persistent key. Never log a request body or a credential: log ids, names, statuses and counts.
 */
import { ENV } from '../contract/environment.js';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { optional } from './config';

const serviceName = optional(ENV.powertoolsServiceName, 'gpu-cluster-provisioner');

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ serviceName, namespace: optional(ENV.powertoolsMetricsNamespace, 'GpuClusterProvisioner') });
export const tracer = new Tracer({ serviceName });
