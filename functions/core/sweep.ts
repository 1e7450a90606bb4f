/**
 * The orphan sweeper: nothing orphaned. Every cluster at the providers that carries this deployment's name
 * (`provisioner:deployment`; TIR: the owner marker) is matched with the record of the request it names:
 *
 *   - a leftover (its record is DELETED or FAILED, or the record's cluster is another one: a discarded cluster, or one
 *     the record lost track of) is deleted once the grace period has passed since both the record's last change and
 *     the cluster's creation;
 *   - an orphan (it names no request, or a request no record has) is reported, as the `Orphan Cluster Found` event,
 *     and never deleted: nothing proves it is unwanted;
 *   - a cluster its record still owns, or one a request still creating may adopt (in flight), is left alone.
 *
 * A cluster without this deployment's name (TIR: its owner marker, or an id a record holds) is never listed, so never
 * touched. It looks in every allowed HyperPod region and every TIR project and location any record names. Run every hour when deployed, at start and on an
 * interval by the local stack, and as a dry run by GET /orphans (`provision orphans`), which lists and does nothing.
 */
import { describeError, ClusterNotFoundError } from './errors';
import { DETAIL_TYPES, eventEntry, type EventEntry, type EventPublisher } from './events';
import type { ClusterLocation, ClusterProvider, OwnedCluster } from './provider';
import type { ProviderName } from './request';
import type { ClusterRecord, ClusterStatus, ClusterStore } from './store';

export interface SweepDeps {
  store: ClusterStore;
  provider(name: ProviderName): ClusterProvider;
  /** This deployment's name, as its clusters carry it. */
  deployment: string;
  /** The HyperPod regions to look in. */
  regions: readonly string[];
  /** A leftover is deleted this long after its record's last change and its creation. Default 1800 (30 min). */
  graceSeconds?: number;
  /** Where the orphans are reported (not needed for a dry run). */
  events?: EventPublisher;
  eventBusName?: string;
  now?: () => Date;
}

export const DEFAULT_SWEEP_GRACE_SECONDS = 1800;

/**
 * What a cluster is to this deployment. `orphan` and `leftover` are what GET /orphans lists; the others are left
 * alone: `owned` (its record's cluster, the record not final), `in-flight` (a request still creating may adopt it or
 * clean it up itself), `deleting` (the provider is deleting it already).
 */
export type SweepFinding = 'orphan' | 'leftover' | 'owned' | 'in-flight' | 'deleting';

/** What the sweep did about it: a dry run only ever answers `none`. */
export type SweepAction = 'deleted' | 'reported' | 'grace' | 'none' | 'delete-failed';

export interface SweepItem {
  location: ClusterLocation;
  clusterName: string;
  providerId: string;
  /** The requestId the cluster names. */
  requestId?: string;
  providerStatus: string;
  createdAt?: string;
  finding: SweepFinding;
  /** The status of the record the cluster names. */
  recordStatus?: ClusterStatus;
  reason: string;
  action: SweepAction;
  /** A leftover: when the grace period ends (it is deleted at the first sweep after). */
  dueAt?: string;
  /** delete-failed: why. */
  error?: { name: string; message: string };
}

export interface SweepReport {
  /** The locations looked in. */
  locations: ClusterLocation[];
  /** Every cluster of this deployment found, whatever was done about it. */
  items: SweepItem[];
  /** Locations that could not be listed (the others were swept anyway). */
  failures: Array<{ location: ClusterLocation; error: { name: string; message: string } }>;
}

/** The detail of `Orphan Cluster Found` (functions/core/event-schemas/orphan-cluster-found.schema.json). */
export interface OrphanEventDetail {
  provider: ProviderName;
  region?: string;
  projectId?: number;
  location?: string;
  clusterName: string;
  providerId: string;
  /** The requestId the cluster names, which no record has. */
  requestId?: string;
  providerStatus: string;
  createdAt?: string;
  deployment: string;
  reason: string;
  foundAt: string;
}

