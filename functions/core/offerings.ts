/**
 * The shared memory of short offerings, behind a port the core owns (DynamoDB: functions/adapters/offerings-dynamo.ts).
 *
 * When a request meets a shortage of an offering (provider, region or location, instance type), it remembers the
 * offering as short for a while (default 10 minutes). Every request consults the memory before calling a provider: an
 * offering remembered as short is skipped without a call. When the memory of an offering runs out, one request at a
 * time may probe it: it takes the offering's probe lease with a conditional write; the others keep treating it as short
 * until the probe ends (a shortage again: remembered again; a cluster: the offering is forgotten). So N requests waiting
 * on one short offering cost about one provider call per memory period, not N.
 *
 * The requests waiting on an offering queue in submit order (acceptedAt): only the earliest live waiter may try it
 * (probe it, or create on it once it is free); the others are `queued` and wait without a call. When a cluster comes up
 * on the offering, its request leaves the queue and the next one is woken at once (functions/core/wake.ts), so capacity
 * goes to requests in the order they were submitted. The queue is optional in the port: a memory without it keeps the
 * lease alone.
 *
 * The turn is a window per offering: the first `window` live waiters may try together. It starts at 1 (one probe per
 * interval), doubles each time a request of the offering is found to have got its capacity (`widen`, up to a cap), and
 * falls back to 1 at the first shortage (`narrow`), so a burst of freed capacity is taken in a
 * few rounds, and a shortage costs at most `window - 1` extra failed attempts. Only a request whose create was sent
 * after the window was last narrowed widens it (`widenedFor`): a create sent before that shortage was seen belongs to
 * a round that met it, and its success says nothing new about the capacity left.
 */
import type { ProviderName } from '../contract/providers.js';

/** What a request may do with an offering now. */
export type OfferingState =
  /** Nothing is remembered: call the provider. */
  | 'free'
  /** Remembered short until `until`: skip it. */
  | 'short'
  /** Its memory ran out and another request is probing it: skip it. */
  | 'probing'
  /** Its memory ran out and this request holds the probe lease: call the provider. */
  | 'probe'
  /** An earlier request waits on it: skip it, and wait for the turn of this one. */
  | 'queued';

export interface OfferingClaim {
  state: OfferingState;
  /** short: until when; probing: until when the other's lease lasts. */
  until?: string;
  reason?: string;
  /** queued: the earliest waiter, whose turn it is. */
  head?: string;
}

/** A request waiting on an offering. */
export interface Waiter {
  requestId: string;
  /** Its place in the queue: when the request was accepted. */
  acceptedAt: string;
  /** Until when it may wait (its retry horizon): past it the entry no longer counts. */
  until: string;
}

export interface OfferingMemory {
  /**
   * The state of each offering for `holder` (a requestId); takes the probe lease of expired ones it can. With
   * `acceptedAt`, an offering an earlier live waiter queues on is `queued` for it.
   */
  claim(keys: readonly string[], holder: string, now: Date, leaseSeconds: number, acceptedAt?: string): Promise<Map<string, OfferingClaim>>;
  /** Remembers the offerings as short until `until` (and releases any probe lease on them). */
  remember(keys: readonly string[], until: Date, reason: string): Promise<void>;
  /** Forgets the offerings: a cluster got capacity there. */
  forget(keys: readonly string[]): Promise<void>;
  /** Queues the request on the offerings (again: its place stays its acceptedAt). */
  enqueue?(keys: readonly string[], waiter: Waiter): Promise<void>;
  /** Takes the request out of the offerings' queues. */
  dequeue?(keys: readonly string[], requestId: string): Promise<void>;
  /** The earliest live waiter of the offering. */
  head?(key: string, now: Date): Promise<Waiter | undefined>;
  /** The live waiters whose turn it is: the first `window` in submit order (a memory without windows: the head). */
  turns?(key: string, now: Date): Promise<Waiter[]>;
  /**
   * A request got capacity on the offerings with a create sent at `createdAt` (ISO time; undefined: unknown): their
   * windows double, up to `max`, where `widenedFor` says so (the create was sent after the window was last narrowed).
   */
  widen?(keys: readonly string[], max: number, createdAt: string | undefined): Promise<void>;
  /** A shortage after an accepted create (a roll back), seen at `at`: the offerings' windows go back to 1, narrowed then. */
  narrow?(keys: readonly string[], at: Date): Promise<void>;
}

