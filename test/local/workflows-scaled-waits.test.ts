/**
 * The local workflows in scaled time: a Wait state whose length its input gives (the capacity backoff a create
 * attempt chose) waits that length × timeScale, round by round, when `scaleWaitsFromInput` is set.
 */
import { describe, expect, it } from 'vitest';
import { LocalWorkflows } from '../../local/workflows';

const SCALE = 0.01;

const run = async (scaleWaitsFromInput: boolean) => {
  const waits = [60, 1];
  const creates: number[] = [];
  const workflows = new LocalWorkflows({
    handlers: {
      // Two backoffs (60 s, then 1 s), then a cluster.
      createCluster: async () => {
        creates.push(Date.now());
        const waitSeconds = waits.shift();
        return waitSeconds === undefined
          ? { action: 'CREATED', providerId: 'p', clusterName: 'c', adopted: false }
          : { action: 'WAIT', waitSeconds, reason: 'capacity' };
      },
      pollCluster: async () => ({ state: 'READY', providerStatus: 'InService', waitSeconds: 1 }),
      deleteCluster: async () => ({ gone: true }),
      recordOutcome: async () => ({ event: { Source: 's', DetailType: 'Cluster Ready', Detail: {}, EventBusName: 'b' }, cause: '' }),
      // The park fails: the plain Wait states (WaitToRetry, WaitForCluster) wait instead.
      parkExecution: async () => {
        throw new Error('no park');
      },
    },
    publish: async () => undefined,
    timeScale: SCALE,
    scaleWaitsFromInput,
  });
  workflows.start('provision', `scaled-${scaleWaitsFromInput}`, { requestId: 'r' });
  const execution = await workflows.get(`scaled-${scaleWaitsFromInput}`)!.done;
  expect(execution.status).toBe('SUCCEEDED');
  expect(creates).toHaveLength(3);
  return { first: creates[1]! - creates[0]!, second: creates[2]! - creates[1]! };
};

describe('local workflows in scaled time', () => {
  it('waits each backoff its input gives × timeScale with scaleWaitsFromInput, the first poll interval × timeScale without', async () => {
    const exact = await run(true);
    // 60 s and 1 s at 1/100.
    expect(exact.first).toBeGreaterThanOrEqual(600 - 1);
    expect(exact.second).toBeLessThan(exact.first / 2);
    // Without: every round waits the same 30 s × timeScale (the first poll interval), whatever the backoff.
    const fixed = await run(false);
    expect(fixed.first).toBeGreaterThanOrEqual(300 - 1);
    expect(fixed.second).toBeGreaterThanOrEqual(300 - 1);
  });
});