const FINAL: readonly ClusterStatus[] = ['DELETED', 'FAILED'];
/** A record in these statuses may still adopt a cluster of its name, or delete one it discarded, by itself. */
const CREATING: readonly ClusterStatus[] = ['SCHEDULED', 'ACCEPTED', 'CREATING', 'WAITING_FOR_CAPACITY'];

/** A TIR place as a record or an alternative of its request names it, when it names one. */
const tirPlace = (value: unknown): ClusterLocation | undefined => {
  const place = value as { projectId?: unknown; location?: unknown; activeIam?: unknown } | null;
  if (!place || typeof place !== 'object' || typeof place.projectId !== 'number' || typeof place.location !== 'string') return undefined;
  return {
    provider: 'tir',
    projectId: place.projectId,
    location: place.location,
    ...(typeof place.activeIam === 'number' ? { activeIam: place.activeIam } : {}),
  };
};

/** The TIR places a record may have created clusters in: its own, and those of its request's alternatives. */
const tirPlacesOf = (record: ClusterRecord): ClusterLocation[] => {
  const alternatives = (record.request as { alternatives?: unknown }).alternatives;
  const others = Array.isArray(alternatives) ? alternatives.filter((a) => (a as { provider?: unknown })?.provider === 'tir') : [];
  return [tirPlace(record), ...others.map(tirPlace)].filter((place): place is ClusterLocation => place !== undefined);
};

/**
 * One read of every record: the locations to look in (every HyperPod region allowed, and every distinct TIR project /
 * location / IAM any record names) and the clusters the records hold (provider id -> requestId: the record's cluster
 * and the ones it discarded), which prove ownership where the provider hands no mark back (TIR).
 */
const scanRecords = async (
  deps: Pick<SweepDeps, 'store' | 'regions'>,
): Promise<{ locations: ClusterLocation[]; recorded: Map<string, string> }> => {
  const locations: ClusterLocation[] = [...new Set(deps.regions)].map((region) => ({ provider: 'sagemaker', region }));
  const recorded = new Map<string, string>();
  const seen = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await deps.store.list({ limit: 100, ...(cursor ? { cursor } : {}) });
    for (const record of page.items) {
      for (const id of [record.providerId, ...(record.discardedClusters ?? []).map((d) => d.providerId)]) {
        if (id) recorded.set(id, record.requestId);
      }
    }
    for (const place of page.items.flatMap(tirPlacesOf)) {
      const key = JSON.stringify(place);
      if (seen.has(key)) continue;
      seen.add(key);
      locations.push(place);
    }
    cursor = page.cursor;
  } while (cursor);
  return { locations, recorded };
};

/** Every HyperPod region allowed, and every distinct TIR project / location / IAM any record names. */
export const sweepLocations = async (deps: Pick<SweepDeps, 'store' | 'regions'>): Promise<ClusterLocation[]> =>
  (await scanRecords(deps)).locations;

type Verdict = Pick<SweepItem, 'finding' | 'reason'> & { record?: ClusterRecord };

/** What the cluster is to the record it names. */
const judge = async (store: ClusterStore, cluster: OwnedCluster): Promise<Verdict> => {
  if (cluster.deleting) return { finding: 'deleting', reason: `the provider is deleting it (${cluster.providerStatus})` };
  if (cluster.requestId === undefined) return { finding: 'orphan', reason: 'it names no request' };
  const record = await store.get(cluster.requestId);
  if (!record) return { finding: 'orphan', reason: `no record of request ${cluster.requestId}` };
  const cancelled = record.cancelledAt !== undefined ? ' (cancelled)' : '';
  if (record.providerId === cluster.providerId) {
    return FINAL.includes(record.status)
      ? { finding: 'leftover', reason: `its request is ${record.status}${cancelled}`, record }
      : { finding: 'owned', reason: `the cluster of its request (${record.status})`, record };
  }
  const discarded = (record.discardedClusters ?? []).some((d) => d.providerId === cluster.providerId);
  if (discarded) return { finding: 'leftover', reason: 'discarded by its request', record };
  if (CREATING.includes(record.status)) {
    return { finding: 'in-flight', reason: `its request is ${record.status} and may adopt it (create answer not recorded)`, record };
  }
  return {
    finding: 'leftover',
    reason: `its request is ${record.status}${cancelled} with ${record.providerId ? `cluster ${record.providerId}` : 'no cluster'}`,
    record,
  };
};

