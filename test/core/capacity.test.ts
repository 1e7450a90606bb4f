import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BACKOFF,
  backoffSeconds,
  decideWait,
  effectiveCap,
  horizonEnd,
  isCapacityShortage,
  parseQuotaMessage,
  quotaCanNeverFit,
  quotaTooLowMessage,
} from '../../functions/core/capacity';

describe('isCapacityShortage', () => {
  it.each([
    'We currently do not have sufficient ml.p5.48xlarge capacity in the Availability Zone you requested (us-east-1a). Our system will be working on provisioning additional capacity.',
    'InsufficientInstanceCapacity: launching ml.p4d.24xlarge',
    'Instance group workers failed: insufficient capacity',
    'We currently do not have enough ml.g5.48xlarge capacity',
    'Insufficient capacity: no nodes available for the selected plan',
    'The selected GPU is out of stock',
  ])('reads %j as a shortage', (message) => {
    expect(isCapacityShortage(message)).toBe(true);
  });

  it.each([
    'Lifecycle script on_create.sh exited with 1',
    'The execution role arn:aws:iam::123456789012:role/x cannot be assumed by SageMaker',
    'Subnet subnet-0abc has no free IP addresses',
    'The account-level service limit ... for cluster usage is exceeded',
  ])('does not read %j as a shortage', (message) => {
    expect(isCapacityShortage(message)).toBe(false);
  });

  it('treats no message as no shortage', () => {
    expect(isCapacityShortage(undefined)).toBe(false);
  });
});

describe('the quota in ResourceLimitExceeded', () => {
  const message = (limit: number, usage: number, delta: number) =>
    `The account-level service limit 'ml.p5.48xlarge for cluster usage' is ${limit} Instances, with current utilization of ${usage} Instances and a request delta of ${delta} Instances. Please use AWS Service Quotas to request an increase for this quota.`;

  it('parses name, limit, usage and delta', () => {
    expect(parseQuotaMessage(message(4, 4, 2))).toEqual({ name: 'ml.p5.48xlarge for cluster usage', limit: 4, usage: 4, delta: 2 });
  });

  it('parses the same shape for other SageMaker resources and a single instance', () => {
    expect(
      parseQuotaMessage(
        "The account-level service limit 'ml.g5.xlarge for training job usage' is 0 Instances, with current utilization of 0 Instances and a request delta of 1 Instance.",
      ),
    ).toEqual({ name: 'ml.g5.xlarge for training job usage', limit: 0, usage: 0, delta: 1 });
  });

  it('answers undefined for a message of another shape (the workflow then waits as for a quota)', () => {
    expect(parseQuotaMessage('The account-level service limit for cluster usage is exceeded.')).toBeUndefined();
  });

  it('can never fit only when the limit is below the delta', () => {
    expect(quotaCanNeverFit(parseQuotaMessage(message(1, 0, 2))!)).toBe(true);
    expect(quotaCanNeverFit(parseQuotaMessage(message(4, 4, 2))!)).toBe(false);
    expect(quotaCanNeverFit(parseQuotaMessage(message(2, 0, 2))!)).toBe(false);
  });

  it('tells the user the quota, the limit, the delta and where to raise it', () => {
    const text = quotaTooLowMessage({ name: 'ml.p5.48xlarge for cluster usage', limit: 1, usage: 0, delta: 2 }, 'us-west-2');
    expect(text).toContain("'ml.p5.48xlarge for cluster usage' is 1 instances and this request adds 2");
    expect(text).toContain('Service Quotas (service code sagemaker');
    expect(text).toContain('region us-west-2');
  });
});

describe('backoff and horizon', () => {
  const sixHours = 6 * 3600;

  it('draws full jitter between 1 s and the doubling ceiling, capped', () => {
    expect(backoffSeconds(DEFAULT_BACKOFF, 1, sixHours, () => 0.999)).toBe(30);
    expect(backoffSeconds(DEFAULT_BACKOFF, 2, sixHours, () => 0.999)).toBe(60);
    expect(backoffSeconds(DEFAULT_BACKOFF, 6, sixHours, () => 0.999)).toBe(600);
    expect(backoffSeconds(DEFAULT_BACKOFF, 40, sixHours, () => 0.999)).toBe(600);
    expect(backoffSeconds(DEFAULT_BACKOFF, 3, sixHours, () => 0)).toBe(1);
    expect(backoffSeconds(DEFAULT_BACKOFF, 3, sixHours, () => 0.5)).toBe(60);
  });

  it('stretches the cap for horizons too long for the attempt budget, and only then', () => {
    expect(effectiveCap(DEFAULT_BACKOFF, sixHours)).toBe(600);
    expect(effectiveCap(DEFAULT_BACKOFF, 14 * 86400)).toBe(1210);
  });

  it('never waits past the horizon, and stops at it', () => {
    const now = new Date('2026-11-29T10:00:00Z');
    const near = decideWait(
      DEFAULT_BACKOFF,
      { failures: 8, now, horizon: new Date('2026-11-29T10:00:10Z'), horizonSeconds: sixHours },
      () => 0.999,
    );
    expect(near).toEqual({ retry: true, waitSeconds: 10, nextAttemptAt: new Date('2026-11-29T10:00:10Z') });
    const past = decideWait(DEFAULT_BACKOFF, { failures: 8, now, horizon: new Date('2026-11-29T09:59:59Z'), horizonSeconds: sixHours });
    expect(past).toEqual({ retry: false, why: 'the retry horizon ended at 2026-11-29T09:59:59.000Z' });
  });

  it('stops after the attempt budget', () => {
    const now = new Date('2026-11-29T10:00:00Z');
    const decision = decideWait(
      { ...DEFAULT_BACKOFF, maxAttempts: 3 },
      { failures: 3, now, horizon: new Date('2026-11-30T00:00:00Z'), horizonSeconds: sixHours },
    );
    expect(decision).toEqual({ retry: false, why: 'all 3 attempts were made' });
  });

  it('ends at retry.until, else retry.for (default PT6H) after the first attempt', () => {
    const first = new Date('2026-11-29T10:00:00Z');
    expect(horizonEnd(undefined, first).toISOString()).toBe('2026-11-29T16:00:00.000Z');
    expect(horizonEnd({ for: 'PT12H' }, first).toISOString()).toBe('2026-11-29T22:00:00.000Z');
    expect(horizonEnd({ until: '2026-12-01T00:00:00Z' }, first).toISOString()).toBe('2026-12-01T00:00:00.000Z');
  });
});
