/**
 * The one-time schedules (functions/adapters/scheduler.ts): names that cannot collide, and the dead-letter queue on
 * every schedule. The SDK client is a recording fake (the Scheduler simulator runs them in test/local/scheduler.test.ts).
 */
import { ConflictException, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import { REQUEST_ID } from '../../functions/contract/request-id.js';
import { SCHEDULE_NAME_MAX, createScheduler, scheduleName } from '../../functions/adapters/scheduler';

/** Scheduler's rule for a schedule name. */
const SCHEDULE_NAME = /^[0-9a-zA-Z\-_.]{1,64}$/;

type Sent = { input: { Name: string; Target: { DeadLetterConfig?: { Arn: string }; Input: string } } };

const recording = (answer?: (command: Sent) => unknown) => {
  const sent: Sent[] = [];
  const client = {
    send: async (command: Sent) => {
      sent.push(command);
      return answer?.(command);
    },
  } as unknown as SchedulerClient;
  return { sent, client };
};

describe('scheduleName', () => {
  it('keeps <action>-<requestId> when it fits in 64 characters', () => {
    expect(scheduleName('provision', 'req-1')).toBe('provision-req-1');
    const fits = 'x'.repeat(SCHEDULE_NAME_MAX - 'delete-'.length);
    expect(scheduleName('delete', fits)).toBe(`delete-${fits}`);
  });

  it('gives two long requestIds that differ only past character 64 different names', () => {
    // Prepare: 64-character requestIds, the same but for their last character.
    const base = `team-a-nightly-pretraining-run-2026-11-24-p5-48xlarge-x4-${'0'.repeat(6)}`;
    const a = `${base}a`;
    const b = `${base}b`;
    expect(a).toHaveLength(64);
    expect(a).toMatch(REQUEST_ID);
    // What the names were before: cut to 64, the same.
    expect(`provision-${a}`.slice(0, 64)).toBe(`provision-${b}`.slice(0, 64));

    // Act
    const names = [scheduleName('provision', a), scheduleName('provision', b), scheduleName('delete', a), scheduleName('delete', b)];

    // Assess
    expect(new Set(names).size).toBe(4);
    for (const name of names) {
      expect(name).toMatch(SCHEDULE_NAME);
      expect(name).toHaveLength(64);
    }
    expect(names[0]).toMatch(/^provision-team-a-nightly-pretraining-run-2026-1\.[0-9a-f]{16}$/);
  });

  it('is stable, and a shortened name never equals one that fits (a requestId has no dot)', () => {
    const long = 'r'.repeat(64);
    expect(scheduleName('delete', long)).toBe(scheduleName('delete', long));
    expect(scheduleName('delete', long)).toContain('.');
    expect(scheduleName('delete', 'r'.repeat(57))).not.toContain('.');
  });
});

describe('createScheduler', () => {
  const options = (client: SchedulerClient) => ({
    client,
    groupName: 'svc-dev',
    roleArn: 'arn:aws:iam::123456789012:role/scheduler',
    targetArn: 'arn:aws:lambda:us-east-1:123456789012:function:svc-dev-scheduleTarget',
    deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:svc-dev-SchedulesDeadLetterQueue',
  });

  it('sends what Scheduler cannot deliver to the dead-letter queue, for both kinds of schedule', async () => {
    const { sent, client } = recording();
    const scheduler = createScheduler(options(client));

    await scheduler.scheduleProvisioning('req-1', new Date('2026-11-24T02:00:00Z'));
    await scheduler.scheduleDeletion('req-1', new Date('2026-11-24T10:00:00Z'));

    expect(sent.map((c) => [c.input.Name, c.input.Target.DeadLetterConfig])).toEqual([
      ['provision-req-1', { Arn: options(client).deadLetterArn }],
      ['delete-req-1', { Arn: options(client).deadLetterArn }],
    ]);
  });

  it('names a long requestId collision-free and treats the same name again as already scheduled', async () => {
    const { sent, client } = recording((command) => {
      if (sent.filter((c) => c.input.Name === command.input.Name).length > 1) {
        throw new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} });
      }
    });
    const scheduler = createScheduler(options(client));
    const id = 'q'.repeat(64);

    await scheduler.scheduleProvisioning(id, new Date('2026-11-24T02:00:00Z'));
    await expect(scheduler.scheduleProvisioning(id, new Date('2026-11-24T02:00:00Z'))).resolves.toBeUndefined();

    expect(sent.map((c) => c.input.Name)).toEqual([scheduleName('provision', id), scheduleName('provision', id)]);
    expect(JSON.parse(sent[0]!.input.Target.Input)).toEqual({ action: 'provision', requestId: id });
  });
});
