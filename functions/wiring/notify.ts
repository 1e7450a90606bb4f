/**
 * Dependencies of the notify function: the record store (to read the request's `notify`), the webhook sender (its
 * secrets from Secrets Manager under `ENV.notifySecretPrefix`; loopback only with `ENV.notifyAllowLoopback`=true, the local
 * stack's setting) and the SNS publisher.
 */
import { ENV } from '../contract/environment.js';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { createSecretSource } from '../adapters/notify-secrets';
import { createTopicPublisher } from '../adapters/notify-sns';
import { createWebhookSender } from '../adapters/notify-webhook';
import type { NotifyDeps } from '../core/notify';
import { SDK_CLIENT_DEFAULTS, once, optionalInt } from '../platform/config';
import { notifyPolicy } from './notify-policy';
import { clusterStore } from './store';

export const notifyDeps = once((): NotifyDeps => {
  const policy = notifyPolicy();
  return {
    store: clusterStore(),
    webhooks: createWebhookSender({
      secrets: createSecretSource({ prefix: policy.secretPrefix, client: new SecretsManagerClient({ ...SDK_CLIENT_DEFAULTS }) }),
      allowLoopback: policy.allowLoopback,
      timeoutMs: optionalInt(ENV.notifyTimeoutMs, 5000),
    }),
    topics: createTopicPublisher({ clientFor: (region) => new SNSClient({ ...SDK_CLIENT_DEFAULTS, region }) }),
    attempts: optionalInt(ENV.notifyAttempts, 3),
    baseDelayMs: optionalInt(ENV.notifyBaseDelayMs, 500),
  };
});