const locationFields = (location: ClusterLocation): Pick<OrphanEventDetail, 'region' | 'projectId' | 'location'> =>
  location.provider === 'sagemaker' ? { region: location.region } : { projectId: location.projectId, location: location.location };

export const orphanEventDetail = (item: SweepItem, deployment: string, foundAt: string): OrphanEventDetail => ({
  provider: item.location.provider,
  ...locationFields(item.location),
  clusterName: item.clusterName,
  providerId: item.providerId,
  ...(item.requestId !== undefined ? { requestId: item.requestId } : {}),
  providerStatus: item.providerStatus,
  ...(item.createdAt !== undefined ? { createdAt: item.createdAt } : {}),
  deployment,
  reason: item.reason,
  foundAt,
});

/**
 * Sweeps every location once. With `dryRun` it only lists: nothing is deleted and nothing is reported. A location
 * that cannot be listed is recorded in `failures` and the others are swept; a delete refused is `delete-failed` and
 * tried again at the next sweep. Safe to run twice (deleting a cluster being deleted is accepted; gone is gone).
 */
export const sweep = async (deps: SweepDeps, options: { dryRun?: boolean } = {}): Promise<SweepReport> => {
  const now = (deps.now ?? (() => new Date()))();
  const graceMs = (deps.graceSeconds ?? DEFAULT_SWEEP_GRACE_SECONDS) * 1000;
  const { locations, recorded } = await scanRecords(deps);
  const report: SweepReport = { locations, items: [], failures: [] };
  const orphans: EventEntry[] = [];

  for (const location of locations) {
    const provider = deps.provider(location.provider);
    let clusters: OwnedCluster[];
    try {
      clusters = await provider.listOwned(location, recorded);
    } catch (err) {
      const { name, message } = describeError(err);
      report.failures.push({ location, error: { name, message } });
      continue;
    }
    for (const cluster of clusters) {
      const verdict = await judge(deps.store, cluster);
      const item: SweepItem = {
        location,
        clusterName: cluster.clusterName,
        providerId: cluster.providerId,
        ...(cluster.requestId !== undefined ? { requestId: cluster.requestId } : {}),
        providerStatus: cluster.providerStatus,
        ...(cluster.createdAt !== undefined ? { createdAt: cluster.createdAt } : {}),
        finding: verdict.finding,
        ...(verdict.record ? { recordStatus: verdict.record.status } : {}),
        reason: verdict.reason,
        action: 'none',
      };
      if (verdict.finding === 'leftover' && verdict.record) {
        const since = Math.max(Date.parse(verdict.record.updatedAt), cluster.createdAt ? Date.parse(cluster.createdAt) : 0);
        const due = new Date(since + graceMs);
        item.dueAt = due.toISOString();
        if (!options.dryRun) {
          if (due.getTime() > now.getTime()) item.action = 'grace';
          else {
            try {
              await provider.delete({ location, clusterName: cluster.clusterName, providerId: cluster.providerId });
              item.action = 'deleted';
            } catch (err) {
              if (err instanceof ClusterNotFoundError) item.action = 'deleted';
              else {
                const { name, message } = describeError(err);
                item.action = 'delete-failed';
                item.error = { name, message };
              }
            }
          }
        }
      }
      if (verdict.finding === 'orphan' && !options.dryRun) {
        orphans.push(eventEntry(deps.eventBusName ?? '', DETAIL_TYPES.orphan, orphanEventDetail(item, deps.deployment, now.toISOString())));
        item.action = 'reported';
      }
      report.items.push(item);
    }
  }
  if (orphans.length > 0) {
    if (!deps.events || !deps.eventBusName) throw new TypeError('sweep: orphans were found but no event publisher was given');
    await deps.events.publish(orphans);
  }
  return report;
};
