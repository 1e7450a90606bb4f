import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStepFunctionsStarter, createTaskWaker } from '../../functions/adapters/step-functions';
import { startStepFunctionsSimulator } from '../../local/simulators/step-functions';
import type { RunningServer } from '../../local/simulators/common';
import { LocalWorkflows } from '../../local/workflows';

let sim: RunningServer;
const parkedTokens = new Map<string, string>();
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
    // The park records its token where the test can return it (the real one writes it on the record).
    parkExecution: async (input: { requestId: string; taskToken: string }) => {
      parkedTokens.set(input.requestId, input.taskToken);
      return {};
    },
  },
  publish: async () => undefined,
  waitTimeOverrides: { WaitForCluster: 1, WaitForDeletion: 1, ParkUntilChange: 1 },
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

  it('returns a parked task token with SendTaskSuccess (the waker adapter), and answers TaskTimedOut for a spent one', async () => {
    const parkedWorkflows = new LocalWorkflows({
      handlers: {
        createCluster: async () => ({ action: 'CREATED', providerId: 'p', clusterName: 'c', adopted: false }),
        pollCluster: async () => ({ state: 'READY', providerStatus: 'InService', waitSeconds: 3600 }),
        deleteCluster: async () => ({ gone: true }),
        recordOutcome: async () => ({ event: { Source: 's', DetailType: 'Cluster Ready', Detail: {}, EventBusName: 'b' }, cause: '' }),
        parkExecution: async (input: { requestId: string; taskToken: string }) => {
          parkedTokens.set(input.requestId, input.taskToken);
          return {};
        },
      },
      publish: async () => undefined,
    });
    const parkedSim = await startStepFunctionsSimulator(parkedWorkflows);
    try {
      const client = new SFNClient({
        endpoint: parkedSim.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      });
      parkedWorkflows.start('provision', 'req-sfn-park', { requestId: 'req-sfn-park' });
      // StartPolling parks for 30 s: only the token can end the wait this soon.
      await expect.poll(() => parkedTokens.get('req-sfn-park'), { timeout: 5000 }).toBeDefined();
      const token = parkedTokens.get('req-sfn-park')!;
      expect(token).not.toBe('local-task-token');
      const waker = createTaskWaker(client);
      expect(await waker.wake(token)).toBe(true);
      expect((await parkedWorkflows.get('req-sfn-park')!.done).status).toBe('SUCCEEDED');
      expect(await waker.wake(token)).toBe(false); // spent: TaskTimedOut, which is not an error
    } finally {
      await parkedWorkflows.stopAll();
      await parkedSim.close();
    }
  });

  it('starts the delete machine under the delete execution name', async () => {
    const out = await starter().startDeletion('req-sfn-3', 'req-sfn-3-delete-1');
    expect(out.alreadyStarted).toBe(false);
    expect(workflows.get('req-sfn-3-delete-1')).toMatchObject({ machine: 'delete', input: { requestId: 'req-sfn-3' } });
  });
});
