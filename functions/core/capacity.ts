/**
 * The capacity policy: how a provider's refusal is read (shortage, quota, transient), how long the next wait is, and
 * when to stop. Pure functions, no I/O: the workflow tasks call them, and so does the benchmark, so both measure the
 * same policy.
 *
 * Signals (see README, "Capacity"):
 *   - shortage: HyperPod accepts CreateCluster and the cluster later goes RollingBack -> Failed with EC2's
 *     insufficient-capacity wording in FailureMessage; TIR refuses the create with a capacity message. Waiting helps.
 *   - quota: HyperPod ResourceLimitExceeded, "The account-level service limit '<type> for cluster usage' is <L>
 *     Instances, with current utilization of <U> Instances and a request delta of <D> Instances". When L < D no wait
 *     can help; otherwise it fits once the account's other clusters release instances.
 */
import { durationSeconds } from './duration';

export type { WaitReason } from '../contract/statuses.js';

/**
 * EC2's and the providers' insufficient-capacity wordings. Matched case-insensitively; the original message is always
 * kept in the record. Anything else is not a shortage (a lifecycle script, IAM or VPC failure ends the request).
 */
const SHORTAGE_PATTERNS: readonly RegExp[] = [
  /insufficient\s*instance\s*capacity/i,
  /insufficient[\s-]+capacity/i,
  /do(?:es)? not have (?:enough|sufficient)\b.*\bcapacity/i,
  /not enough capacity/i,
  /capacity (?:is )?(?:currently )?(?:not available|unavailable|exhausted)/i,
  /no (?:available )?capacity/i,
  /out of (?:stock|capacity)/i,
  /no nodes? available/i,
  /not enough (?:nodes|resources)/i,
];

export const isCapacityShortage = (message: string | undefined): boolean =>
  message !== undefined && SHORTAGE_PATTERNS.some((pattern) => pattern.test(message));

/** What ResourceLimitExceeded says about the account quota. */
export interface QuotaFacts {
  /** The quota's name, e.g. `ml.p5.48xlarge for cluster usage`. */
  name: string;
  limit: number;
  usage: number;
  delta: number;
}

const QUOTA_MESSAGE = /service limit '([^']+)' is (\d+) \w+, with current utili[sz]ation of (\d+) \w+ and a request delta of (\d+) \w+/i;

/** The quota facts of a ResourceLimitExceeded message; undefined when the message has another shape. */
export const parseQuotaMessage = (message: string): QuotaFacts | undefined => {
  const match = QUOTA_MESSAGE.exec(message);
  if (!match) return undefined;
  const [, name = '', limit, usage, delta] = match;
  return { name, limit: Number(limit), usage: Number(usage), delta: Number(delta) };
};

/** No wait can make the request fit: the quota itself is below what this request adds. */
export const quotaCanNeverFit = (quota: QuotaFacts): boolean => quota.limit < quota.delta;

/** The sentence a user reads when the quota is too low: what it is, what is needed, how to raise it. */
export const quotaTooLowMessage = (quota: QuotaFacts, region?: string): string =>
  `The account quota '${quota.name}' is ${quota.limit} instances and this request adds ${quota.delta}: no wait can make ` +
  `it fit. Raise it in Service Quotas (service code sagemaker, quota '${quota.name}'${region ? `, region ${region}` : ''}) ` +
  `to at least ${quota.delta}, or ask for fewer instances.`;

/**
 * A HyperPod roll back because a group's MinInstanceCount was not met within the 3 h window: a shortage that lasted,
 * waited out (and failed over) like one. The API reference documents the roll back but not its FailureMessage: these
 * wordings are an assumption (docs/providers.md), matched loosely; one that names capacity is a shortage already.
 */
