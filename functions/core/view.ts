/**
 * What callers see of a record: everything but internal bookkeeping, plus what it costs (`cost`, computed as the
 * record is read: the rate of its instances at on-demand prices, and the spend since READY). The prices are the ones
 * the record carries from the Price List API (`reservedOffers` beside an on-demand figure, ./pricing.ts) when it has
 * them, else the offline table of ./prices.ts; `source` and `asOf` say which.
 */
import type { SageMakerClusterSpec } from './request';
import { PRICE_TABLE_DATE, hourlyPrice } from './prices';
import type { ClusterRecord } from './store';

export interface CostView {
  /** USD per hour of the instances the cluster runs. */
  usdPerHour: number;
  /** USD from readyAt to deletedAt, or to now while the cluster exists. */
  sinceReadyUsd: number;
  /** Where the prices come from. */
  source: string;
  /** When they were read from the Price List API, or the date of the offline table. */
  asOf: string;
}

/** The workflow's own bookkeeping (a parked task token, wake and look times, the announcement's state): never shown. */
type Internal = 'requestHash' | 'parked' | 'checkedAt' | 'wakeAt' | 'announced';

/** Where a parked workflow waits (the record's `parked`, without its task token). */
export interface WaitingView {
  on: 'cluster-event' | 'turn-or-backoff';
  until: string;
  wokenAt?: string;
}

export type ClusterView = Omit<ClusterRecord, Internal> & { cost?: CostView; waiting?: WaitingView };

/** The parked wait of a record still being provisioned, if any. */
const waitingOf = (record: ClusterRecord): WaitingView | undefined => {
  if (!record.parked || !['ACCEPTED', 'CREATING', 'WAITING_FOR_CAPACITY'].includes(record.status)) return undefined;
  const woken = record.wakeAt !== undefined && record.wakeAt >= record.parked.at ? { wokenAt: record.wakeAt } : {};
  return { on: record.parked.purpose === 'poll' ? 'cluster-event' : 'turn-or-backoff', until: record.parked.until, ...woken };
};

const HOUR_MS = 3_600_000;

/** The HyperPod cluster spec the record landed with: its placement's (an alternative may differ), else the request's. */
const specOf = (record: ClusterRecord): SageMakerClusterSpec | undefined => {
  const placed = record.placements?.[record.placement ?? 0];
  if (placed?.provider === 'sagemaker') return placed.cluster;
  return (record.request as { cluster?: SageMakerClusterSpec }).cluster;
};

/** The instances a cluster runs, by type: each group's reported types and counts, else its type and running (or target) count. */
const instancesOf = (record: ClusterRecord): Array<{ type: string; count: number }> | undefined => {
  const groups = (specOf(record)?.InstanceGroups ?? []) as Array<{
    InstanceGroupName?: string;
    InstanceType?: string;
    InstanceCount?: number;
  }>;
  if (record.groups?.length) {
    const out: Array<{ type: string; count: number }> = [];
    for (const g of record.groups) {
      if (g.instanceTypes?.length) out.push(...g.instanceTypes);
      else {
        const type = groups.find((s) => s.InstanceGroupName === g.name)?.InstanceType;
        if (!type) return undefined;
        out.push({ type, count: g.current });
      }
    }
    return out;
  }
  const out = groups.map((g) => ({ type: g.InstanceType ?? '', count: g.InstanceCount ?? 0 }));
  return out.length && out.every((g) => g.type) ? out : undefined;
};

/**
 * The cost of a record at `now`: only once it was READY (the spend counted from readyAt), on HyperPod, when every
 * instance type it runs has a price in its region; otherwise undefined (the console says "no price").
 */
export const costOf = (record: ClusterRecord, now: Date): CostView | undefined => {
  if (!record.readyAt || record.provider !== 'sagemaker') return undefined;
  const region = record.landed?.provider === 'sagemaker' ? record.landed.region : record.region;
  const instances = instancesOf(record);
  if (!region || !instances) return undefined;
  let usdPerHour = 0;
  let source: string | undefined;
  let asOf: string | undefined;
  for (const { type, count } of instances) {
    const listed = listedPriceOf(record, region, type);
    const table = listed ? undefined : hourlyPrice({ provider: 'hyperpod', region, instanceType: type });
    const price = listed ?? (table ? { ...table, source: `offline fallback: ${table.source}`, asOf: PRICE_TABLE_DATE } : undefined);
    if (!price) return undefined;
    usdPerHour += price.usdPerHour * count;
    source ??= price.source;
    asOf ??= price.asOf;
  }
  const end = record.deletedAt ? Date.parse(record.deletedAt) : now.getTime();
  const hours = Math.max(0, end - Date.parse(record.readyAt)) / HOUR_MS;
  const cents = (usd: number) => Math.round(usd * 100) / 100;
  return { usdPerHour: cents(usdPerHour), sinceReadyUsd: cents(usdPerHour * hours), source: source ?? '', asOf: asOf ?? '' };
};

/**
 * The Price List API's hourly price of a type that the record's reserved-capacity suggestions carry (their on-demand
 * figure is that price × instances × hours), when one was read for the region.
 */
const listedPriceOf = (
  record: ClusterRecord,
  region: string,
  type: string,
): { usdPerHour: number; source: string; asOf: string } | undefined => {
  const s = record.reservedOffers?.suggestions.find(
    (x) =>
      x.instanceType === type &&
      x.where === `sagemaker ${region}` &&
      x.onDemand?.source.startsWith('AWS Price List Query API') &&
      x.instanceCount > 0 &&
      x.durationHours > 0,
  );
  if (!s?.onDemand) return undefined;
  return { usdPerHour: s.onDemand.usd / (s.instanceCount * s.durationHours), source: s.onDemand.source, asOf: s.onDemand.asOf };
};

/** The record as callers see it, its cost as of `now` (the time of the answer). */
export const recordViewAt = (record: ClusterRecord, now: Date): ClusterView => {
  const { requestHash: _hash, parked: _parked, checkedAt: _checked, wakeAt: _wake, announced: _announced, ...view } = record;
  const cost = costOf(record, now);
  const waiting = waitingOf(record);
  return { ...view, ...(cost ? { cost } : {}), ...(waiting ? { waiting } : {}) };
};

/** The record as callers see it now (one argument, so `items.map(recordView)` stays right). */
export const recordView = (record: ClusterRecord): ClusterView => recordViewAt(record, new Date());
