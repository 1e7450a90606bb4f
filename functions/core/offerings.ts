/**
 * The shared memory of short offerings, behind a port the core owns (DynamoDB: functions/adapters/offerings-dynamo.ts).
 *
 * When a request meets a shortage of an offering (provider, region or location, instance type), it remembers the
 * offering as short for a while (default 10 minutes). Every request consults the memory before calling a provider: an
 * offering remembered as short is skipped without a call. When the memory of an offering runs out, one request at a
 * time may probe it: it takes the offering's probe lease with a conditional write; the others keep treating it as short
 * until the probe ends (a shortage again: remembered again; a cluster: the offering is forgotten). So N requests waiting
 * on one short offering cost about one provider call per memory period, not N.
 */

/** What a request may do with an offering now. */
export type OfferingState =
  /** Nothing is remembered: call the provider. */
  | 'free'
  /** Remembered short until `until`: skip it. */
  | 'short'
  /** Its memory ran out and another request is probing it: skip it. */
  | 'probing'
  /** Its memory ran out and this request holds the probe lease: call the provider. */
  | 'probe';

export interface OfferingClaim {
  state: OfferingState;
  /** short: until when; probing: until when the other's lease lasts. */
  until?: string;
  reason?: string;
}

export interface OfferingMemory {
  /** The state of each offering for `holder` (a requestId); takes the probe lease of expired ones it can. */
  claim(keys: readonly string[], holder: string, now: Date, leaseSeconds: number): Promise<Map<string, OfferingClaim>>;
  /** Remembers the offerings as short until `until` (and releases any probe lease on them). */
  remember(keys: readonly string[], until: Date, reason: string): Promise<void>;
  /** Forgets the offerings: a cluster got capacity there. */
  forget(keys: readonly string[]): Promise<void>;
}

/** A placement may be tried when every offering it needs is free or probed by this request. */
export const mayTry = (claims: Map<string, OfferingClaim>): boolean =>
  [...claims.values()].every((c) => c.state === 'free' || c.state === 'probe');
