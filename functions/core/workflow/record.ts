/** What the workflow's tasks read off a cluster record: its placements, where it is now, its attempt log. */
import { horizonEnd } from '../capacity';
import type { ClusterDescription, ClusterLocation, ClusterRef } from '../provider';
import type { ProviderName, ProvisionRequest } from '../request';
import { clusterNameOfPlacement, instanceTypesOf, offeringKey, whereOf, type Placement } from '../placements';
import type { AttemptLogEntry, ClusterRecord, DiscardedCluster } from '../store';
import { iso, type WorkflowDeps } from './deps';

/**
 * Every placement of the record (the request's own, then its alternatives); a record without alternatives has one,
 * made from its own fields.
 */
export const placementsOfRecord = (record: ClusterRecord): Placement[] => {
  if (record.placements && record.placements.length > 0) return record.placements;
  const cluster = requestOf(record).cluster;
  return [
    record.provider === 'sagemaker'
      ? { provider: 'sagemaker', region: record.region ?? '', cluster: cluster as Placement['cluster'] & { ClusterName: string } }
      : {
          provider: 'tir',
          projectId: record.projectId ?? 0,
          location: record.location ?? '',
          ...(record.activeIam !== undefined ? { activeIam: record.activeIam } : {}),
          cluster: cluster as Extract<Placement, { provider: 'tir' }>['cluster'],
        },
  ] as Placement[];
};

/** The placement the record is at now (where its cluster is, or is being created). */
export const placementAt = (record: ClusterRecord, index = record.placement ?? 0): Placement => {
  const all = placementsOfRecord(record);
  return all[Math.min(index, all.length - 1)]!;
};

export const locationOfPlacement = (p: Placement): ClusterLocation =>
  p.provider === 'sagemaker'
    ? { provider: 'sagemaker', region: p.region }
    : { provider: 'tir', projectId: p.projectId, location: p.location, ...(p.activeIam !== undefined ? { activeIam: p.activeIam } : {}) };

export const locationOf = (record: ClusterRecord): ClusterLocation => locationOfPlacement(placementAt(record));

/** The provider the record's cluster is at now. */
export const providerOf = (record: ClusterRecord): ProviderName => placementAt(record).provider;

export const refOf = (record: ClusterRecord, providerId = record.providerId, index = record.placement ?? 0): ClusterRef => ({
  location: locationOfPlacement(placementAt(record, index)),
  clusterName: clusterNameOfPlacement(placementAt(record, index)),
  ...(providerId ? { providerId } : {}),
});

/** Offering keys of a placement: every instance type it asks for. */
export const offeringsOf = (p: Placement): string[] => instanceTypesOf(p).map((t) => offeringKey(p, t));

export const ATTEMPT_LOG_LIMIT = 50;

/** The attempt log with `entries` added (the newest ATTEMPT_LOG_LIMIT kept). */
export const logged = (record: ClusterRecord, ...entries: AttemptLogEntry[]): AttemptLogEntry[] =>
  [...(record.attemptLog ?? []), ...entries].slice(-ATTEMPT_LOG_LIMIT);

export const logEntry = (
  deps: WorkflowDeps,
  record: ClusterRecord,
  index: number,
  outcome: AttemptLogEntry['outcome'],
  reason: string,
): AttemptLogEntry => ({
  at: iso(deps),
  placement: index,
  where: whereOf(placementAt(record, index)),
  outcome,
  reason,
});

export const requestOf = (record: ClusterRecord): ProvisionRequest & { retry?: { for?: string; until?: string } } =>
  record.request as unknown as ProvisionRequest & { retry?: { for?: string; until?: string } };

export const isDiscarded = (record: ClusterRecord, providerId: string | undefined): boolean =>
  providerId !== undefined && (record.discardedClusters ?? []).some((d) => d.providerId === providerId);

/** The record's own cluster as it was when this request gave it up (a FAILED description), if it did. */
export const discardedFailure = (record: ClusterRecord): ClusterDescription | undefined => {
  const entry = (record.discardedClusters ?? []).find((d) => d.providerId === record.providerId);
  if (!entry || record.providerId === undefined) return undefined;
  const message = entry.message ?? (entry.reason === 'capacity' ? 'Insufficient capacity' : undefined);
  return {
    providerId: record.providerId,
    clusterName: record.clusterName,
    state: 'FAILED',
    providerStatus: record.providerStatus ?? 'Failed',
    ...(message ? { message } : {}),
    nodes: { current: 0, target: record.nodes?.target ?? 0 },
  };
};

/** The discarded cluster still to be deleted before a new create, if any. */
export const pendingCleanup = (record: ClusterRecord): DiscardedCluster | undefined =>
  (record.discardedClusters ?? []).find((d) => d.goneAt === undefined);

export const sameLocation = (a: ClusterLocation, b: ClusterLocation): boolean =>
  a.provider === 'sagemaker' && b.provider === 'sagemaker'
    ? a.region === b.region
    : a.provider === 'tir' && b.provider === 'tir' && a.projectId === b.projectId && a.location === b.location;

export const landedAt = (p: Placement): ClusterRecord['landed'] =>
  p.provider === 'sagemaker'
    ? { provider: 'sagemaker', region: p.region }
    : { provider: 'tir', projectId: p.projectId, location: p.location };

/** The horizon of a record: set at its first attempt. */
export const horizonOf = (record: ClusterRecord, now: Date): { horizon: Date; horizonSeconds: number } => {
  const horizon = record.retryUntil ? new Date(record.retryUntil) : horizonEnd(requestOf(record).retry, now);
  const from = Date.parse(record.createRequestedAt ?? now.toISOString());
  return { horizon, horizonSeconds: Math.max(1, (horizon.getTime() - from) / 1000) };
};
