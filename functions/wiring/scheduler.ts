/** EventBridge Scheduler for startAt / deleteAfter; its settings are read the first time something is scheduled. */
import { ENV } from '../contract/environment.js';
import type { ProvisionScheduler } from '../core/submit';
import type { TeardownScheduler } from '../core/workflow';
import { once, required } from '../platform/config';
import { lazySchedulerOf } from './lazy';

/** The Scheduler adapter and its SDK client are imported when something is first scheduled (./lazy.ts). */
const scheduler = once(() =>
  lazySchedulerOf(() => ({
    groupName: required(ENV.schedulerGroupName),
    roleArn: required(ENV.schedulerRoleArn),
    targetArn: required(ENV.scheduleTargetArn),
    deadLetterArn: required(ENV.schedulerDlqArn),
  })),
);

export const lazyScheduler: ProvisionScheduler & TeardownScheduler = {
  scheduleProvisioning: (requestId, at) => scheduler().scheduleProvisioning(requestId, at),
  scheduleDeletion: (requestId, at) => scheduler().scheduleDeletion(requestId, at),
};
