/**
 * One-time schedules on EventBridge Scheduler: a scheduled start (`startAt`) and a teardown (`deleteAfter`). Each
 * targets the scheduledAction Lambda with `{action, requestId}`; schedule names derive from the requestId, so asking
 * twice is idempotent (ConflictException = already scheduled). Schedules delete themselves after firing. A firing
 * Scheduler cannot deliver (after its retries) lands in the dead-letter queue, which has an alarm.
 */
import { createHash } from 'node:crypto';
import { ConflictException, CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import type { ProvisionScheduler } from '../core/submit';
import type { TeardownScheduler } from '../core/workflow';

export interface SchedulerOptions {
  client?: SchedulerClient;
  groupName: string;
  /** Role EventBridge Scheduler assumes to invoke the target. */
  roleArn: string;
  /** ARN of the scheduledAction function. */
  targetArn: string;
  /** SQS queue for the firings Scheduler could not deliver after its retries (the role above may send to it). */
  deadLetterArn: string;
}

export type ScheduledAction = { action: 'provision' | 'delete'; requestId: string };

/** at(yyyy-mm-ddThh:mm:ss) in UTC, as Scheduler wants one-time expressions. */
export const atExpression = (at: Date): string => `at(${at.toISOString().slice(0, 19)})`;

/** Scheduler's limit on a schedule name (1..64 of [0-9a-zA-Z-_.]). */
export const SCHEDULE_NAME_MAX = 64;
const HASH_LENGTH = 16;

/**
 * `<action>-<requestId>` when it fits in 64 characters (every name made before this rule keeps its name). A longer
 * one is its first 47 characters, a dot and 16 hex digits of the SHA-256 of the whole name: two requestIds that differ
 * only past the cut get different names, so one request's schedule can never stand in for another's. The dot cannot
 * occur in a requestId, so a shortened name never equals a name that fits.
 */
export const scheduleName = (action: ScheduledAction['action'], requestId: string): string => {
  const full = `${action}-${requestId}`;
  if (full.length <= SCHEDULE_NAME_MAX) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, HASH_LENGTH);
  return `${full.slice(0, SCHEDULE_NAME_MAX - HASH_LENGTH - 1)}.${hash}`;
};

export const createScheduler = (options: SchedulerOptions): ProvisionScheduler & TeardownScheduler => {
  const client = options.client ?? new SchedulerClient({});
  const schedule = async (action: ScheduledAction['action'], requestId: string, at: Date) => {
    const payload: ScheduledAction = { action, requestId };
    try {
      await client.send(
        new CreateScheduleCommand({
          Name: scheduleName(action, requestId),
          GroupName: options.groupName,
          ScheduleExpression: atExpression(at),
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Target: {
            Arn: options.targetArn,
            RoleArn: options.roleArn,
            Input: JSON.stringify(payload),
            RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 },
            DeadLetterConfig: { Arn: options.deadLetterArn },
          },
        }),
      );
    } catch (err) {
      if (err instanceof ConflictException || (err as Error).name === 'ConflictException') return;
      throw err;
    }
  };
  return {
    scheduleProvisioning: (requestId, at) => schedule('provision', requestId, at),
    scheduleDeletion: (requestId, at) => schedule('delete', requestId, at),
  };
};
