/**
 * The claim rule of the shared memory of short offerings (./offerings.ts), decided from what a memory has read: the
 * offering's item, its queue, the time and who asks. A memory only reads and writes (DynamoDB:
 * functions/adapters/offerings-dynamo.ts; the contention benchmark's metered one: bench/contention/dynamo-meter.ts), so
 * every memory claims alike:
 *
 *   1. remembered short until later than now: `short`, whatever the asker's place in the queue;
 *   2. the asker waits on the offering (`acceptedAt`) behind more live waiters than the window lets try: `queued`;
 *   3. nothing remembered: `free`;
 *   4. another request holds an unexpired probe lease: `probing`;
 *   5. otherwise the asker takes the probe lease (a conditional write, which the memory makes): `probe`; when the write
 *      loses to another request's, `probing` (`lostLease`).
 */
import { type OfferingClaim, queuedBehind, type Waiter } from './offerings';

/** The offering's item as a memory holds it (the attributes of the offerings table). */
export interface OfferingItem {
  /** Remembered short until then (ISO time). */
  shortUntil?: string;
  reason?: string;
  /** Who holds the probe lease, and until when (ISO time). */
  leaseHolder?: string;
  leaseUntil?: string;
}

/** The offering's queue: its waiters and its window (how many of the first may try together). */
export interface OfferingQueue {
  waiters: readonly Waiter[];
  window: number;
}

export interface ClaimRead {
  /** The offering's item; undefined when nothing is remembered. */
  item: OfferingItem | undefined;
  /** The offering's queue, read only when `needsQueue` says so (undefined: no waiters). */
  queue?: OfferingQueue;
  /** The asking request. */
  holder: string;
  now: Date;
  leaseSeconds: number;
  /** When the asker was accepted: its place in the offering's queue (undefined: it does not queue). */
  acceptedAt?: string;
}

/** The claim, decided; or the probe lease to take with a conditional write (`take.until`: the lease's end). */
export type ClaimDecision = { claim: OfferingClaim } | { take: { until: string } };

const reasonOf = (item: OfferingItem | undefined): { reason?: string } => (item?.reason ? { reason: item.reason } : {});

/** Remembered short at `now`. */
export const isShort = (item: OfferingItem | undefined, now: Date): boolean =>
  item !== undefined && Date.parse(item.shortUntil ?? '') > now.getTime();

/** Whether the decision needs the offering's queue: the asker queues, and the offering is not short (1 decides first). */
export const needsQueue = (item: OfferingItem | undefined, now: Date, acceptedAt: string | undefined): boolean =>
  acceptedAt !== undefined && !isShort(item, now);

export const decideClaim = ({ item, queue, holder, now, leaseSeconds, acceptedAt }: ClaimRead): ClaimDecision => {
  if (item && isShort(item, now)) return { claim: { state: 'short', until: item.shortUntil, ...reasonOf(item) } };
  if (acceptedAt !== undefined && queue) {
    const head = queuedBehind(queue.waiters, now, queue.window, holder, acceptedAt);
    if (head) return { claim: { state: 'queued', head: head.requestId } };
  }
  if (!item) return { claim: { state: 'free' } };
  const { leaseHolder, leaseUntil } = item;
  if (leaseHolder && leaseHolder !== holder && leaseUntil && Date.parse(leaseUntil) > now.getTime()) {
    return { claim: { state: 'probing', until: leaseUntil, ...reasonOf(item) } };
  }
  return { take: { until: new Date(now.getTime() + leaseSeconds * 1000).toISOString() } };
};

/** The lease was taken: the asker probes. */
export const tookLease = (until: string): OfferingClaim => ({ state: 'probe', until });

/** Another request took the lease (or remembered the offering again) between the read and the write. */
export const lostLease = (item: OfferingItem | undefined): OfferingClaim => ({ state: 'probing', ...reasonOf(item) });
