/** The claim rule of the shared memory of short offerings (functions/core/claim.ts), from what a memory has read. */
import { describe, expect, it } from 'vitest';
import { type ClaimRead, decideClaim, lostLease, needsQueue, type OfferingItem, tookLease } from '../../../functions/core/claim';
import type { Waiter } from '../../../functions/core/offerings';

const NOW = new Date('2026-11-29T10:00:00Z');
const LATER = '2026-11-29T10:10:00.000Z';
const EARLIER = '2026-11-29T09:50:00.000Z';
const waiter = (requestId: string, acceptedAt: string): Waiter => ({ requestId, acceptedAt, until: LATER });
const read = (over: Partial<ClaimRead>): ClaimRead => ({ item: undefined, holder: 'me', now: NOW, leaseSeconds: 300, ...over });
const SHORT: OfferingItem = { shortUntil: LATER, reason: 'InsufficientCapacity' };
const RAN_OUT: OfferingItem = { shortUntil: EARLIER, reason: 'InsufficientCapacity' };
/** `first` was accepted before `me`: with a window of 1, `me` waits behind it. */
const QUEUE = { waiters: [waiter('first', '2026-11-29T09:00:00Z'), waiter('me', '2026-11-29T09:30:00Z')], window: 1 };
const ME = '2026-11-29T09:30:00Z';

describe('the offering claim rule', () => {
  it('answers short while the memory lasts, before the queue and the lease, and needs no queue to say so', () => {
    const item = { ...SHORT, leaseHolder: 'me', leaseUntil: LATER };
    expect(needsQueue(item, NOW, ME)).toBe(false);
    expect(decideClaim(read({ item, queue: QUEUE, acceptedAt: ME }))).toEqual({
      claim: { state: 'short', until: LATER, reason: 'InsufficientCapacity' },
    });
  });

  it('queues a waiter behind an earlier live one while the window is full, remembered or not', () => {
    for (const item of [undefined, RAN_OUT]) {
      expect(needsQueue(item, NOW, ME)).toBe(true);
      expect(decideClaim(read({ item, queue: QUEUE, acceptedAt: ME }))).toEqual({ claim: { state: 'queued', head: 'first' } });
    }
    // The window of 2 lets it try; an asker that does not queue needs no queue.
    expect(decideClaim(read({ queue: { ...QUEUE, window: 2 }, acceptedAt: ME }))).toEqual({ claim: { state: 'free' } });
    expect(needsQueue(RAN_OUT, NOW, undefined)).toBe(false);
    // A waiter past its horizon holds no place.
    const gone = { waiters: [{ ...waiter('first', '2026-11-29T09:00:00Z'), until: EARLIER }], window: 1 };
    expect(decideClaim(read({ queue: gone, acceptedAt: ME }))).toEqual({ claim: { state: 'free' } });
  });

  it('answers free when nothing is remembered', () => {
    expect(decideClaim(read({}))).toEqual({ claim: { state: 'free' } });
  });

  it("answers probing while another request's lease lasts", () => {
    const item = { ...RAN_OUT, leaseHolder: 'other', leaseUntil: LATER };
    expect(decideClaim(read({ item }))).toEqual({ claim: { state: 'probing', until: LATER, reason: 'InsufficientCapacity' } });
  });

  it('takes the lease for leaseSeconds when the memory ran out and no one else holds it (or holds it still)', () => {
    const until = '2026-11-29T10:05:00.000Z';
    for (const item of [
      RAN_OUT,
      { ...RAN_OUT, leaseHolder: 'other', leaseUntil: EARLIER },
      { ...RAN_OUT, leaseHolder: 'me', leaseUntil: LATER },
    ])
      expect(decideClaim(read({ item }))).toEqual({ take: { until } });
    expect(tookLease(until)).toEqual({ state: 'probe', until });
  });

  it('answers probing when the lease write loses, with the reason when there is one', () => {
    expect(lostLease(RAN_OUT)).toEqual({ state: 'probing', reason: 'InsufficientCapacity' });
    expect(lostLease({ shortUntil: EARLIER, reason: '' })).toEqual({ state: 'probing' });
  });
});
