/** EventBridge Scheduler for startAt / deleteAfter; its settings are read the first time something is scheduled. */
import { ENV } from '../contract/environment.js';
import { createScheduler } from '../adapters/scheduler';
import type { ProvisionScheduler } from '../core/submit';
import type { TeardownScheduler } from '../core/workflow';
import { once, required } from '../platform/config';

const scheduler = once(() =>
  createScheduler({
    groupName: required(ENV.schedulerGroupName),
    roleArn: required(ENV.schedulerRoleArn),
    targetArn: required(ENV.scheduleTargetArn),
    deadLetterArn: required(ENV.schedulerDlqArn),
  }),
);

export const lazyScheduler: ProvisionScheduler & TeardownScheduler = {
  scheduleProvisioning: (requestId, at) => scheduler().scheduleProvisioning(requestId, at),
  scheduleDeletion: (requestId, at) => scheduler().scheduleDeletion(requestId, at),
};