/** An offering's window as a memory holds it: how many waiters may try together, and when it was last narrowed. */
export interface OfferingWindow {
  /** As stored (absent: 1). */
  window?: number;
  /** When the window was last narrowed (ISO time; absent: never). */
  narrowedAt?: string;
}

/** The window of an offering's queue as stored: at least 1. */
export const windowOf = (stored: number | undefined): number =>
  stored !== undefined && Number.isInteger(stored) && stored > 1 ? stored : 1;

/** The window after a request of the offering got its capacity. */
export const widened = (stored: number | undefined, max: number): number => Math.max(1, Math.min(Math.floor(max), windowOf(stored) * 2));

/**
 * Whether a create sent at `createdAt` was sent after the window was last narrowed at `narrowedAt` (never narrowed:
 * yes; a create time unknown, or not later than the narrowing: no).
 */
export const sentAfterNarrowing = (narrowedAt: string | undefined, createdAt: string | undefined): boolean => {
  if (narrowedAt === undefined) return true;
  const narrowed = Date.parse(narrowedAt);
  const created = createdAt === undefined ? Number.NaN : Date.parse(createdAt);
  return Number.isNaN(narrowed) || (!Number.isNaN(created) && created > narrowed);
};

/**
 * The window after a request of the offering got its capacity with a create sent at `createdAt`: doubled (up to
 * `max`) when the create was sent after the window was last narrowed, else as it is. A create sent before the last
 * narrowing was part of a round that met a shortage: its launch says nothing new about the capacity left, and
 * widening on it would open the next round wider while the same round's roll backs are still arriving.
 */
export const widenedFor = (stored: OfferingWindow, createdAt: string | undefined, max: number): number =>
  sentAfterNarrowing(stored.narrowedAt, createdAt) ? widened(stored.window, max) : windowOf(stored.window);

/** The live waiters in submit order (acceptedAt, then requestId). */
const inOrder = (waiters: readonly Waiter[], now: Date): Waiter[] =>
  waiters
    .filter((w) => Date.parse(w.until) > now.getTime())
    .sort((a, b) => a.acceptedAt.localeCompare(b.acceptedAt) || a.requestId.localeCompare(b.requestId));

/** The earliest live waiter of a queue (acceptedAt, then requestId). */
export const headOf = (waiters: readonly Waiter[], now: Date): Waiter | undefined => inOrder(waiters, now)[0];

/** The live waiters whose turn it is: the first `window`. */
export const turnsOf = (waiters: readonly Waiter[], now: Date, window: number): Waiter[] =>
  inOrder(waiters, now).slice(0, windowOf(window));

/**
 * The earliest live waiter `holder` (accepted at `acceptedAt`) must wait behind, or undefined when it may try: it is
 * in the window, or no more than `window - 1` live waiters were accepted before it.
 */
export const queuedBehind = (
  waiters: readonly Waiter[],
  now: Date,
  window: number,
  holder: string,
  acceptedAt: string,
): Waiter | undefined => {
  const live = inOrder(waiters, now);
  const earlier = live.filter(
    (w) => w.requestId !== holder && (w.acceptedAt < acceptedAt || (w.acceptedAt === acceptedAt && w.requestId < holder)),
  );
  return earlier.length >= windowOf(window) ? earlier[0] : undefined;
};

/** A placement may be tried when every offering it needs is free or probed by this request. */
export const mayTry = (claims: Map<string, OfferingClaim>): boolean =>
  [...claims.values()].every((c) => c.state === 'free' || c.state === 'probe');

/** An offering the shared memory holds as short now, as GET /offerings lists it (and the console shows it). */
export interface ShortOffering {
  offering: string;
  provider: ProviderName;
  /** sagemaker: the region; tir: the location. */
  region?: string;
  location?: string;
  /** The instance type (HyperPod) or `sku-<id>` (TIR). */
  instanceType: string;
  state: 'short' | 'probing';
  /** When the shortage was last seen, when known. */
  since?: string;
  /** short: when the memory runs out; probing: when the probe lease ends. */
  until: string;
  reason?: string;
}
