/**
 * A Step Functions simulator on loopback speaking AWS JSON 1.0 (`X-Amz-Target: AWSStepFunctions.<Operation>`):
 * StartExecution, DescribeExecution, StopExecution and SendTaskSuccess (a parked workflow's token), over LocalWorkflows (the shipped ASL run by aws-local-stepfunctions). A name
 * already used answers ExecutionAlreadyExists, as the service does. Point the SDK at it with AWS_ENDPOINT_URL_SFN.
 */
import { readBody, sendJson, startServer, type RunningServer } from './common';
import type { LocalWorkflows, MachineName } from '../workflows';

const awsError = (res: Parameters<typeof sendJson>[0], type: string, message: string) =>
  sendJson(res, 400, { __type: type, message }, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': type });

/** `arn:aws:states:<region>:<account>:stateMachine:<name>` -> which local machine (by the name's suffix). */
const machineOf = (stateMachineArn: string): MachineName | undefined =>
  /provision-cluster$/.test(stateMachineArn) ? 'provision' : /delete-cluster$/.test(stateMachineArn) ? 'delete' : undefined;

export const startStepFunctionsSimulator = async (workflows: LocalWorkflows, port = 0): Promise<RunningServer> =>
  startServer(async (req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    let input: Record<string, string | undefined>;
    try {
      input = JSON.parse((await readBody(req)) || '{}') as Record<string, string | undefined>;
    } catch {
      return awsError(res, 'SerializationException', 'Body is not JSON');
    }
    if (target === 'AWSStepFunctions.StartExecution') {
      const machine = machineOf(input.stateMachineArn ?? '');
      if (!machine) return awsError(res, 'StateMachineDoesNotExist', `State Machine Does Not Exist: '${input.stateMachineArn}'`);
      if (!input.name || !/^[A-Za-z0-9_-]{1,80}$/.test(input.name)) return awsError(res, 'InvalidName', 'Invalid Name');
      let execInput: unknown;
      try {
        execInput = JSON.parse(input.input ?? '{}');
      } catch {
        return awsError(res, 'InvalidExecutionInput', 'Invalid execution input');
      }
      const { executionArn, alreadyStarted } = workflows.start(machine, input.name, execInput);
      if (alreadyStarted) return awsError(res, 'ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
      return sendJson(res, 200, { executionArn, startDate: Date.now() / 1000 }, { 'content-type': 'application/x-amz-json-1.0' });
    }
    if (target === 'AWSStepFunctions.DescribeExecution') {
      const name = (input.executionArn ?? '').split(':').pop() ?? '';
      const execution = workflows.get(name);
      if (!execution) return awsError(res, 'ExecutionDoesNotExist', `Execution Does Not Exist: '${input.executionArn}'`);
      return sendJson(
        res,
        200,
        {
          executionArn: execution.executionArn,
          name: execution.name,
          status: execution.status,
          input: JSON.stringify(execution.input),
          ...(execution.error ? { error: execution.error.name, cause: execution.error.message } : {}),
        },
        { 'content-type': 'application/x-amz-json-1.0' },
      );
    }
    if (target === 'AWSStepFunctions.SendTaskSuccess') {
      if (!input.taskToken) return awsError(res, 'InvalidToken', 'Invalid Token');
      if (!workflows.sendTaskSuccess(input.taskToken, JSON.parse(input.output ?? '{}'))) {
        return awsError(res, 'TaskTimedOut', 'Task Timed Out');
      }
      return sendJson(res, 200, {}, { 'content-type': 'application/x-amz-json-1.0' });
    }
    if (target === 'AWSStepFunctions.StopExecution') {
      const name = (input.executionArn ?? '').split(':').pop() ?? '';
      const execution = workflows.get(name);
      if (!execution) return awsError(res, 'ExecutionDoesNotExist', `Execution Does Not Exist: '${input.executionArn}'`);
      if (execution.status === 'RUNNING') execution.abort();
      return sendJson(res, 200, { stopDate: Date.now() / 1000 }, { 'content-type': 'application/x-amz-json-1.0' });
    }
    return awsError(res, 'UnknownOperationException', `Unknown operation ${target}`);
  }, port);
