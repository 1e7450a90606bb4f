/** The rules of a target, at its pointer: the request's own (`notifyErrors`) and the deployment's (`notifyPolicyErrors`). */
import type { FieldError } from '../errors';
import type { NotifyTarget } from '../request';
import { describeKind, hostKind } from './addresses';

export const MAX_NOTIFY_TARGETS = 5;

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
export const own = (value: Record<string, unknown>, key: string): unknown => (Object.hasOwn(value, key) ? value[key] : undefined);

/** The URL of a webhook, or why it is not one a target may name (deployment-independent rules). */
export const webhookProblem = (text: string): string | undefined => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute https URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `must be an https URL (got ${url.protocol.replace(/:$/, '')})`;
  if (url.username || url.password) return 'must not carry credentials (user:password@): the body is signed with the secret instead';
  if (!url.hostname) return 'must name a host';
  const kind = hostKind(url.hostname);
  if (kind !== 'public' && kind !== 'not-an-ip' && kind !== 'loopback')
    return `must not name ${describeKind(kind)}: webhooks go to public addresses only`;
  if (url.protocol === 'http:' && kind !== 'loopback') return 'must be an https URL (http only to a loopback address, on the local stack)';
  return undefined;
};

/**
 * Every deployment-independent problem of a request's `notify` the schema cannot state, at its pointer: the webhook URL's
 * host, and duplicate targets (the schema states the shape, the secret name and its need, the topic ARN).
 */
export const notifyErrors = (notify: unknown): FieldError[] => {
  if (!Array.isArray(notify)) return [];
  const errors: FieldError[] = [];
  const seen = new Map<string, string>();
  notify.forEach((target, i) => {
    const at = `/notify/${i}`;
    if (!isObject(target)) return;
    const webhook = own(target, 'webhook');
    const sns = own(target, 'sns');
    let key: string | undefined;
    if (typeof webhook === 'string') {
      const problem = webhookProblem(webhook);
      if (problem) errors.push({ path: `${at}/webhook`, message: problem });
      key = `webhook ${canonicalUrl(webhook)}`;
    } else if (typeof sns === 'string') {
      key = `sns ${sns}`;
    }
    if (key === undefined) return;
    const earlier = seen.get(key);
    if (earlier !== undefined)
      errors.push({ path: `${at}/${typeof webhook === 'string' ? 'webhook' : 'sns'}`, message: `duplicates ${earlier}: each target once` });
    else seen.set(key, `${at}/${typeof webhook === 'string' ? 'webhook' : 'sns'}`);
  });
  return errors;
};

export const canonicalUrl = (text: string): string => {
  try {
    return new URL(text).href;
  } catch {
    return text;
  }
};

/** What a deployment lets `notify` name (serverless.yml params notifySecretPrefix, notifySnsTopics). */
export interface NotifyPolicy {
  /** Webhook secrets must be named with this prefix (the notify function may read only those). */
  secretPrefix: string;
  /** Topic ARNs, each exact or a prefix ending in `*` (the notify function may publish only to those). */
  snsTopics: readonly string[];
  /** Loopback webhooks, over http too: the local stack only (`ENV.notifyAllowLoopback`); never when deployed. */
  allowLoopback: boolean;
}

export const allowedBy = (list: readonly string[], value: string): boolean =>
  list.some((entry) => (entry.endsWith('*') ? value.startsWith(entry.slice(0, -1)) : value === entry));

/** Every target of a valid request the deployment does not allow, at its pointer. */
export const notifyPolicyErrors = (policy: NotifyPolicy, notify: readonly NotifyTarget[] | undefined): FieldError[] => {
  const errors: FieldError[] = [];
  (notify ?? []).forEach((target, i) => {
    const at = `/notify/${i}`;
    if ('webhook' in target) {
      if (!policy.allowLoopback && hostKind(new URL(target.webhook).hostname) === 'loopback')
        errors.push({ path: `${at}/webhook`, message: `must not name ${describeKind('loopback')}: webhooks go to public addresses only` });
      if (!target.secret.startsWith(policy.secretPrefix))
        errors.push({ path: `${at}/secret`, message: `must start with the deployment's notifySecretPrefix (${policy.secretPrefix})` });
    } else if (!allowedBy(policy.snsTopics, target.sns)) {
      const listed = policy.snsTopics.length === 0 ? 'none' : policy.snsTopics.join(', ');
      errors.push({ path: `${at}/sns`, message: `must be one of the deployment's notifySnsTopics (${listed})` });
    }
  });
  return errors;
};
