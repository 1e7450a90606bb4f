/** The shared memory of short offerings on DynamoDB (dynalite through the real SDK): memory, expiry, the probe lease. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDynamoOfferings, ensureOfferingsTable } from '../../functions/adapters/offerings-dynamo';
import { mayTry, type OfferingMemory } from '../../functions/core/offerings';
import { DynamoMeter, MeteredOfferings } from '../../bench/contention/dynamo-meter';
import { dynamoClient } from '../helpers/dynamo';

const fresh = async () => {
  const client = dynamoClient();
  const tableName = `offerings-${randomUUID()}`;
  await ensureOfferingsTable(client, tableName);
  return createDynamoOfferings({ client, tableName });
};

const P5 = 'sagemaker#us-east-1#ml.p5.48xlarge';
const at = (iso: string) => new Date(iso);

describe('the shared memory of short offerings', () => {
  it('answers free for an offering nothing is remembered of', async () => {
    const memory = await fresh();
    const claims = await memory.claim([P5], 'a', at('2026-11-29T10:00:00Z'), 600);
    expect(claims.get(P5)).toEqual({ state: 'free' });
    expect(mayTry(claims)).toBe(true);
  });

  it('remembers a shortage until its time, for every request', async () => {
    const memory = await fresh();
    await memory.remember([P5], at('2026-11-29T10:10:00Z'), 'We currently do not have sufficient ml.p5.48xlarge capacity');
    const claims = await memory.claim([P5], 'b', at('2026-11-29T10:05:00Z'), 600);
    expect(claims.get(P5)).toMatchObject({ state: 'short', until: '2026-11-29T10:10:00.000Z', reason: expect.stringContaining('p5') });
    expect(mayTry(claims)).toBe(false);
  });

  it('lets exactly one request probe an offering whose memory ran out, until its lease ends or it reports', async () => {
    const memory = await fresh();
    await memory.remember([P5], at('2026-11-29T10:10:00Z'), 'short');
    const later = at('2026-11-29T10:11:00Z');
    const claims = await Promise.all(['a', 'b', 'c', 'd'].map((holder) => memory.claim([P5], holder, later, 300)));
    const states = claims.map((c) => c.get(P5)!.state).sort();
    expect(states).toEqual(['probe', 'probing', 'probing', 'probing']);
    const winner = ['a', 'b', 'c', 'd'][claims.findIndex((c) => c.get(P5)!.state === 'probe')]!;
    // The holder asking again keeps its lease; after the lease ends another may take it.
    expect((await memory.claim([P5], winner, later, 300)).get(P5)!.state).toBe('probe');
    const other = winner === 'a' ? 'b' : 'a';
    expect((await memory.claim([P5], other, at('2026-11-29T10:16:01Z'), 300)).get(P5)!.state).toBe('probe');
  });

  it('forgets an offering that got capacity, and remembers it again (lease released) after another shortage', async () => {
    const memory = await fresh();
    await memory.remember([P5], at('2026-11-29T10:10:00Z'), 'short');
    expect((await memory.claim([P5], 'a', at('2026-11-29T10:11:00Z'), 300)).get(P5)!.state).toBe('probe');
    await memory.remember([P5], at('2026-11-29T10:21:00Z'), 'short again');
    expect((await memory.claim([P5], 'b', at('2026-11-29T10:12:00Z'), 300)).get(P5)!.state).toBe('short');
    expect((await memory.claim([P5], 'b', at('2026-11-29T10:22:00Z'), 300)).get(P5)!.state).toBe('probe');
    await memory.forget([P5]);
    expect((await memory.claim([P5], 'c', at('2026-11-29T10:22:00Z'), 300)).get(P5)).toEqual({ state: 'free' });
  });

  it('lets the window of waiters try together: doubled after a success, back to 1 at a shortage', async () => {
    const memory = await fresh();
    const now = at('2026-11-29T10:00:00Z');
    const until = '2026-11-29T16:00:00.000Z';
    const accepted = (i: number) => `2026-11-29T09:0${i}:00.000Z`;
    for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) await memory.enqueue!([P5], { requestId: id, acceptedAt: accepted(i), until });
    const state = async (id: string, i: number) => (await memory.claim([P5], id, now, 300, accepted(i))).get(P5)!.state;
    expect(await state('a', 0)).toBe('free');
    expect(await state('b', 1)).toBe('queued');
    expect((await memory.turns!(P5, now)).map((w) => w.requestId)).toEqual(['a']);
    await memory.widen!([P5], 16, '2026-11-29T09:50:00.000Z');
    expect(await state('b', 1)).toBe('free');
    expect(await state('c', 2)).toBe('queued');
    await memory.widen!([P5], 3, '2026-11-29T09:51:00.000Z'); // the cap
    expect((await memory.turns!(P5, now)).map((w) => w.requestId)).toEqual(['a', 'b', 'c']);
    await memory.narrow!([P5], at('2026-11-29T09:55:00Z'));
    expect(await state('b', 1)).toBe('queued');
    expect((await memory.turns!(P5, now)).map((w) => w.requestId)).toEqual(['a']);
  });

  it('widens only for a create sent after the window was last narrowed', async () => {
    for (const memory of [await fresh(), new MeteredOfferings(new DynamoMeter())]) {
      const now = at('2026-11-29T10:00:00Z');
      const until = '2026-11-29T16:00:00.000Z';
      for (const [i, id] of ['a', 'b', 'c', 'd'].entries())
        await memory.enqueue!([P5], { requestId: id, acceptedAt: `2026-11-29T09:0${i}:00.000Z`, until });
      const width = async () => (await memory.turns!(P5, now)).length;
      await memory.widen!([P5], 16, '2026-11-29T09:40:00.000Z');
      expect(await width()).toBe(2);
      await memory.narrow!([P5], at('2026-11-29T09:45:00Z'));
      expect(await width()).toBe(1);
      // Launches of the round that met the shortage (sent before it was seen, or at that instant): no wider.
      await memory.widen!([P5], 16, '2026-11-29T09:41:00.000Z');
      await memory.widen!([P5], 16, '2026-11-29T09:45:00.000Z');
      await memory.widen!([P5], 16, undefined);
      expect(await width()).toBe(1);
      // The next probe, sent after the narrowing, got its capacity: the window doubles again.
      await memory.widen!([P5], 16, '2026-11-29T09:46:00.000Z');
      expect(await width()).toBe(2);
    }
  });

  it("claims as the benchmark's metered memory does, step for step (one rule, functions/core/claim.ts)", async () => {
    const waiter = (requestId: string, minute: number) => ({
      requestId,
      acceptedAt: `2026-11-29T09:${String(minute).padStart(2, '0')}:00.000Z`,
      until: '2026-11-30T00:00:00.000Z',
    });
    const run = async (memory: OfferingMemory) => {
      const seen: unknown[] = [];
      const claim = async (holder: string, iso: string, acceptedAt?: string) =>
        seen.push((await memory.claim([P5], holder, at(iso), 300, acceptedAt)).get(P5));
      await claim('a', '2026-11-29T10:00:00Z');
      await memory.remember([P5], at('2026-11-29T10:10:00Z'), 'short');
      await memory.enqueue?.([P5], waiter('a', 1));
      await memory.enqueue?.([P5], waiter('b', 2));
      await claim('b', '2026-11-29T10:05:00Z', waiter('b', 2).acceptedAt);
      await claim('b', '2026-11-29T10:11:00Z', waiter('b', 2).acceptedAt);
      await claim('a', '2026-11-29T10:11:00Z', waiter('a', 1).acceptedAt);
      await claim('c', '2026-11-29T10:12:00Z');
      await claim('a', '2026-11-29T10:12:00Z', waiter('a', 1).acceptedAt);
      await claim('c', '2026-11-29T10:17:00Z');
      await memory.widen?.([P5], 4, '2026-11-29T10:14:00.000Z');
      await claim('b', '2026-11-29T10:18:00Z', waiter('b', 2).acceptedAt);
      await memory.forget([P5]);
      await claim('b', '2026-11-29T10:19:00Z', waiter('b', 2).acceptedAt);
      return seen;
    };
    const dynamo = await run(await fresh());
    expect(dynamo.map((c) => (c as { state: string }).state)).toEqual([
      'free',
      'short',
      'queued',
      'probe',
      'probing',
      'probe',
      'probe',
      'probing',
      'free',
    ]);
    expect(await run(new MeteredOfferings(new DynamoMeter()))).toEqual(dynamo);
  });
});
