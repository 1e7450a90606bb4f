import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestDeletion } from '../../functions/core/submit';
import { makeHandler, occurrenceRequestId, type ScheduleEvent } from '../../functions/handlers/schedule-target';
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

  it('does nothing when a cancelled request\'s start schedule fires', async () => {
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
});
