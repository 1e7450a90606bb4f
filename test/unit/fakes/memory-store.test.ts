/**
 * The in-memory store keeps the contract of the DynamoDB adapter (test/adapters/dynamo-store.test.ts checks the
 * adapter against dynalite): the unit tier is only as good as this fake.
 */
import { describe, expect, it } from 'vitest';
import { InvalidCursorError, RecordConflictError, RecordNotFoundError, RequestValidationError } from '../../../functions/core/errors';
import type { ClusterRecord, RecordPatch } from '../../../functions/core/store';
import { testClock } from '../../fakes/clock';
import { MemoryStore } from '../../fakes/memory-store';

const record = (requestId: string, acceptedAt = '2026-03-02T09:00:00.000Z', overrides: Partial<ClusterRecord> = {}): ClusterRecord => ({
  requestId,
  provider: 'sagemaker',
  region: 'us-east-1',
  clusterName: `c-${requestId}`,
  status: 'ACCEPTED',
  attempts: 0,
  requestHash: 'h',
  request: { provider: 'sagemaker' },
  acceptedAt,
  updatedAt: acceptedAt,
  history: [],
  ...overrides,
});

const fresh = () => {
  const clock = testClock('2026-03-02T10:00:00.000Z');
  return { clock, store: new MemoryStore({ now: clock.now }) };
};

describe('MemoryStore', () => {
  it('creates once: a second create answers the record already there, untouched', async () => {
    const { store } = fresh();
    const first = await store.create(record('a'));

    const second = await store.create(record('a', '2026-03-02T09:30:00.000Z', { attempts: 9 }));

    expect(first.created).toBe(true);
    expect(first.record.history).toEqual([{ to: 'ACCEPTED', at: '2026-03-02T09:00:00.000Z' }]);
    expect(second).toEqual({ created: false, record: first.record });
  });

  it('transitions along TRANSITIONS, appending {from,to,at,reason} and stamping updatedAt', async () => {
    const { store, clock } = fresh();
    await store.create(record('a'));

    const moved = await store.transition('a', 'CREATING', { providerId: 'p1' }, { reason: 'created' });

    expect(moved).toMatchObject({ status: 'CREATING', providerId: 'p1', updatedAt: clock.iso() });
    expect(moved.history.at(-1)).toEqual({ from: 'ACCEPTED', to: 'CREATING', at: clock.iso(), reason: 'created' });
  });

  it('refuses an illegal or unexpected transition with RecordConflictError and writes nothing', async () => {
    const { store } = fresh();
    await store.create(record('a'));

    await expect(store.transition('a', 'READY')).rejects.toBeInstanceOf(RecordConflictError);
    await expect(store.transition('a', 'CREATING', {}, { expectFrom: ['WAITING_FOR_CAPACITY'] })).rejects.toBeInstanceOf(
      RecordConflictError,
    );

    expect((await store.require('a')).status).toBe('ACCEPTED');
    expect(store.writes.map((w) => w.kind)).toEqual(['create']);
  });

  it('updates only while the status is one of whileIn', async () => {
    const { store } = fresh();
    await store.create(record('a'));

    await expect(store.update('a', { attempts: 1 }, ['CREATING'])).rejects.toBeInstanceOf(RecordConflictError);
    await expect(store.update('a', { attempts: 1 }, [])).rejects.toBeInstanceOf(RecordConflictError);
    expect((await store.update('a', { attempts: 1 }, ['ACCEPTED'])).attempts).toBe(1);
  });

  it('leaves fields patched with undefined as they are, and refuses the fields it owns', async () => {
    const { store } = fresh();
    await store.create(record('a', undefined, { providerId: 'p1' }));

    expect((await store.update('a', { providerId: undefined }, ['ACCEPTED'])).providerId).toBe('p1');
    await expect(store.update('a', { status: 'READY' } as unknown as RecordPatch, ['ACCEPTED'])).rejects.toBeInstanceOf(TypeError);
  });

  it('throws RecordNotFoundError for an absent record on require, transition and update', async () => {
    const { store } = fresh();
    expect(await store.get('x')).toBeUndefined();
    await expect(store.require('x')).rejects.toBeInstanceOf(RecordNotFoundError);
    await expect(store.transition('x', 'CREATING')).rejects.toBeInstanceOf(RecordNotFoundError);
    await expect(store.update('x', {}, ['ACCEPTED'])).rejects.toBeInstanceOf(RecordNotFoundError);
  });

  it('copies on the way in and out: mutating what a test holds changes nothing stored', async () => {
    const { store } = fresh();
    const input = record('a');
    const { record: created } = await store.create(input);
    input.attempts = 5;
    created.history.push({ to: 'READY', at: 'x' });
    const read = await store.require('a');
    read.status = 'READY';

    expect(await store.require('a')).toMatchObject({ attempts: 0, status: 'ACCEPTED', history: [{ to: 'ACCEPTED' }] });
  });

  it('lists newest first, filtered, in pages joined by a cursor bound to its filters', async () => {
    const { store } = fresh();
    for (const [id, minute] of [
      ['a', 1],
      ['b', 3],
      ['c', 2],
      ['d', 4],
    ] as const) {
      await store.create(record(id, `2026-03-02T09:0${minute}:00.000Z`, id === 'c' ? { provider: 'tir' } : {}));
    }

    const page1 = await store.list({ limit: 2 });
    const page2 = await store.list({ limit: 2, cursor: page1.cursor });
    const sagemaker = await store.list({ provider: 'sagemaker' });

    expect(page1.items.map((r) => r.requestId)).toEqual(['d', 'b']);
    expect(page2.items.map((r) => r.requestId)).toEqual(['c', 'a']);
    expect(page2.cursor).toBeUndefined();
    expect(sagemaker.items.map((r) => r.requestId)).toEqual(['d', 'b', 'a']);
    await expect(store.list({ provider: 'tir', cursor: page1.cursor })).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(store.list({ cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(store.list({ limit: 0 })).rejects.toBeInstanceOf(RequestValidationError);
  });
});
