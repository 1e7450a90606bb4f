import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { afterEach, describe, expect, it } from 'vitest';
import { createScheduler } from '../../functions/adapters/scheduler';
import { startSchedulerSimulator, type SchedulerSimulator } from '../../local/simulators/scheduler';

let sim: SchedulerSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const adapter = (endpoint: string) =>
  createScheduler({
    client: new SchedulerClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    groupName: 'svc-local',
    roleArn: 'arn:aws:iam::000000000000:role/scheduler',
    targetArn: 'arn:aws:lambda:us-east-1:000000000000:function:scheduleTarget',
    deadLetterArn: 'arn:aws:sqs:us-east-1:000000000000:schedules-dlq',
  });

describe('Scheduler simulator through the real SDK and the scheduler adapter', () => {
  it('fires a one-time schedule with its input when due (time scaled), then removes it', async () => {
    const fired: unknown[] = [];
    sim = await startSchedulerSimulator({ timeScale: 0.001, fire: async (input) => void fired.push(input) });
    await adapter(sim.endpoint).scheduleDeletion('req-s-1', new Date(Date.now() + 60_000));
    expect([...sim.schedules.keys()]).toEqual(['svc-local/delete-req-s-1']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fired).toEqual([{ action: 'delete', requestId: 'req-s-1' }]);
    expect(sim.schedules.size).toBe(0);
  });

  it('treats a second schedule of the same name as already scheduled (409 ConflictException)', async () => {
    const fired: unknown[] = [];
    sim = await startSchedulerSimulator({ timeScale: 1, fire: async (input) => void fired.push(input) });
    const scheduler = adapter(sim.endpoint);
    const at = new Date(Date.now() + 3600_000);
    await scheduler.scheduleProvisioning('req-s-2', at);
    await expect(scheduler.scheduleProvisioning('req-s-2', at)).resolves.toBeUndefined();
    expect(sim.schedules.size).toBe(1);
    expect(sim.schedules.get('svc-local/provision-req-s-2')!.expression).toBe(`at(${at.toISOString().slice(0, 19)})`);
  });
});
