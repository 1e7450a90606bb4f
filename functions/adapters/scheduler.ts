/**
 * One-time schedules on EventBridge Scheduler: a scheduled start (`startAt`) and a teardown (`deleteAfter`). Each
 * targets the scheduledAction Lambda with `{action, requestId}`; schedule names derive from the requestId, so asking
 * twice is idempotent (ConflictException = already scheduled). Schedules delete themselves after firing.
 */
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
}

export type ScheduledAction = { action: 'provision' | 'delete'; requestId: string };

/** at(yyyy-mm-ddThh:mm:ss) in UTC, as Scheduler wants one-time expressions. */
export const atExpression = (at: Date): string => `at(${at.toISOString().slice(0, 19)})`;

export const scheduleName = (action: ScheduledAction['action'], requestId: string): string => `${action}-${requestId}`.slice(0, 64);

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
