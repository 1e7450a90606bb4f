/**
 * What a request's `notify` may name in this deployment (functions/core/notify/targets.ts NotifyPolicy), from the environment
 * serverless.yml gives the submit functions and the notify function: `ENV.notifySecretPrefix` (param notifySecretPrefix),
 * `ENV.notifySnsTopics` (param notifySnsTopics, comma-separated ARNs or prefixes ending in `*`) and `ENV.notifyAllowLoopback`
 * (`true` on the local stack only: loopback webhooks, over http too).
 */
import { ENV } from '../contract/environment.js';
import type { NotifyPolicy } from '../core/notify';
import { once, optional, optionalList } from '../platform/config';

export const DEFAULT_NOTIFY_SECRET_PREFIX = 'provisioner/notify/';

export const notifyPolicy = once(
  (): NotifyPolicy => ({
    secretPrefix: optional(ENV.notifySecretPrefix, DEFAULT_NOTIFY_SECRET_PREFIX),
    snsTopics: optionalList(ENV.notifySnsTopics),
    allowLoopback: optional(ENV.notifyAllowLoopback, 'false') === 'true',
  }),
);
