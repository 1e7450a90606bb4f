import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SCHEDULED_TIME, inputOf } from '../../config/schedules.js';
import { createScheduler } from '../../functions/adapters/scheduler';
import { requestDeletion } from '../../functions/core/submit';
import { ScheduleEventSchema, makeHandler, occurrenceRequestId, type ScheduleEvent } from '../../functions/handlers/schedule-target';
import { lambdaContext } from '../fixtures/events';
import { hyperpodRequest, startEntryHarness, tirRequest, type EntryHarness } from '../helpers/workflow';

let h: EntryHarness;
beforeAll(async () => {
  h = await startEntryHarness();
});
afterAll(async () => {
  await h.close();
});

const fire = (event: ScheduleEvent) => makeHandler(() => h.intakeDeps)(event, lambdaContext('scheduleTarget'));

describe('scheduleTarget', () => {
  it('derives one requestId per occurrence, so a double firing is one cluster', async () => {
    const { requestId: _none, ...template } = tirRequest();
    const occurrence = { schedule: 'nightly-training', scheduledTime: '2026-11-24T02:00:00Z', request: template };
    await fire(occurrence);
    await fire(occurrence);
    const requestId = occurrenceRequestId('nightly-training', '2026-11-24T02:00:00Z');
    expect(requestId).toBe('nightly-training-20261124T020000Z');
    expect(h.workflows.list().filter((e) => e.name === requestId)).toHaveLength(1);
    await h.workflows.get(requestId)!.done;
    expect((await h.store.require(requestId)).status).toBe('READY');
    // The next occurrence is another cluster request.
    expect(occurrenceRequestId('nightly-training', '2026-11-25T02:00:00Z')).not.toBe(requestId);
  });

  it('keeps derived ids within 64 characters for long schedule names', () => {
    const id = occurrenceRequestId('x'.repeat(80), '2026-11-24T02:00:00Z');
    expect(id.length).toBeLessThanOrEqual(64);
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(id.endsWith('20261124T020000Z')).toBe(true);
  });

  it('releases a SCHEDULED request when its startAt comes, once', async () => {
    const request = { ...hyperpodRequest(), startAt: new Date(Date.now() + 3600_000).toISOString() };
    const submitted = await h.submit(request);
    expect(submitted.record.status).toBe('SCHEDULED');
    await fire({ action: 'provision', requestId: request.requestId });
    await fire({ action: 'provision', requestId: request.requestId });
    expect(h.workflows.list().filter((e) => e.name === request.requestId)).toHaveLength(1);
    await h.workflows.get(request.requestId)!.done;
    const record = await h.store.require(request.requestId);
    expect(record.history.map((x) => x.to)).toEqual(['SCHEDULED', 'ACCEPTED', 'CREATING', 'READY']);
  });

  it('schedules the teardown when a cluster with deleteAfter becomes READY, and deletes it when that fires', async () => {
    const request = { ...tirRequest(), deleteAfter: 'PT8H' };
    await h.submit(request);
    await h.workflows.get(request.requestId)!.done;
    const ready = await h.store.require(request.requestId);
    const teardown = h.schedules.find((s) => s.requestId === request.requestId && s.action === 'delete');
    expect(teardown).toBeDefined();
    expect(teardown!.at.getTime() - Date.parse(ready.readyAt!)).toBe(8 * 3600_000);

    await fire({ action: 'delete', requestId: request.requestId });
    await h.workflows.settle();
    expect((await h.store.require(request.requestId)).status).toBe('DELETED');
    // A late second firing finds nothing to delete and does not fail the schedule.
    await expect(fire({ action: 'delete', requestId: request.requestId })).resolves.toBeUndefined();
  });

  it('still announces READY when the teardown cannot be scheduled, and records why on the cluster', async () => {
    const scheduleDeletion = h.taskDeps.teardown!.scheduleDeletion;
    h.taskDeps.teardown!.scheduleDeletion = async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    };
    try {
      const request = { ...hyperpodRequest(), deleteAfter: 'PT2H' };
      await h.submit(request);
      const execution = await h.workflows.get(request.requestId)!.done;
      const record = await h.store.require(request.requestId);
      expect(execution.status).toBe('SUCCEEDED');
      expect(record.status).toBe('READY');
      expect(record.lastError).toMatchObject({ name: 'ThrottlingException', operation: 'teardown' });
      expect(h.events.filter((e) => e.Detail.requestId === request.requestId).map((e) => e.DetailType)).toEqual(['Cluster Ready']);
    } finally {
      h.taskDeps.teardown!.scheduleDeletion = scheduleDeletion;
    }
  });

  it("does nothing when a cancelled request's start schedule fires", async () => {
    const request = { ...tirRequest(), startAt: new Date(Date.now() + 3600_000).toISOString() };
    await h.submit(request);
    await requestDeletion(h.submitDeps, request.requestId);
    await fire({ action: 'provision', requestId: request.requestId });
    expect((await h.store.require(request.requestId)).status).toBe('DELETED');
    expect(h.workflows.get(request.requestId)).toBeUndefined();
  });

  it('answers an invalid recurring template with a rejection event', async () => {
    const before = h.rejections().length;
    await fire({ schedule: 'broken', scheduledTime: '2026-11-24T02:00:00Z', request: { provider: 'tir' } });
    const [rejection] = h.rejections().slice(before);
    expect(rejection!.Detail).toMatchObject({ source: 'schedule', reason: 'invalid-request', requestId: 'broken-20261124T020000Z' });
  });

  describe('its input is a discriminated union: anything else fails the invocation and changes nothing', () => {
    /** Fires `event` and returns what it threw and the log lines it wrote. */
    const fireLogged = async (event: unknown) => {
      const lines: string[] = [];
      const write = (chunk: unknown) => {
        lines.push(String(chunk));
        return true;
      };
      const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(write);
      const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(write);
      try {
        const error = await fire(event as ScheduleEvent).then(
          () => undefined,
          (err: unknown) => err as Error,
        );
        return { error, logged: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
      } finally {
        stdout.mockRestore();
        stderr.mockRestore();
      }
    };

    it.each(['teardown', 'destroy', 'DELETE', ''])('an unknown action "%s" deletes nothing: logged, and a ParseError', async (action) => {
      const request = tirRequest();
      await h.submit(request);
      await h.workflows.get(request.requestId)!.done;
      const executions = h.workflows.list().length;

      const { error, logged } = await fireLogged({ action, requestId: request.requestId });

      expect(error).toMatchObject({ name: 'ParseError' });
      const record = await h.store.require(request.requestId);
      expect(record.status).toBe('READY');
      expect(record.history.map((x) => x.to)).not.toContain('DELETING');
      expect(h.workflows.list()).toHaveLength(executions);
      expect(logged).toContainEqual(
        expect.objectContaining({
          level: 'ERROR',
          handler: 'scheduleTarget',
          message: 'Event rejected: it does not have the expected shape',
          error: { name: 'ParseError', issues: [expect.objectContaining({ path: 'action' })] },
        }),
      );
    });

    it.each([
      ['no action and no schedule', { requestId: 'abc' }],
      ['a delete without a requestId', { action: 'delete' }],
      ['a delete with a malformed requestId', { action: 'delete', requestId: 'not a requestId!' }],
      ['a recurring firing without its time', { schedule: 'nightly', request: {} }],
      ['an action on a recurring firing', { action: 'purge', schedule: 'nightly', scheduledTime: '2026-11-24T02:00:00Z', request: {} }],
      ['not an object', 'delete'],
    ])('%s is a ParseError, and nothing is recorded', async (_, event) => {
      const records = h.workflows.list().length;
      const before = h.rejections().length;
      const { error } = await fireLogged(event);
      expect(error).toMatchObject({ name: 'ParseError' });
      expect(h.workflows.list()).toHaveLength(records);
      expect(h.rejections()).toHaveLength(before);
    });

    it('accepts exactly what the scheduler adapter and config/schedules.js write', async () => {
      const inputs: string[] = [];
      const client = { send: async (command: { input: { Target: { Input: string } } }) => void inputs.push(command.input.Target.Input) };
      const scheduler = createScheduler({
        client: client as unknown as SchedulerClient,
        groupName: 'g',
        roleArn: 'arn:role',
        targetArn: 'arn:fn',
        deadLetterArn: 'arn:dlq',
      });
      await scheduler.scheduleProvisioning('req-1', new Date('2026-11-24T02:00:00Z'));
      await scheduler.scheduleDeletion('req-1', new Date('2026-11-24T10:00:00Z'));
      const { requestId: _none, ...template } = tirRequest();
      const recurring = inputOf({ name: 'nightly', expression: 'rate(1 day)', timezone: 'UTC', enabled: true, request: template });
      inputs.push(recurring.replace(SCHEDULED_TIME, '2026-11-24T02:00:00Z'));

      expect(inputs.map((input) => ScheduleEventSchema.parse(JSON.parse(input)))).toEqual([
        { action: 'provision', requestId: 'req-1' },
        { action: 'delete', requestId: 'req-1' },
        { schedule: 'nightly', scheduledTime: '2026-11-24T02:00:00Z', request: template },
      ]);
    });
  });
});
