/**
 * Reserved capacity while a request waits. A request that has waited for capacity longer than the deployment's
 * setting (`ENV.reservedOffersAfterSeconds`, 30 minutes by default) looks up HyperPod training-plan offerings
 * (SageMaker `SearchTrainingPlanOfferings`, read-only: functions/adapters/training-plans-aws.ts) for each instance type
 * and count of its HyperPod placements, starting between now and the end of its retry horizon (for its deleteAfter in
 * whole days, else one day: training plans are sold by the day), and records the best few as
 * suggestions on the record (`reservedOffers`): offering id, start, duration, upfront fee, Availability Zone, and the
 * on-demand price of the same instances for the same hours beside it (./pricing.ts), each figure with its source.
 * Nothing is ever bought: buying is CreateTrainingPlan with the offering id, a decision (and a fee) left to the user.
 * The lookup is repeated at most once per setting period while the request waits.
 */
import type { Placement } from './placements';
import { whereOf } from './placements';
import type { PriceBook } from './pricing';

/** One offering as SearchTrainingPlanOfferings answers it, flattened (its first reserved-capacity offering). */
export interface TrainingPlanOfferingFound {
  offeringId: string;
  instanceType: string;
  instanceCount: number;
  start?: string;
  end?: string;
  durationHours: number;
  /** The upfront fee, as a number (the API answers a decimal string). */
  upfrontFee?: number;
  currency?: string;
  availabilityZone?: string;
}

export interface OfferingQuery {
  instanceType: string;
  instanceCount: number;
  startTimeAfter: Date;
  endTimeBefore: Date;
  /** Whole hours wanted, when the request says (its deleteAfter). */
  durationHours?: number;
}

/** SearchTrainingPlanOfferings of a region (read-only). Throws when SageMaker cannot be read. */
export interface TrainingPlanOfferings {
  search(region: string, query: OfferingQuery): Promise<TrainingPlanOfferingFound[]>;
}

export interface ReservedSuggestion extends TrainingPlanOfferingFound {
  /** The placement it is for (0: the request's own) and where that is. */
  placement: number;
  where: string;
  /** Where the offering comes from, and when it was read. */
  source: string;
  asOf: string;
  /** The same instances for the same hours at on-demand prices, with the price's source and date, when known. */
  onDemand?: { usd: number; source: string; asOf: string };
}

export interface ReservedOffers {
  /** When the offerings were looked up. */
  at: string;
  /** Since when the request had waited for capacity. */
  waitingSince: string;
  /** The best few, earliest start first, then lowest fee. Empty: SageMaker offered nothing for the horizon. */
  suggestions: ReservedSuggestion[];
  /** Placements the lookup could not read (access denied, unavailable), in words. */
  note?: string;
}

export const DEFAULT_RESERVED_OFFERS_AFTER_SECONDS = 1800;
/** Suggestions kept per request. */
export const MAX_SUGGESTIONS = 3;

export interface ReservedOfferDeps {
  offerings: TrainingPlanOfferings;
  /** Wait this long for capacity before looking (and between two looks). */
  afterSeconds: number;
  prices?: PriceBook;
}

/** Since when a record has waited for capacity: its first entry into WAITING_FOR_CAPACITY, if any. */
export const waitingSince = (history: ReadonlyArray<{ to: string; at: string }>): string | undefined =>
  history.find((h) => h.to === 'WAITING_FOR_CAPACITY')?.at;

/** Whether it is time to look (again): waited long enough, and not looked within the last period. */
export const dueForOffers = (
  since: string | undefined,
  last: ReservedOffers | undefined,
  now: Date,
  afterSeconds: number,
): since is string => {
  if (!since) return false;
  const waited = (now.getTime() - Date.parse(since)) / 1000;
  if (waited < afterSeconds) return false;
  return !last || (now.getTime() - Date.parse(last.at)) / 1000 >= afterSeconds;
};

const HOUR_MS = 3_600_000;

/** The instance types and counts of a HyperPod placement (a flexible group counts as its first type). */
const groupsOf = (p: Placement): Array<{ type: string; count: number }> => {
  if (p.provider !== 'sagemaker') return [];
  const byType = new Map<string, number>();
  for (const g of p.cluster.InstanceGroups ?? []) {
    const type = g.InstanceType ?? g.InstanceRequirements?.InstanceTypes[0];
    if (type) byType.set(type, (byType.get(type) ?? 0) + g.InstanceCount);
  }
  return [...byType].map(([type, count]) => ({ type, count }));
};

