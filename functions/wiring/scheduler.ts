/** EventBridge Scheduler for startAt / deleteAfter; its settings are read the first time something is scheduled. */
import { createScheduler } from '../adapters/scheduler';
import type { ProvisionScheduler } from '../core/submit';
import type { TeardownScheduler } from '../core/workflow';
import { once, required } from '../platform/config';

const scheduler = once(() =>
  createScheduler({
    groupName: required('SCHEDULER_GROUP_NAME'),
    roleArn: required('SCHEDULER_ROLE_ARN'),
    targetArn: required('SCHEDULE_TARGET_ARN'),
    deadLetterArn: required('SCHEDULER_DLQ_ARN'),
  }),
);

export const lazyScheduler: ProvisionScheduler & TeardownScheduler = {
  scheduleProvisioning: (requestId, at) => scheduler().scheduleProvisioning(requestId, at),
  scheduleDeletion: (requestId, at) => scheduler().scheduleDeletion(requestId, at),
};
