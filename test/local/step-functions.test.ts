import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStepFunctionsStarter } from '../../functions/adapters/step-functions';
import { startStepFunctionsSimulator } from '../../local/simulators/step-functions';
import type { RunningServer } from '../../local/simulators/common';
import { LocalWorkflows } from '../../local/workflows';

let sim: RunningServer;
const started: Array<{ name: string; input: unknown }> = [];
const workflows = new LocalWorkflows({
  // Every task answers at once: these tests are about the protocol, not the workflow.
  handlers: {
    createCluster: async () => ({ action: 'CREATED', providerId: 'p', clusterName: 'c', adopted: false }),
    // One request never becomes ready, so that it can be stopped.
    pollCluster: async (input: { requestId: string }) =>
      input.requestId === 'req-sfn-stop'
        ? { state: 'CREATING', providerStatus: 'Creating', waitSeconds: 1 }
        : { state: 'READY', providerStatus: 'InService', waitSeconds: 1 },
    deleteCluster: async () => ({ gone: true }),
    recordOutcome: async () => ({ event: { Source: 's', DetailType: 'Cluster Ready', Detail: {}, EventBusName: 'b' }, cause: '' }),
  },
  publish: async () => undefined,
  waitTimeOverrides: { WaitForCluster: 1, WaitForDeletion: 1 },
});

beforeAll(async () => {
  sim = await startStepFunctionsSimulator(workflows);
});
afterAll(async () => {
  await workflows.stopAll();
  await sim.close();
});

const starter = () =>
  createStepFunctionsStarter({
    client: new SFNClient({ endpoint: sim.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    provisionStateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:svc-local-provision-cluster',
    deleteStateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:svc-local-delete-cluster',
  });

describe('Step Functions simulator through the real SDK and the starter adapter', () => {
  it('starts an execution named by the requestId with {requestId} as input, and runs it', async () => {
    const out = await starter().startProvisioning('req-sfn-1');
    expect(out).toEqual({ executionArn: expect.stringMatching(/:execution:provision-cluster:req-sfn-1$/), alreadyStarted: false });
    const execution = workflows.get('req-sfn-1')!;
    expect(execution.input).toEqual({ requestId: 'req-sfn-1' });
    expect((await execution.done).status).toBe('SUCCEEDED');
    started.push({ name: 'req-sfn-1', input: execution.input });
  });

  it('answers a second start of the same name with ExecutionAlreadyExists, which the adapter reports as already started', async () => {
    await starter().startProvisioning('req-sfn-2');
    const again = await starter().startProvisioning('req-sfn-2');
    expect(again.alreadyStarted).toBe(true);
    expect(workflows.list().filter((e) => e.name === 'req-sfn-2')).toHaveLength(1);
  });

  it('stops a running provision execution (a cancel), and takes a stop of an unknown one calmly', async () => {
    const { executionArn } = await starter().startProvisioning('req-sfn-stop');
    const execution = workflows.get('req-sfn-stop')!;
    expect(await starter().isRunning(executionArn)).toBe(true);
    await starter().stopProvisioning!(executionArn, 'cancelled by a DELETE');
    expect((await execution.done).status).toBe('ABORTED');
    expect(await starter().isRunning(executionArn)).toBe(false);
    await expect(
      starter().stopProvisioning!(executionArn.replace('req-sfn-stop', 'req-sfn-never-started'), 'cancelled'),
    ).resolves.toBeUndefined();
    expect(await starter().isRunning(executionArn.replace('req-sfn-stop', 'req-sfn-never-started'))).toBe(false);
  });

  it('starts the delete machine under the delete execution name', async () => {
    const out = await starter().startDeletion('req-sfn-3', 'req-sfn-3-delete-1');
    expect(out.alreadyStarted).toBe(false);
    expect(workflows.get('req-sfn-3-delete-1')).toMatchObject({ machine: 'delete', input: { requestId: 'req-sfn-3' } });
  });
});