const round2 = (n: number): number => Math.round(n * 100) / 100;

/**
 * Looks up the offerings for every HyperPod placement's instance types and counts, from `now` to `horizon`, and
 * answers the best few. Controller-sized groups are included (a plan reserves each type on its own).
 */
export const findReservedOffers = async (
  deps: ReservedOfferDeps,
  input: { placements: readonly Placement[]; now: Date; horizon: Date; since: string; durationHours?: number },
): Promise<ReservedOffers> => {
  const { placements, now, horizon, since } = input;
  // Training plans are sold in whole days (1 to 182): the request's deleteAfter rounded up to days, else one day.
  const durationHours = Math.min(182, Math.max(1, Math.ceil((input.durationHours ?? 24) / 24))) * 24;
  // An offering helps when it starts before the request would give up (its horizon), and runs its whole length.
  const endTimeBefore = new Date(horizon.getTime() + durationHours * HOUR_MS);
  const at = now.toISOString();
  const found: ReservedSuggestion[] = [];
  const unread: string[] = [];
  const seen = new Set<string>();
  for (const [index, p] of placements.entries()) {
    if (p.provider !== 'sagemaker') continue;
    for (const { type, count } of groupsOf(p)) {
      const key = `${p.region}#${type}#${count}`;
      if (seen.has(key)) continue;
      seen.add(key);
      let offers: TrainingPlanOfferingFound[];
      try {
        offers = await deps.offerings.search(p.region, {
          instanceType: type,
          instanceCount: count,
          startTimeAfter: now,
          endTimeBefore,
          durationHours,
        });
      } catch (err) {
        unread.push(`${whereOf(p)} ${type}: ${(err as Error).name}`);
        continue;
      }
      const price = deps.prices ? await deps.prices.hourly(p.region, type).catch(() => undefined) : undefined;
      for (const offer of offers) {
        found.push({
          ...offer,
          placement: index,
          where: whereOf(p),
          source: `SageMaker SearchTrainingPlanOfferings, ${p.region}`,
          asOf: at,
          ...(price
            ? {
                onDemand: {
                  usd: round2(price.usdPerHour * offer.instanceCount * offer.durationHours),
                  source: price.source,
                  asOf: price.asOf,
                },
              }
            : {}),
        });
      }
    }
  }
  const startOf = (s: ReservedSuggestion): number => (s.start ? Date.parse(s.start) : now.getTime());
  const best = found
    .filter((s) => startOf(s) <= horizon.getTime() && startOf(s) + s.durationHours * HOUR_MS > now.getTime())
    .sort((a, b) => startOf(a) - startOf(b) || (a.upfrontFee ?? Infinity) - (b.upfrontFee ?? Infinity))
    .slice(0, MAX_SUGGESTIONS);
  return {
    at,
    waitingSince: since,
    suggestions: best,
    ...(unread.length > 0 ? { note: `not read: ${unread.join('; ')}` } : {}),
  };
};

/**
 * The record patch of a wait: fresh suggestions when the request is due for a look (./offers.ts `dueForOffers`), else
 * nothing. Never throws: a failed lookup leaves the wait as it is (`onWarning` hears of it).
 */
export const reservedOffersPatch = async (
  deps: ReservedOfferDeps | undefined,
  input: {
    history: ReadonlyArray<{ to: string; at: string }>;
    placements: readonly Placement[];
    last?: ReservedOffers;
    now: Date;
    horizon: Date;
    deleteAfterSeconds?: number;
  },
  onWarning?: (message: string, details: Record<string, unknown>) => void,
): Promise<{ reservedOffers?: ReservedOffers }> => {
  if (!deps) return {};
  const since = waitingSince(input.history);
  if (!dueForOffers(since, input.last, input.now, deps.afterSeconds)) return {};
  if (!input.placements.some((p) => p.provider === 'sagemaker')) return {};
  try {
    const reservedOffers = await findReservedOffers(deps, {
      placements: input.placements,
      now: input.now,
      horizon: input.horizon,
      since,
      ...(input.deleteAfterSeconds ? { durationHours: Math.max(1, Math.ceil(input.deleteAfterSeconds / 3600)) } : {}),
    });
    return { reservedOffers };
  } catch (err) {
    const { name, message } = err as Error;
    onWarning?.('Could not look up training-plan offerings', { error: { name, message } });
    return {};
  }
};
