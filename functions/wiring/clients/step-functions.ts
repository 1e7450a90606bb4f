/** The Step Functions adapters on their SDK client; imported on first use (a chunk of its own in the bundles). */
import { SFNClient } from '@aws-sdk/client-sfn';
import { type StepFunctionsStarterOptions, createStepFunctionsStarter, createTaskWaker } from '../../adapters/step-functions';
import { SDK_CLIENT_DEFAULTS } from '../../platform/config';

export const taskWaker = () => createTaskWaker(new SFNClient({ ...SDK_CLIENT_DEFAULTS }));

export const stepFunctionsStarter = (options: Omit<StepFunctionsStarterOptions, 'client'>) =>
  createStepFunctionsStarter({ ...options, client: new SFNClient({ ...SDK_CLIENT_DEFAULTS }) });