const MINIMUM_NOT_MET_PATTERNS: readonly RegExp[] = [
  /min(?:imum)?[\s_-]*instance[\s_-]*count/i,
  /minimum (?:number of )?(?:instances?|nodes?|count|capacity)\b[^.]*\b(?:not|never|unable|could ?n[o']t|failed)\b/i,
  /(?:not|never|unable to|could ?n[o']t|failed to) (?:be )?(?:meet|met|reach|reached|satisfy|satisfied)\b[^.]*\bminimum\b/i,
];

export const isMinimumNotMet = (message: string | undefined): boolean =>
  message !== undefined && MINIMUM_NOT_MET_PATTERNS.some((pattern) => pattern.test(message));

// ---- backoff and horizon ----

/** The deployment's backoff: full jitter, exponential from `baseSeconds` by `rate`, capped. */
export interface BackoffPolicy {
  baseSeconds: number;
  rate: number;
  capSeconds: number;
  /**
   * Create attempts a request may make at most. An execution's history is limited (25,000 events, about 9 per
   * attempt loop), so a long horizon stretches the cap instead of running out of history: see `effectiveCap`.
   */
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseSeconds: 30, rate: 2, capSeconds: 600, maxAttempts: 2000 };

/** The policy from the state machine's parameters (Step Functions Retry names, as the deployment settings set them). */
export const backoffOf = (p: {
  IntervalSeconds: number;
  BackoffRate: number;
  MaxDelaySeconds: number;
  MaxAttempts: number;
}): BackoffPolicy => ({
  baseSeconds: p.IntervalSeconds,
  rate: p.BackoffRate,
  capSeconds: p.MaxDelaySeconds,
  maxAttempts: p.MaxAttempts,
});

/** The default horizon when a request names none, and the longest one a request may ask for. */
export const DEFAULT_HORIZON_SECONDS = 6 * 3600;
export const MAX_HORIZON_SECONDS = 14 * 86400;

/**
 * The cap actually used: the deployment's, or more when the horizon is so long that capped waits (mean cap / 2 with
 * full jitter) would need more than `maxAttempts` attempts to fill it.
 */
export const effectiveCap = (policy: BackoffPolicy, horizonSeconds: number): number =>
  Math.max(policy.capSeconds, Math.ceil((2 * horizonSeconds) / policy.maxAttempts));

/**
 * Seconds to wait after the `failures`-th failed attempt: uniform in [1, min(cap, base * rate^(failures-1))] (full
 * jitter; at least one second, since a Step Functions Wait counts whole seconds).
 */
export const backoffSeconds = (
  policy: BackoffPolicy,
  failures: number,
  horizonSeconds: number,
  random: () => number = Math.random,
): number => {
  const ceiling = Math.min(effectiveCap(policy, horizonSeconds), policy.baseSeconds * policy.rate ** Math.max(0, failures - 1));
  return Math.max(1, Math.ceil(random() * ceiling));
};

/** When a request stops trying: `retry.until`, else the start of its first attempt plus `retry.for` (default PT6H). */
export const horizonEnd = (retry: { for?: string; until?: string } | undefined, firstAttemptAt: Date): Date => {
  if (retry?.until) return new Date(retry.until);
  const seconds = (retry?.for ? durationSeconds(retry.for) : undefined) ?? DEFAULT_HORIZON_SECONDS;
  return new Date(firstAttemptAt.getTime() + seconds * 1000);
};

export type WaitDecision = { retry: true; waitSeconds: number; nextAttemptAt: Date } | { retry: false; why: string };

/**
 * After a failed attempt: wait and try again, or stop. The wait never runs past the horizon (the last attempt starts
 * at the horizon at the latest); at or past it, and after `maxAttempts` attempts, the request stops.
 */
export const decideWait = (
  policy: BackoffPolicy,
  input: {
    /** Failures (rounds) so far: the backoff grows with them. */
    failures: number;
    /** Create attempts made so far, for the budget; the failures when not given. */
    attempts?: number;
    now: Date;
    horizon: Date;
    horizonSeconds: number;
  },
  random: () => number = Math.random,
): WaitDecision => {
  const left = Math.floor((input.horizon.getTime() - input.now.getTime()) / 1000);
  if (left < 1) return { retry: false, why: `the retry horizon ended at ${input.horizon.toISOString()}` };
  if ((input.attempts ?? input.failures) >= policy.maxAttempts)
    return { retry: false, why: `all ${policy.maxAttempts} attempts were made` };
  const waitSeconds = Math.min(left, backoffSeconds(policy, input.failures, input.horizonSeconds, random));
  return { retry: true, waitSeconds, nextAttemptAt: new Date(input.now.getTime() + waitSeconds * 1000) };
};
