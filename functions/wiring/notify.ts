/**
 * Dependencies of the notify function: the record store (to read the request's `notify`), the webhook sender (its
 * secrets from Secrets Manager under NOTIFY_SECRET_PREFIX; loopback only with NOTIFY_ALLOW_LOOPBACK=true, the local
 * stack's setting) and the SNS publisher. The Secrets Manager and SNS clients are imported on first use
 * (./clients/notify.ts): a webhook without a secret reads neither.
 */
import { ENV } from '../contract/environment.js';
import type { SecretSource } from '../adapters/notify-secrets';
import { createWebhookSender } from '../adapters/notify-webhook';
import type { NotifyDeps, TopicPublisher } from '../core/notify';
import { lazily, once, optionalInt } from '../platform/config';
import { notifyPolicy } from './notify-policy';
import { clusterStore } from './store';

export const notifyDeps = once((): NotifyDeps => {
  const policy = notifyPolicy();
  return {
    store: clusterStore(),
    webhooks: createWebhookSender({
      secrets: lazily<SecretSource>(() => import('./clients/notify').then((m) => m.secretSource(policy.secretPrefix)), ['get']),
      allowLoopback: policy.allowLoopback,
      timeoutMs: optionalInt(ENV.notifyTimeoutMs, 5000),
    }),
    topics: lazily<TopicPublisher>(() => import('./clients/notify').then((m) => m.topicPublisher()), ['publish']),
    attempts: optionalInt(ENV.notifyAttempts, 3),
    baseDelayMs: optionalInt(ENV.notifyBaseDelayMs, 500),
  };
});
