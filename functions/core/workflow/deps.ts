/**
 * The ports and settings the workflow's tasks take (the store, the providers, the teardown scheduler, the capacity
 * backoff), and the statuses they act on.
 */
import type { WaitReason } from '../capacity';
import type { ZoneLookup } from '../az-hints';
import type { ReservedOfferDeps } from '../offers';
import type { EventPublisher } from '../events';
import type { ClusterProvider } from '../provider';
import type { ProviderName } from '../request';
import type { OfferingMemory } from '../offerings';
import type { ClusterStatus, ClusterStore } from '../store';
import type { TaskWaker } from '../wake';

export interface TeardownScheduler {
  /** Arranges for the delete workflow of `requestId` to start at `at` (idempotent per requestId). */
  scheduleDeletion(requestId: string, at: Date): Promise<void>;
}

export interface WorkflowDeps {
  store: ClusterStore;
  provider(name: ProviderName): ClusterProvider;
  eventBusName: string;
  /** Puts the completion events on the bus (recordOutcome announces what it records). */
  events?: EventPublisher;
  teardown?: TeardownScheduler;
  now?: () => Date;
  /** Source of the backoff's jitter (tests pass a fixed one). */
  random?: () => number;
  /** The shared memory of short offerings; without it every placement is always tried. */
  offerings?: OfferingMemory;
  /** Wakes a parked workflow (the next request in an offering's queue); without it each waits out its backoff. */
  waker?: TaskWaker;
  /**
   * The regions whose HyperPod events reach the deployment's default bus (its own, and those wired with a forwarding
   * rule: docs/deploy.md); a cluster elsewhere is polled every HYPERPOD_WAITS.unwiredRegionSeconds. Without it, every
   * region counts as wired.
   */
  eventRegions?: readonly string[];
  /** Training-plan offerings suggested to a request that waits long for capacity (./offers.ts); without it none. */
  reserved?: ReservedOfferDeps;
  /** Subnet -> Availability Zone (EC2), for the zones a shortage names (./az-hints.ts); without it the order stands. */
  zones?: ZoneLookup;
  /** Something went wrong that does not change the outcome (logged at ERROR by the handlers). */
  onWarning?: (message: string, details: Record<string, unknown>) => void;
}

/**
 * The capacity backoff as the state machine hands it to the tasks (statemachines/definitions.js applies the
 * deployment's settings to it): full jitter from IntervalSeconds, times BackoffRate per failure, capped at
 * MaxDelaySeconds, at most MaxAttempts create attempts; the request's retry horizon ends it sooner.
 */
export interface RetryPolicy {
  IntervalSeconds: number;
  BackoffRate: number;
  MaxDelaySeconds: number;
  MaxAttempts: number;
  /** How long an offering found short is remembered as short for every request (the shared memory). Default 600. */
  ShortOfferingSeconds?: number;
  /** How long one request may hold the probe of an offering whose memory ran out. Default 1800. */
  ProbeLeaseSeconds?: number;
  /**
   * With the waiters queue: the request first in an offering's queue probes it this often (whatever its own backoff),
   * and the memory of a shortage lasts no longer. One probe per offering per interval, however many wait behind.
   */
  QueueProbeSeconds?: number;
  /** With the waiters queue: how many waiters may try an offering together at most after its creates succeed. Default 16. */
  QueueWindowMax?: number;
}

export const DEFAULT_SHORT_OFFERING_SECONDS = 600;
export const DEFAULT_PROBE_LEASE_SECONDS = 1800;

/** The queue's probe interval, when the policy sets one. */
export const queueProbe = (policy: RetryPolicy): number | undefined =>
  policy.QueueProbeSeconds !== undefined && policy.QueueProbeSeconds > 0 ? policy.QueueProbeSeconds : undefined;

export const clock = (deps: Pick<WorkflowDeps, 'now'>): Date => (deps.now ?? (() => new Date()))();
export const iso = (deps: Pick<WorkflowDeps, 'now'>): string => clock(deps).toISOString();

export const CREATE_STATUSES: readonly ClusterStatus[] = ['ACCEPTED', 'CREATING', 'WAITING_FOR_CAPACITY'];
/** A record in these statuses was cancelled (or deleted) under a running provision workflow: it stops. */
export const CANCELLED_STATUSES: readonly ClusterStatus[] = ['DELETING', 'DELETED'];

export type CreateResult =
  | { action: 'CREATED'; providerId: string; clusterName: string; adopted: boolean }
  | { action: 'WAIT'; waitSeconds: number; reason: WaitReason | 'cleanup' }
  | { action: 'CANCELLED' };
