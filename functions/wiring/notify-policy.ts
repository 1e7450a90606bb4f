/**
 * What a request's `notify` may name in this deployment (functions/core/notify/targets.ts NotifyPolicy), from the environment
 * serverless.yml gives the submit functions and the notify function: NOTIFY_SECRET_PREFIX (param notifySecretPrefix),
 * NOTIFY_SNS_TOPICS (param notifySnsTopics, comma-separated ARNs or prefixes ending in `*`) and NOTIFY_ALLOW_LOOPBACK
 * (`true` on the local stack only: loopback webhooks, over http too).
 */
import type { NotifyPolicy } from '../core/notify';
import { once, optional, optionalList } from '../platform/config';

export const DEFAULT_NOTIFY_SECRET_PREFIX = 'provisioner/notify/';

export const notifyPolicy = once(
  (): NotifyPolicy => ({
    secretPrefix: optional('NOTIFY_SECRET_PREFIX', DEFAULT_NOTIFY_SECRET_PREFIX),
    snsTopics: optionalList('NOTIFY_SNS_TOPICS'),
    allowLoopback: optional('NOTIFY_ALLOW_LOOPBACK', 'false') === 'true',
  }),
);
