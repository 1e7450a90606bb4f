/**
 * WorkflowStarter over Step Functions. The execution name is the requestId (deletes: `<requestId>-delete-<n>`), so
 * a second start of the same request answers ExecutionAlreadyExists, which here means "already started". A cancel
 * stops the provision execution by that name.
 */
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { asStoreError } from './transient';
import type { ExecutionInspector } from '../core/reconcile';
import type { WorkflowStarter } from '../core/submit';
import type { TaskWaker } from '../core/wake';

export interface StepFunctionsStarterOptions {
  client?: SFNClient;
  /** The ARN of each machine, asked for when first needed (a function's environment holds only the ARNs it may use). */
  provisionStateMachineArn: string | (() => string);
  deleteStateMachineArn: string | (() => string);
}

const arnOf = (v: string | (() => string)): string => (typeof v === 'function' ? v() : v);

const executionArnOf = (stateMachineArn: string, name: string): string =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

export const createStepFunctionsStarter = (options: StepFunctionsStarterOptions): WorkflowStarter & ExecutionInspector => {
  const client = options.client ?? new SFNClient({});
  const start = async (stateMachineArn: string, name: string, input: object) => {
    try {
      const out = await client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
      return { executionArn: out.executionArn ?? executionArnOf(stateMachineArn, name), alreadyStarted: false };
    } catch (err) {
      if (err instanceof ExecutionAlreadyExists || (err as Error).name === 'ExecutionAlreadyExists') {
        // The name is the requestId: whoever started it, it is this request's execution.
        return { executionArn: executionArnOf(stateMachineArn, name), alreadyStarted: true };
      }
      throw err;
    }
  };
  return {
    startProvisioning: (requestId, executionName = requestId) =>
      start(arnOf(options.provisionStateMachineArn), executionName, { requestId }),
    startDeletion: (requestId, executionName) => start(arnOf(options.deleteStateMachineArn), executionName, { requestId }),
    async stopProvisioning(executionArn, cause) {
      // StopExecution of an execution that has already ended succeeds (and changes nothing); one never started is
      // ExecutionDoesNotExist, which is fine too: with the record DELETING it would stop at its first step.
      try {
        await client.send(new StopExecutionCommand({ executionArn, cause, error: 'RequestCancelledError' }));
      } catch (err) {
        if ((err as Error).name !== 'ExecutionDoesNotExist') throw err;
      }
    },
    async isRunning(executionArn) {
      try {
        const out = await client.send(new DescribeExecutionCommand({ executionArn }));
        return out.status === 'RUNNING';
      } catch (err) {
        if ((err as Error).name === 'ExecutionDoesNotExist') return false;
        throw err;
      }
    },
  };
};

/**
 * TaskWaker over SendTaskSuccess. A token Step Functions no longer waits on (the task timed out, or was woken already)
 * answers TaskTimedOut or TaskDoesNotExist: that is `false`, not an error. InvalidToken (a malformed token) is an error.
 * A transient failure (throttling, 5xx, no answer) is StoreUnavailableError (./transient.ts): the wake is part of a
 * task's store work, and the state machines retry it.
 */
export const createTaskWaker = (client: SFNClient = new SFNClient({})): TaskWaker => ({
  async wake(token: string) {
    try {
      await client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }));
      return true;
    } catch (err) {
      const name = (err as Error | undefined)?.name;
      if (name === 'TaskTimedOut' || name === 'TaskDoesNotExist') return false;
      throw asStoreError(err, 'Step Functions (SendTaskSuccess)');
    }
  },
});
